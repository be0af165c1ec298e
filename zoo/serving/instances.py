"""The images of one request, whatever protocol brought them: each instance is raw pixels, an
encoded image, or the reason it is neither. Decoding runs in a thread pool; the good instances
go to the engine as one batch, and each bad one keeps its reason, so that one broken image never
loses the answers of the others.

Example:
    >>> items = [Instance(encoded=png_bytes), Instance(error="instance 1: not base64")]
    >>> probabilities, errors = await run_instances(served, items, pool)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from zoo.errors import InputError


class RequestError(Exception):
    """A request zoo cannot answer: ``status`` (400, 404, 413, 503, ...) and a message for the
    protocol's error body; ``headers`` go with the answer (``Retry-After``)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass
class Instance:
    """One image of a request: ``pixels`` (H, W, C numbers), ``encoded`` (file bytes) or
    ``error`` (why it is neither)."""

    pixels: np.ndarray | None = None
    encoded: bytes | None = None
    error: str | None = None


def from_b64(text: Any, where: str) -> Instance:
    """An ``{"b64": ...}`` value (or a bare base64 string) as an encoded-image instance."""
    if not isinstance(text, str):
        return Instance(error=f"{where}: b64 must be a string, received {type(text).__name__}")
    try:
        return Instance(encoded=base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError) as error:
        return Instance(error=f"{where}: not valid base64 ({error})")


def from_pixels(value: Any, where: str) -> Instance:
    """A nested list of numbers (one image, H x W x C) as a pixel instance."""
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as error:
        return Instance(error=f"{where}: pixels must be a nested list of numbers ({error})")
    return Instance(pixels=array)


def _prepare(served, instance: Instance, where: str) -> np.ndarray:
    if instance.encoded is not None:
        return served.decode(instance.encoded, where)
    return served.check_pixels(instance.pixels[np.newaxis], where)[0]


async def prepared(
    served, instances: list[Instance], pool: Executor
) -> tuple[np.ndarray | None, list[int], dict[int, str]]:
    """(the batch of good instances, their indices, {index: reason} of the bad ones); encoded
    images are decoded in ``pool``."""
    loop = asyncio.get_running_loop()
    errors: dict[int, str] = {}
    jobs = {}
    for index, instance in enumerate(instances):
        if instance.error is not None:
            errors[index] = instance.error
        else:
            where = f"instance {index}"
            jobs[index] = loop.run_in_executor(pool, _prepare, served, instance, where)
    rows, good = [], []
    for index, job in jobs.items():
        try:
            rows.append(await job)
            good.append(index)
        except InputError as error:
            errors[index] = str(error)
    batch = np.stack(rows) if rows else None
    return batch, good, errors


async def run_instances(
    served, instances: list[Instance], pool: Executor
) -> tuple[list[np.ndarray | None], dict[int, str]]:
    """Probabilities per instance (None where it failed) and the reasons of those that did.

    Raises:
        RequestError: no instances (400), or the queue is full (503 with ``Retry-After``).
    """
    from zoo.serving.batcher import QueueFull

    if not instances:
        raise RequestError(400, "the request holds no instances")
    served.batcher.expect()
    try:
        batch, good, errors = await prepared(served, instances, pool)
        future = None if batch is None else served.submit(batch)
    except QueueFull as error:
        raise RequestError(
            503, f"the server is busy ({error}): try again", {"Retry-After": "1"}
        ) from None
    finally:
        served.batcher.arrived()
    results: list[np.ndarray | None] = [None] * len(instances)
    if future is not None:
        outputs = await asyncio.wrap_future(future)
        for index, row in zip(good, outputs, strict=True):
            results[index] = row
    return results, errors


def error_text(errors: dict[int, str], count: int) -> str:
    """One message for the failed instances of a request of ``count``."""
    listed = "; ".join(errors[index] for index in sorted(errors))
    return f"{len(errors)} of {count} instances failed: {listed}"
