"""Named feature stages and feature extraction over folders of images.

``zoo.load(name, features=["stage3", "pooled"])`` returns a model whose outputs are a dict of
those stages. ``zoo.extract_features(name, src)`` decodes images in background threads while
the model runs, and returns arrays or writes an HDF5 file that a rerun resumes.

Example:
    >>> result = zoo.extract_features("mobilenet_v1_0.25_128", "photos/", stage="pooled")
    >>> result.features.shape, len(result.paths), result.errors
    ((2, 256), 2, [])
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from zoo import registry
from zoo.errors import InputError
from zoo.spec import ModelSpec

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")


def stage_names(spec: ModelSpec) -> list[str]:
    """The feature stages ``spec`` documents, in order."""
    return [stage.name for stage in spec.feature_stages]


def _check_stages(spec: ModelSpec, stages: Sequence[str]) -> None:
    valid = stage_names(spec)
    for stage in stages:
        if stage not in valid:
            raise InputError(f"Model {spec.name!r} has no feature stage {stage!r}; "
                             f"valid: {', '.join(valid) or 'none'}")


def stage_tensor(model, spec: ModelSpec, stage: str):
    """The tensor of ``stage`` inside ``model`` (built from ``spec``)."""
    import keras

    if stage == "logits":  # the input of the softmax layer
        return model.get_layer("probabilities").input
    if spec.dataset != "imagenet":
        layer = next(s.layer for s in spec.feature_stages if s.name == stage)
        return model.get_layer(layer).output
    from applications.keras_imagenet import stride_outputs

    found = stride_outputs(model)  # by shape: robust to Keras' per-session layer numbering
    if stage == "pooled":
        return keras.layers.GlobalAveragePooling2D(name="pooled")(
            model.get_layer(found[max(found)][0]).output)
    stride = next(s.stride for s in spec.feature_stages if s.name == stage)
    return model.get_layer(found[stride][0]).output


def feature_model(model, spec: ModelSpec, stages: Sequence[str]):
    """A model with the same input and one output per stage (a dict keyed by stage name)."""
    import keras

    from zoo.models import model_inputs

    _check_stages(spec, stages)
    outputs = {stage: stage_tensor(model, spec, stage) for stage in stages}
    return keras.Model(model_inputs(model), outputs, name=f"{spec.name}_features")


# -- sources ----------------------------------------------------------------------------------

@dataclass
class Source:
    """Image files to process, with class labels when the folder has one sub-folder per class."""

    paths: list[str]
    labels: list[int] | None = None
    label_names: list[str] | None = None


def _images_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def find_sources(src: str | Path | Sequence[str | Path]) -> Source:
    """SRC: a folder (recursive), a ``.txt`` list of paths (one per line), or files."""
    items = [src] if isinstance(src, (str, Path)) else list(src)
    if len(items) == 1 and not Path(items[0]).exists():
        raise InputError(f"{items[0]}: no such file or folder")
    if len(items) == 1 and Path(items[0]).is_dir():
        folder = Path(items[0])
        classes = sorted(p for p in folder.iterdir() if p.is_dir())
        loose = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
        if classes and not loose:
            paths, labels = [], []
            for index, class_folder in enumerate(classes):
                for path in _images_under(class_folder):
                    paths.append(str(path))
                    labels.append(index)
            return Source(paths, labels, [c.name for c in classes])
        return Source([str(p) for p in _images_under(folder)])
    if len(items) == 1 and str(items[0]).endswith(".txt") and Path(items[0]).is_file():
        lines = Path(items[0]).read_text().splitlines()
        return Source([line.strip() for line in lines if line.strip()])
    paths = []
    for item in items:
        path = Path(item)
        paths.extend(str(p) for p in _images_under(path)) if path.is_dir() else paths.append(str(path))
    return Source(paths)


# -- pipeline ---------------------------------------------------------------------------------

@dataclass
class FeatureResult:
    """What ``extract_features`` returns: one row of ``features`` per readable file."""

    features: np.ndarray
    paths: list[str]
    labels: np.ndarray | None = None
    label_names: list[str] | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    out: Path | None = None
    #: how the features were computed, e.g. ``litert`` or ``tf (mixed_float16, XLA)``
    runtime: str = ""


def extract_features(model_or_name: Any, src: Any, *, stage: str = "pooled",
                     weights: Any = "default", out: str | Path | None = None,
                     batch_size: int = 32, runtime: str | None = None, dtype: str = "float32",
                     input_shape: Sequence[int] | None = None, progress: bool | None = None,
                     workers: int | None = None) -> FeatureResult:
    """Features of every image under ``src`` at ``stage``.

    Args:
        model_or_name: a registry name.
        src: a folder (searched recursively; one sub-folder per class gives labels), a ``.txt``
            file listing paths, or a list of files.
        stage: a feature stage of the model (``zoo info NAME`` lists them), e.g. ``pooled``.
        out: ``.h5`` (resumable: a rerun skips the files already done) or ``.npy``; ``None``
            keeps everything in memory.
        batch_size: images per forward pass.
        runtime: ``tf``, ``onnx``, ``litert`` or ``auto`` (the fastest installed; see
            ``zoo.runtimes``); default ``$ZOO_RUNTIME`` or ``auto``.
        dtype: ``float32`` or ``float16`` for the stored features.
        input_shape: ImageNet models: (height, width, 3) to run at (default: the spec's).

    Returns:
        ``FeatureResult`` with ``features`` (N, D...), ``paths``, ``labels`` / ``label_names``
        when ``src`` has class folders, and ``errors`` as (path, reason) for unreadable files.

    Example:
        >>> r = zoo.extract_features("mnist_convnet", "digits/", stage="pooled")
        >>> r.features.shape
        (10, 625)
    """
    from zoo.feature_store import open_store

    spec = registry.get_spec(model_or_name if isinstance(model_or_name, str) else model_or_name.name)
    _check_stages(spec, [stage])
    if dtype not in ("float32", "float16"):
        raise InputError(f"dtype must be float32 or float16, received {dtype!r}")
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, received {batch_size}")
    source = find_sources(src)
    if not source.paths:
        raise InputError(f"No image files found in {src}")
    runner = _runner(model_or_name, spec, stage, weights, runtime, input_shape)
    store = open_store(out, spec, stage, source, dtype=dtype,
                       weights_sha256=runner.weights_sha256, runtime=runner.description)
    todo = [i for i, path in enumerate(source.paths) if path not in store.done]
    try:
        if todo:
            _run(runner, spec, source, todo, store,
                 batch_size=batch_size, dtype=dtype, input_shape=input_shape, progress=progress,
                 workers=workers)
    except BaseException:
        store.close()  # Ctrl-C or an error: what is written stays, the file is closed
        raise
    result = store.finish()
    result.runtime = runner.description
    return result


def _runner(model_or_name, spec, stage, weights, runtime, input_shape):
    """The runtime that computes ``stage`` (a Keras model is only built when needed)."""
    from zoo.runtimes import get_runner

    def model_factory():
        if not isinstance(model_or_name, str):
            return feature_model(model_or_name, spec, [stage])
        from zoo.models import load

        return load(spec, weights=weights, features=[stage],
                    **({"input_shape": tuple(input_shape)} if input_shape else {}))

    if not isinstance(model_or_name, str) and runtime not in (None, "tf"):
        raise InputError("A Keras model object runs on the tf runtime; pass its name for others")
    return get_runner(spec, output=stage, runtime="tf" if not isinstance(model_or_name, str)
                      else runtime, weights=weights, input_shape=input_shape,
                      model_factory=model_factory)


def _run(runner, spec, source, todo, store, *, batch_size, dtype, input_shape, progress,
         workers) -> None:
    """Extract the ``todo`` rows of ``source`` into ``store``, decoding ahead of the model."""
    from zoo.prediction import prepared_batches

    paths = [source.paths[i] for i in todo]
    bar = _bar(len(source.paths), len(source.paths) - len(todo), progress)
    try:
        for indices, batch, errors in prepared_batches(spec, paths, batch_size,
                                                       input_shape=input_shape, workers=workers):
            for index, reason in errors:
                print(f"zoo: skipped: {reason}", file=sys.stderr)
                store.add_error(paths[index], reason)
            if batch is not None:
                values = runner.run(batch)
                rows = [todo[i] for i in indices]
                store.add(values.astype(dtype, copy=False), [source.paths[r] for r in rows],
                          [source.labels[r] for r in rows] if source.labels else None)
            if bar is not None:
                bar.update(len(indices) + len(errors))
    finally:
        if bar is not None:
            bar.close()


def _bar(total: int, done: int, enabled: bool | None):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="img", desc="features", file=sys.stderr)
