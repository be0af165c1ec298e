"""Test-time augmentation: a classifier's probabilities averaged over N deterministic views of
each image (the image itself first, then flips where the data allows them, centre crops,
one-pixel shifts for digits), as timm's and fastai's ``tta``.

Photos (ImageNet models): the image, its mirror, the 90 % and 80 % centre crops (scaled back
up) and their mirrors; an ImageNet model fine-tuned on images that must not be mirrored (grey
images such as digits, or ``mirror=False``: ``run.json``) gets centre crops only. Digits (MNIST
models) are never mirrored: the image, shifted one pixel right, left, down and up, then the
90 % centre crop.

Example:
    >>> views(batch, "imagenet", 4).shape          # (4, batch, height, width, channels)
    (4, 32, 224, 224, 3)
    >>> probabilities = averaged(model_call, batch, "imagenet", 4)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from zoo.errors import InputError

#: (mirror, centre-crop fraction, (down, right) shift) of each view, in the order they are used.
PHOTO_VIEWS = (
    (False, 1.0, (0, 0)),
    (True, 1.0, (0, 0)),
    (False, 0.9, (0, 0)),
    (True, 0.9, (0, 0)),
    (False, 0.8, (0, 0)),
    (True, 0.8, (0, 0)),
)
#: Photos that must not be mirrored (a fine-tune on grey images, e.g. digits, or one run with
#: ``mirror=False``): centre crops only.
UNMIRRORED_VIEWS = (
    (False, 1.0, (0, 0)),
    (False, 0.9, (0, 0)),
    (False, 0.8, (0, 0)),
    (False, 0.95, (0, 0)),
    (False, 0.85, (0, 0)),
    (False, 0.75, (0, 0)),
)
DIGIT_VIEWS = (
    (False, 1.0, (0, 0)),
    (False, 1.0, (0, 1)),
    (False, 1.0, (0, -1)),
    (False, 1.0, (1, 0)),
    (False, 1.0, (-1, 0)),
    (False, 0.9, (0, 0)),
)


def view_table(kind: str) -> tuple[tuple[bool, float, tuple[int, int]], ...]:
    """The views of a kind of input (``view_kind``)."""
    return {"imagenet": PHOTO_VIEWS, "unmirrored": UNMIRRORED_VIEWS}.get(kind, DIGIT_VIEWS)


def view_kind(spec: Any) -> str:
    """``imagenet`` (photos: mirrored views too), ``unmirrored`` (an ImageNet model fine-tuned
    on data that must not be mirrored: its ``run.json`` says ``mirror`` false) or ``mnist``."""
    if spec.dataset != "imagenet":
        return "mnist"
    weights = getattr(spec, "weights", None)
    if weights is not None and weights.source == "run":
        from pathlib import Path

        from zoo import run_dir

        if run_dir.read_run(Path(weights.file).parent).get("mirror") is False:
            return "unmirrored"
    return "imagenet"


def check_tta(tta: Any, spec: Any) -> int:
    """``tta`` as a whole number of views (0 or 1: none); an ``InputError`` for a bad count or
    for a model whose input is not an image."""
    if isinstance(tta, bool) or not isinstance(tta, int) or tta < 0:
        raise InputError(f"tta must be a whole number of views >= 0, received {tta!r}")
    if tta <= 1:
        return tta
    if len(spec.input_shape) != 3 or spec.dataset not in ("imagenet", "mnist"):
        raise InputError(
            f"tta needs a model with image input (an ImageNet or MNIST classifier); "
            f"{spec.name} takes {tuple(spec.input_shape)} ({spec.dataset})"
        )
    most = len(view_table(view_kind(spec)))
    if tta > most:
        raise InputError(f"tta for {spec.dataset} models is at most {most} views, received {tta}")
    return tta


def _crop_and_scale(batch: np.ndarray, fraction: float) -> np.ndarray:
    if fraction >= 1.0:
        return batch
    from PIL import Image

    height, width = batch.shape[1:3]
    top = int(round(height * (1 - fraction) / 2))
    left = int(round(width * (1 - fraction) / 2))
    out = np.empty(batch.shape, dtype=np.float32)
    for i, image in enumerate(batch):
        crop = np.asarray(image[top : height - top, left : width - left], dtype=np.float32)
        channels = [
            np.asarray(Image.fromarray(crop[..., c]).resize((width, height), Image.BILINEAR))
            for c in range(crop.shape[-1])
        ]
        out[i] = np.stack(channels, axis=-1)
    return out


def _shift(batch: np.ndarray, down: int, right: int) -> np.ndarray:
    """Shifted by whole pixels; what comes in at the border is 0 (a digit's background)."""
    if not down and not right:
        return batch
    out = np.zeros_like(batch)
    height, width = batch.shape[1:3]
    rows_to = slice(max(down, 0), height + min(down, 0))
    rows_from = slice(max(-down, 0), height + min(-down, 0))
    cols_to = slice(max(right, 0), width + min(right, 0))
    cols_from = slice(max(-right, 0), width + min(-right, 0))
    out[:, rows_to, cols_to] = batch[:, rows_from, cols_from]
    return out


def views(batch: np.ndarray, kind: str, count: int) -> np.ndarray:
    """The first ``count`` views of each image of ``batch`` (N, H, W, C raw pixels):
    an array (count, N, H, W, C), float32."""
    batch = np.asarray(batch, dtype=np.float32)
    result = []
    for mirror, fraction, (down, right) in view_table(kind)[: max(count, 1)]:
        view = batch[:, :, ::-1] if mirror else batch
        result.append(_shift(_crop_and_scale(view, fraction), down, right))
    return np.stack(result)


def averaged(
    call: Callable[[np.ndarray], np.ndarray], batch: np.ndarray, kind: str, count: int
) -> np.ndarray:
    """The mean of ``call``'s outputs (probabilities) over ``count`` views of ``batch``; just
    ``call(batch)`` for a count of 0 or 1."""
    if count <= 1:
        return np.asarray(call(batch), dtype=np.float64)
    outputs = [np.asarray(call(view), dtype=np.float64) for view in views(batch, kind, count)]
    return np.mean(outputs, axis=0)
