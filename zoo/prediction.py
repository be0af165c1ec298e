"""``zoo.predict``: class probabilities from arrays or image files, and ranked top-k results.

Example:
    >>> probabilities = zoo.predict("mnist_convnet", ["seven.png"])   # (1, 10)
    >>> zoo.prediction.top_k(probabilities[0], 3, zoo.labels.names("mnist"))[0]["label"]
    '7'
"""
from __future__ import annotations

import concurrent.futures
import os
import queue
import threading
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from zoo import labels as labels_lib
from zoo import registry
from zoo.errors import InputError
from zoo.spec import ModelSpec


def resolve_model(model_or_name: Any, weights: Any = "default", **load_options: Any):
    """(model, spec) for a registry name, a ModelSpec or a keras.Model (spec found by its name)."""
    if isinstance(model_or_name, (str, ModelSpec)):
        from zoo.models import load

        spec = registry.get_spec(model_or_name)
        return load(spec, weights=weights, **load_options), spec
    name = getattr(model_or_name, "name", None)
    spec = registry.get_spec(name) if name in registry.list_models() else None
    return model_or_name, spec


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
            want is None or want == got for want, got in zip(shape, array.shape[1:])
        ):
            return array if shape == expected else array[..., np.newaxis]
    described = " or ".join(
        "(N, " + ", ".join("H" if d is None else str(d) for d in shape) + ")" for shape in accepted
    )
    raise InputError(
        f"{spec.name} expects a batch of shape {described}; received an array of shape "
        f"{array.shape}"
    )


def prepare_file(spec: ModelSpec, path: str | Path, crop_fraction: float | None = None,
                 input_shape: Sequence[int] | None = None) -> np.ndarray:
    """Decode one image file into one model input, the way ``spec`` wants it."""
    from zoo import images

    if spec.dataset == "imagenet":
        height, width = (input_shape or spec.input_shape)[:2]
        side = max(height, width) / (crop_fraction or 1.0)
        image = images.open_image(path, min_side=int(np.ceil(side)))
        return images.resize_for_model(image, height, width, crop_fraction)
    image = images.open_image(path)
    if spec.preprocessing == "mnist":
        try:
            return images.to_mnist_digit(image).reshape(spec.input_shape)
        except InputError as error:
            raise InputError(f"{path}: {error}") from None
    raise InputError(
        f"Model {spec.name!r} does not take image files (its input is {spec.input_shape}); "
        "image models: the MNIST and ImageNet ones (`zoo list --dataset mnist`)"
    )


def _is_file_list(images: Any) -> bool:
    if isinstance(images, (str, Path)):
        return True
    return (isinstance(images, Sequence) and len(images) > 0
            and all(isinstance(item, (str, Path)) for item in images))


def predict(model_or_name: Any, images: Any, *, weights: Any = "default",
            batch_size: int = 32) -> np.ndarray:
    """Class probabilities for a batch of images.

    Args:
        model_or_name: a registry name or a model returned by ``zoo.load``.
        images: an array batch of raw pixels (MNIST models: (N, 28, 28) or (N, 28, 28, 1) in
            0..255; ImageNet models: (N, H, W, 3) RGB in 0..255), or image file paths (each
            decoded and resized the way the model wants).
        weights: weights to load when a name is given (see ``zoo.load``).
        batch_size: images per forward pass.

    Returns:
        ``np.ndarray`` of shape (N, num_classes).

    Raises:
        InputError: wrong shape or dtype, or a file that is missing or not an image.

    Example:
        >>> zoo.predict("mnist_convnet", x_test[:5]).argmax(axis=1)
        array([7, 2, 1, 0, 4])
    """
    model, spec = resolve_model(model_or_name, weights)
    if _is_file_list(images):
        if spec is None:
            raise InputError("image files need a registered model (pass its name) to prepare them")
        paths = [images] if isinstance(images, (str, Path)) else list(images)
        batch = np.stack([prepare_file(spec, path) for path in paths])
    else:
        batch = np.asarray(images)
        if spec is not None:
            batch = check_input(spec, batch)
    return np.asarray(model.predict(batch, batch_size=batch_size, verbose=0))


def top_k(probabilities: np.ndarray, k: int, names: Sequence[str],
          wordnet_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The ``k`` best classes of one probability vector as ranked dicts (with ``wnid`` for
    ImageNet)."""
    order = np.argsort(-probabilities, kind="stable")[:k]
    ranked = []
    for rank, index in enumerate(order, start=1):
        entry = {"rank": rank, "index": int(index),
                 "label": names[index] if index < len(names) else str(index),
                 "score": round(float(probabilities[index]), 6)}
        if wordnet_ids is not None:
            entry["wnid"] = wordnet_ids[index]
        ranked.append(entry)
    return ranked


def prepared_batches(spec: ModelSpec, paths: Sequence[str | Path], batch_size: int, *,
                     crop_fraction: float | None = None, input_shape=None,
                     workers: int | None = None
                     ) -> Iterator[tuple[list[int], np.ndarray | None, list[tuple[int, str]]]]:
    """Yield (indices, batch, errors) per ``batch_size`` files, in order, while the next batches
    are decoded in ``workers`` threads; ``errors`` are (index, reason) for unreadable files."""

    def prepare(index_path):
        index, path = index_path
        try:
            return index, prepare_file(spec, path, crop_fraction, input_shape), None
        except InputError as error:
            return index, None, str(error)
        except Exception as error:  # a decoder bug must not stop the run
            return index, None, f"{path}: {type(error).__name__}: {error}"

    ahead: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    workers = workers or min(8, os.cpu_count() or 2)

    def producer():
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            for start in range(0, len(paths), batch_size):
                if stop.is_set():
                    break
                chunk = list(enumerate(paths[start: start + batch_size], start=start))
                done = list(pool.map(prepare, chunk))
                good = [(i, x) for i, x, e in done if x is not None]
                errors = [(i, e) for i, x, e in done if x is None]
                batch = np.stack([x for _, x in good]) if good else None
                ahead.put(([i for i, _ in good], batch, errors))
        ahead.put(None)

    thread = threading.Thread(target=producer, daemon=True)
    thread.start()
    try:
        while (item := ahead.get()) is not None:
            yield item
    finally:
        stop.set()


def predict_files(name: str, files: Sequence[str | Path], *, weights: Any = "default",
                  top: int = 5, batch_size: int = 32, crop_fraction: float | None = None,
                  runtime: str | None = None) -> list[dict[str, Any]]:
    """One result per file, in order: ``{"file", "model", "top": [...]}`` or, for a file that
    cannot be read, ``{"file", "model", "error"}``; the other files are still predicted.
    Files are decoded and predicted ``batch_size`` at a time, on ``runtime`` (see
    ``zoo.runtimes``; a cached ONNX/LiteRT artefact runs without importing TensorFlow).
    """
    spec = registry.get_spec(name)
    if top < 1:
        raise InputError(f"--top must be at least 1, received {top}")
    if batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, received {batch_size}")
    names = labels_lib.names(spec.labels, spec.num_classes)
    wordnet_ids = labels_lib.wordnet_ids(spec.labels)
    results: list[dict[str, Any]] = [{"file": str(path), "model": spec.name} for path in files]
    runner = None
    for slots, batch, errors in prepared_batches(spec, list(files), batch_size,
                                                 crop_fraction=crop_fraction):
        for slot, reason in errors:
            results[slot]["error"] = reason
        if batch is None:
            continue
        if runner is None:
            from zoo.runtimes import get_runner

            runner = get_runner(spec, output="predictions", runtime=runtime, weights=weights,
                                model_factory=lambda: resolve_model(spec, weights)[0])
        for slot, row in zip(slots, runner.run(batch)):
            results[slot]["top"] = top_k(row, top, names, wordnet_ids)
    return results
