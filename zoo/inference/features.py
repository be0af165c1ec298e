"""``zoo.extract_features``: features of every image of a folder, a glob, a list or files.

Images are decoded in background threads while the model runs (``zoo.inputs.sources``); the features
are kept in memory or written to an HDF5 file that a rerun resumes
(``zoo.inference.feature_store``). The stage models themselves come from ``zoo.load(name,
features=[...])``.

Example:
    >>> result = zoo.extract_features("mobilenet_v1_0.25_128", "photos/", stage="pooled")
    >>> result.features.shape, len(result.paths), result.errors
    ((2, 256), 2, [])
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zoo import registry
from zoo.engines import background
from zoo.engines.int8 import check_precision
from zoo.errors import InputError
from zoo.inference.feature_resume import check_dtype, check_resumable
from zoo.inference.feature_store import FeatureResult, open_store
from zoo.inputs.sources import checked_batch_size, labelled_sources, prepared_batches
from zoo.models import check_stages, feature_model, load


def extract_features(
    model_or_name: Any,
    src: Any,
    *,
    stage: str = "pooled",
    weights: Any = "default",
    out: str | Path | None = None,
    batch_size: int | None = None,
    runtime: str | None = None,
    dtype: str = "float32",
    input_shape: Sequence[int] | None = None,
    progress: bool | None = None,
    workers: int | None = None,
    precision: str | None = None,
    calibration: Any = None,
    trust: bool = False,
    retry: bool = True,
    overwrite: bool = False,
) -> FeatureResult:
    """Features of every image under ``src`` at ``stage``.

    Args:
        model_or_name: a registry name.
        src: a folder (searched recursively; one sub-folder per class gives labels), a glob,
            a ``.txt`` file listing paths, files, or a list of those (``zoo.inputs.sources``).
        stage: a feature stage of the model (``zoo info NAME`` lists them), e.g. ``pooled``.
        out: ``.h5`` (resumable: a rerun skips the files already done) or ``.npy``; ``None``
            keeps everything in memory.
        batch_size: images per forward pass (default 32).
        runtime: ``tf``, ``onnx``, ``litert`` or ``auto`` (the fastest installed; see
            ``zoo.engines.runtimes``); default ``$ZOO_RUNTIME`` or ``auto``.
        dtype: ``float32`` or ``float16`` for the stored features.
        input_shape: ImageNet models: (height, width, 3) to run at (default: the spec's).
        precision: ``float32`` (default) or ``int8``: the calibrated int8 LiteRT model, made
            once, checked against float32 (mean cosine of the features) and cached
            (``zoo.engines.int8``).
        calibration: int8 only: images to calibrate (half) and check (half) on; default zoo's.
        trust: load a ``.keras`` file of yours that carries code (see ``zoo.user_files``).
        retry: resuming an ``.h5`` ``out``, try again the files that failed before (default);
            ``False`` keeps them as failed.
        overwrite: start ``out`` again instead of resuming it. A resume is refused unless the
            file was written with the same model, stage, weights, precision, dtype, input size
            and class names.

    Returns:
        ``FeatureResult`` with ``features`` (N, D...), ``paths``, ``labels`` / ``label_names``
        when ``src`` has class folders, and ``errors`` as (path, reason) for unreadable files.

    Example:
        >>> r = zoo.extract_features("mnist_convnet", "digits/", stage="pooled")
        >>> r.features.shape
        (10, 625)
    """
    if isinstance(model_or_name, Path):  # a fine-tuning run directory
        model_or_name = str(model_or_name)
    spec = registry.get_spec(
        model_or_name if isinstance(model_or_name, str) else model_or_name.name
    )
    check_stages(spec, [stage])
    check_dtype(dtype)
    batch_size = checked_batch_size(batch_size)
    source = labelled_sources(src)
    precision = check_precision(precision)
    done = 0
    if not overwrite:
        done = check_resumable(
            out, spec, stage, precision, dtype=dtype, input_shape=input_shape,
            label_names=source.label_names, retry=retry,
        )  # fmt: skip
    runner = features_runner(
        model_or_name, spec, stage, weights, runtime, input_shape, precision, calibration,
        images=len(source.paths) - done, trust=trust,
    )  # fmt: skip
    store = open_store(
        out,
        spec,
        stage,
        source,
        dtype=dtype,
        weights_sha256=runner.weights_sha256,
        runtime=runner.description,
        precision=precision,
        input_shape=input_shape,
        retry=retry,
        overwrite=overwrite,
    )
    todo = [i for i, path in enumerate(source.paths) if path not in store.done]
    try:
        if todo:
            _run(
                runner,
                spec,
                source,
                todo,
                store,
                batch_size=batch_size,
                dtype=dtype,
                input_shape=input_shape,
                progress=progress,
                workers=workers,
            )
    except BaseException:
        store.close()  # Ctrl-C or an error: what is written stays, the file is closed
        raise
    result = store.finish()
    result.runtime = runner.description
    result.skipped = list(source.skipped)
    return result


def features_runner(
    model_or_name, spec, stage, weights, runtime, input_shape, precision, calibration,
    images=None, trust=False,
):  # fmt: skip
    """The runtime that computes ``stage`` (a Keras model is only built when needed)."""
    from zoo.engines.runtimes import get_runner

    def model_factory():
        if not isinstance(model_or_name, str):
            return feature_model(model_or_name, spec, [stage])
        return load(
            spec,
            weights=weights,
            features=[stage],
            trust=trust,
            **({"input_shape": tuple(input_shape)} if input_shape else {}),
        )

    on_tf = runtime in (None, "tf") and precision == "float32"
    if not isinstance(model_or_name, str) and not on_tf:
        raise InputError(
            "A Keras model object runs on the tf runtime in float32; pass its name for others"
        )
    return get_runner(
        spec,
        output=stage,
        runtime="tf" if not isinstance(model_or_name, str) else runtime,
        weights=weights,
        input_shape=input_shape,
        model_factory=model_factory,
        precision=precision,
        calibration=calibration,
        background=background.request(model_or_name, stage, weights, input_shape, trust)
        if isinstance(model_or_name, str)
        else None,
        images=images,
    )


def _run(
    runner, spec, source, todo, store, *, batch_size, dtype, input_shape, progress, workers
) -> None:
    """Extract the ``todo`` rows of ``source`` into ``store``, decoding ahead of the model."""
    paths = [source.paths[i] for i in todo]
    bar = _bar(len(source.paths), len(source.paths) - len(todo), progress)
    try:
        for indices, batch, errors in prepared_batches(
            spec, paths, batch_size, input_shape=input_shape, workers=workers
        ):
            for index, reason in errors:
                print(f"zoo: skipped: {reason}", file=sys.stderr)
                store.add_error(paths[index], reason)
            if batch is not None:
                values = runner.run(batch)
                rows = [todo[i] for i in indices]
                store.add(
                    values.astype(dtype, copy=False),
                    [source.paths[r] for r in rows],
                    [source.labels[r] for r in rows] if source.labels else None,
                )
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
