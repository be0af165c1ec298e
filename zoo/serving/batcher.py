"""Dynamic batching: requests arriving together are gathered into one engine call.

Each model has one worker thread. A request hands it a batch of prepared images and gets a
``concurrent.futures.Future`` for its rows of the output. The worker takes the oldest waiting
request, then keeps gathering until ``max_batch`` images are waiting or ``timeout`` seconds have
passed since it took the first, runs them as one batch and hands each request its own rows. The
queue is bounded: past ``max_queue`` waiting images a request is refused at once (``QueueFull``),
never left in an unbounded backlog.

The worker waits only for requests it knows are coming: a request says so (``expect``) when it
arrives, before its images are decoded, and ``arrived`` once it is queued or has failed. With
nothing on its way, a batch runs at once: an idle server answers one request without waiting
out the timeout, and a busy one still gathers full batches.

Example:
    >>> batcher = DynamicBatcher(runner.run, max_batch=32, timeout=0.005, max_queue=256)
    >>> batcher.submit(np.zeros((2, 28, 28, 1), np.uint8)).result().shape
    (2, 10)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np


class QueueFull(Exception):
    """More images are waiting than the queue holds: answer 503 and come back later."""


@dataclass
class _Request:
    images: np.ndarray
    future: Future = field(default_factory=Future)


@dataclass
class BatchStats:
    """What the worker has done: engine calls, the images they ran, the requests served."""

    calls: int = 0
    images: int = 0
    requests: int = 0


class DynamicBatcher:
    """Gathers concurrent requests into engine calls of up to ``max_batch`` images (one request
    larger than that goes alone), waiting at most ``timeout`` seconds for the batch to fill.
    ``on_batch(size, seconds)``, when given, hears of every engine call."""

    def __init__(
        self,
        run: Callable[[np.ndarray], np.ndarray],
        *,
        max_batch: int = 32,
        timeout: float = 0.005,
        max_queue: int = 256,
        on_batch: Callable[[int, float], None] | None = None,
        name: str = "batcher",
    ):
        if max_batch < 1 or max_queue < 1 or timeout < 0:
            raise ValueError(
                f"max_batch and max_queue must be at least 1 and timeout at least 0, received "
                f"{max_batch}, {max_queue}, {timeout}"
            )
        self.run, self.max_batch, self.timeout, self.max_queue = run, max_batch, timeout, max_queue
        self.on_batch = on_batch
        self.stats = BatchStats()
        self._waiting: deque[_Request] = deque()
        self._queued_images = 0
        self._arriving = 0
        self._lock = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    @property
    def depth(self) -> int:
        """Images waiting for the engine now."""
        return self._queued_images

    def submit(self, images: np.ndarray) -> Future:
        """Queue ``images`` (a batch); the future's result is their rows of the output.

        Raises:
            QueueFull: the queue holds ``max_queue`` images already (or this batch would
                overflow it); nothing was queued.
            RuntimeError: the batcher is closed.
        """
        request = _Request(images)
        with self._lock:
            if self._closed:
                raise RuntimeError("the batcher is closed")
            if self._queued_images and self._queued_images + len(images) > self.max_queue:
                raise QueueFull(
                    f"{self._queued_images} images are waiting (at most {self.max_queue})"
                )
            self._waiting.append(request)
            self._queued_images += len(images)
            self._lock.notify()
        return request.future

    def expect(self) -> None:
        """A request is on its way (its images are being decoded): a batch may wait for it."""
        with self._lock:
            self._arriving += 1

    def arrived(self) -> None:
        """The request ``expect`` announced is queued, or has failed."""
        with self._lock:
            self._arriving -= 1
            self._lock.notify()

    def close(self, wait: bool = True) -> None:
        """Finish what is queued, then stop the worker."""
        with self._lock:
            self._closed = True
            self._lock.notify()
        if wait:
            self._thread.join()

    def _gather(self) -> list[_Request] | None:
        """The next batch's requests, or None once closed with nothing left."""
        with self._lock:
            while not self._waiting:
                if self._closed:
                    return None
                self._lock.wait()
            taken = [self._waiting.popleft()]
            count = len(taken[0].images)
            deadline = time.monotonic() + self.timeout
            while count < self.max_batch:
                if self._waiting:
                    if count + len(self._waiting[0].images) > self.max_batch:
                        break
                    taken.append(self._waiting.popleft())
                    count += len(taken[-1].images)
                    continue
                left = deadline - time.monotonic()
                if left <= 0 or self._closed or not self._arriving:
                    break
                self._lock.wait(left)
            self._queued_images -= count
            return taken

    def _work(self) -> None:
        while (taken := self._gather()) is not None:
            taken = [r for r in taken if r.future.set_running_or_notify_cancel()]
            if not taken:
                continue
            started = time.perf_counter()
            try:
                batch = np.concatenate([r.images for r in taken])
                outputs = self.run(batch)
            except Exception as error:  # noqa: BLE001 - the requests hear of it, the worker goes on
                for request in taken:
                    request.future.set_exception(error)
                continue
            seconds = time.perf_counter() - started
            self.stats.calls += 1
            self.stats.images += len(batch)
            self.stats.requests += len(taken)
            if self.on_batch is not None:
                self.on_batch(len(batch), seconds)
            start = 0
            for request in taken:
                request.future.set_result(outputs[start : start + len(request.images)])
                start += len(request.images)
