"""``zoo.predict``: class probabilities from arrays or image files, and ranked top-k results.

Example:
    >>> probabilities = zoo.predict("mnist_convnet", ["seven.png"])   # (1, 10)
    >>> zoo.inference.prediction.top_k(probabilities[0], 3, zoo.labels.names("mnist"))[0]["label"]
    '7'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zoo import labels as labels_lib
from zoo import registry
from zoo.engines.int8 import check_precision
from zoo.errors import InputError
from zoo.evaluation.tta import averaged, check_tta, view_kind
from zoo.inputs.sources import (
    checked_batch_size,
    find_sources,
    prepare_files,
    prepared_batches,
    report_skipped,
)
from zoo.models import resolve_model
from zoo.spec import ModelSpec


def check_input(spec: ModelSpec, array: np.ndarray) -> np.ndarray:
    """Validate a batch against ``spec``; accept a missing trailing channel axis of size 1."""
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise InputError(f"{spec.name} expects numeric arrays, received dtype {array.dtype}")
    expected = tuple(spec.input_shape)
    accepted = [expected]
    if expected and expected[-1] == 1:
        accepted.append(expected[:-1])
    for shape in accepted:
        if array.ndim == len(shape) + 1 and all(
            want is None or want == got for want, got in zip(shape, array.shape[1:], strict=True)
        ):
            return array if shape == expected else array[..., np.newaxis]
    described = " or ".join(
        "(N, " + ", ".join("H" if d is None else str(d) for d in shape) + ")" for shape in accepted
    )
    raise InputError(
        f"{spec.name} expects a batch of shape {described}; received an array of shape "
        f"{array.shape}"
    )


def _is_file_list(images: Any) -> bool:
    if isinstance(images, (str, Path)):
        return True
    return (
        isinstance(images, Sequence)
        and len(images) > 0
        and all(isinstance(item, (str, Path)) for item in images)
    )


def predict(
    model_or_name: Any,
    images: Any,
    *,
    weights: Any = "default",
    batch_size: int | None = None,
    precision: str | None = None,
    calibration: Any = None,
    tta: int = 0,
) -> np.ndarray:
    """Class probabilities for a batch of images.

    Args:
        model_or_name: a registry name or a model returned by ``zoo.load``.
        images: an array batch of raw pixels (MNIST models: (N, 28, 28) or (N, 28, 28, 1) in
            0..255; ImageNet models: (N, H, W, 3) RGB in 0..255), or images named as
            ``zoo.inputs.sources.find_sources`` takes them: files, a folder (recursive, sorted), a
            glob or a ``.txt`` list; each file is decoded and resized the way the model wants.
        weights: weights to load when a name is given (see ``zoo.load``).
        batch_size: images per forward pass (default 32).
        precision: ``float32`` (default) or ``int8``: the calibrated int8 LiteRT model, made
            once, checked against float32 and cached (``zoo.engines.int8``; needs a name).
        calibration: int8 only: images to calibrate (half) and check (half) on; default zoo's.
        tta: the mean over this many deterministic test-time views of each image (mirror only
            for photos, centre crops, one-pixel shifts for digits: ``zoo.evaluation.tta``);
            0 or 1: the image alone.

    Returns:
        ``np.ndarray`` of shape (N, num_classes).

    Raises:
        InputError: wrong shape or dtype, or a file that is missing or not an image.
        ConversionError: the int8 model failed its parity check.

    Example:
        >>> zoo.predict("mnist_convnet", x_test[:5]).argmax(axis=1)
        array([7, 2, 1, 0, 4])
    """
    batch_size = checked_batch_size(batch_size)
    if check_precision(precision) == "int8":
        return _predict_int8(model_or_name, images, weights, batch_size, calibration)
    model, spec = resolve_model(model_or_name, weights)
    if tta and tta > 1 and spec is None:
        raise InputError("tta needs a registered model (a name, run directory or .keras file)")
    views = check_tta(tta, spec) if spec is not None else 0
    batch = _batch(at_model_size(spec, model), images)
    return averaged(
        lambda view: model.predict(view, batch_size=batch_size, verbose=0),
        batch,
        view_kind(spec) if spec is not None else "",
        views,
    ).astype(np.float32)


def at_model_size(spec: ModelSpec | None, model) -> ModelSpec | None:
    """``spec`` at the input size ``model`` was built for (``zoo.load(..., input_shape=...)``
    builds ImageNet backbones at other sizes), so that its batches are checked and its files
    resized for that size."""
    shape = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else None
    if (
        spec is None
        or shape is None
        or None in shape
        or len(shape) != len(spec.input_shape)
        or shape == tuple(spec.input_shape)
    ):
        return spec
    return dataclasses.replace(spec, input_shape=tuple(int(d) for d in shape))


def _batch(spec: ModelSpec | None, images: Any) -> np.ndarray:
    """``images`` (files as ``find_sources`` takes them, or an array) as one checked batch."""
    if _is_file_list(images):
        if spec is None:
            raise InputError("image files need a registered model (pass its name) to prepare them")
        return prepare_files(spec, find_sources(images).paths)
    batch = np.asarray(images)
    return batch if spec is None else check_input(spec, batch)


def _predict_int8(name: Any, images: Any, weights: Any, batch_size: int, calibration: Any):
    if not isinstance(name, (str, Path)):
        raise InputError("precision='int8' needs a model name or run directory, not a model object")
    spec = registry.get_spec(str(name))
    batch = _batch(spec, images)
    runner = predictions_runner(spec, weights, "litert", precision="int8", calibration=calibration)
    starts = range(0, len(batch), batch_size)
    return np.concatenate([runner.run(batch[start : start + batch_size]) for start in starts])


def top_k(
    probabilities: np.ndarray,
    k: int,
    names: Sequence[str],
    wordnet_ids: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The ``k`` best classes of one probability vector as ranked dicts (with ``wnid`` for
    ImageNet)."""
    order = np.argsort(-probabilities, kind="stable")[:k]
    ranked = []
    for rank, index in enumerate(order, start=1):
        entry = {
            "rank": rank,
            "index": int(index),
            "label": names[index] if index < len(names) else str(index),
            "score": round(float(probabilities[index]), 6),
        }
        if wordnet_ids is not None:
            entry["wnid"] = wordnet_ids[index]
        ranked.append(entry)
    return ranked


class RankedPredictions:
    """A model's probability vectors as the results ``zoo predict --json`` prints: the ``top``
    classes with their labels (and WordNet ids for ImageNet), per file.

    Example:
        >>> RankedPredictions(zoo.get_spec("mnist_convnet"), 1).entry("7.png", probs)["top"]
        [{'rank': 1, 'index': 7, 'label': '7', 'score': 0.999}]
    """

    def __init__(self, spec: ModelSpec, top: int):
        self.name, self.top = spec.name, top
        self.names = labels_lib.names(spec.labels, spec.num_classes)
        self.wordnet_ids = labels_lib.wordnet_ids(spec.labels)

    def ranked(self, probabilities: np.ndarray) -> list[dict[str, Any]]:
        return top_k(np.asarray(probabilities), self.top, self.names, self.wordnet_ids)

    def entry(self, path: str, probabilities: np.ndarray) -> dict[str, Any]:
        """The result of a file the model classified."""
        return {"file": path, "model": self.name, "top": self.ranked(probabilities)}

    def error(self, path: str, reason: str) -> dict[str, Any]:
        """The result of a file that could not be read."""
        return {"file": path, "model": self.name, "error": reason}


def predictions_runner(
    spec: ModelSpec,
    weights: Any,
    runtime: str | None,
    trust: bool = False,
    precision: str | None = None,
    calibration: Any = None,
    images: int | None = None,
    source: str | None = None,
):
    """The runner of ``spec``'s class probabilities (see ``zoo.engines.runtimes.get_runner``); with
    ``source`` (the name or path the user gave) a small first ``auto`` call may prepare the
    fast engine in the background."""
    from zoo.engines.background import request
    from zoo.engines.runtimes import get_runner

    background = None if source is None else request(source, "predictions", weights, trust=trust)
    return get_runner(
        spec,
        output="predictions",
        runtime=runtime,
        weights=weights,
        model_factory=lambda: resolve_model(spec, weights, trust=trust)[0],
        precision=precision,
        calibration=calibration,
        background=background,
        images=images,
    )


def predict_files(
    name: str,
    src: Any,
    *,
    weights: Any = "default",
    top: int = 5,
    batch_size: int | None = None,
    crop_fraction: float | None = None,
    runtime: str | None = None,
    trust: bool = False,
    precision: str | None = None,
    calibration: Any = None,
    tta: int = 0,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """One result per image file, in order: ``{"file", "model", "top": [...]}`` or, for a file
    that cannot be read, ``{"file", "model", "error"}``; the other files are still predicted.

    ``src`` names the images as ``zoo.inputs.sources.find_sources`` takes them: files, a folder
    (recursive), a glob or a ``.txt`` list, or a list of those. Files are decoded and predicted
    ``batch_size`` (default 32) at a time, on ``runtime`` (see ``zoo.engines.runtimes``; a cached
    ONNX/LiteRT artefact runs without importing TensorFlow). ``name`` may be a ``.keras``
    file of yours; ``trust`` loads one that carries code (see ``zoo.user_files``).
    ``precision="int8"`` runs the checked int8 LiteRT model (see ``zoo.engines.int8``).
    ``tta`` averages that many test-time views of each image (``zoo.evaluation.tta``);
    ``progress`` shows a progress bar over the images.

    Example:
        >>> predict_files("mnist_convnet", "digits/", top=1)[0]["top"][0]["label"]
        '0'
    """
    from tqdm import tqdm

    spec = registry.get_spec(name)
    check_precision(precision)
    tta = check_tta(tta, spec)
    if top < 1:
        raise InputError(f"--top must be at least 1, received {top}")
    batch_size = checked_batch_size(batch_size)
    source = find_sources(src)
    report_skipped(source)
    files = source.paths
    ranking = RankedPredictions(spec, top)
    results: list[dict[str, Any]] = [{"file": path, "model": spec.name} for path in files]
    runner = None
    bar = tqdm(total=len(files), desc="predicting", unit="img", disable=not progress, leave=False)
    for slots, batch, errors in prepared_batches(
        spec, files, batch_size, crop_fraction=crop_fraction
    ):
        bar.update(len(slots) + len(errors))
        for slot, reason in errors:
            results[slot]["error"] = reason
        if batch is None:
            continue
        if runner is None:
            runner = predictions_runner(
                spec, weights, runtime, trust, precision, calibration, images=len(files),
                source=name,
            )  # fmt: skip
        rows = averaged(runner.run, batch, view_kind(spec), tta)
        for slot, row in zip(slots, rows, strict=True):
            results[slot]["top"] = ranking.ranked(row)
    bar.close()
    return results
