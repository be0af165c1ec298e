"""int8 LiteRT as a faster path: ``--precision int8`` for ``zoo predict`` and ``zoo features``.

The artefact is a full-integer LiteRT model (int8 weights and activations, float input and
output) calibrated on images, checked against the float32 Keras model on *other* images before
its first use, and cached with the other runtime artefacts under a key that includes the
calibration images' content. The check is ``zoo export``'s parity rule: top-1 agreement of at
least ``MIN_TOP1_AGREEMENT`` for class probabilities; for a feature stage, a mean cosine
similarity of at least ``MIN_COSINE``. An artefact that fails is not kept and the call raises:
a silently wrong int8 model never runs. With random weights (``weights=None``) there is nothing
to preserve, so the check is skipped with a warning (to benchmark any architecture).

Images: ``calibration`` (a folder, glob, list...) or, by default, ``default_images(spec)``: the
ten real photos shipped in ``zoo/data/photos`` for ImageNet models, zoo's sample digits for the
MNIST ones. Either way the even-numbered images (in sorted order) calibrate and the others check.

Example:
    >>> zoo.predict("mnist_convnet", "digits/", precision="int8").argmax(1)
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from zoo.engines.conversion import ConversionError, ensure_file, export_model, publish_checked
from zoo.errors import InputError
from zoo.files import atomic_write
from zoo.inputs.sources import find_sources, prepare_files
from zoo.spec import ModelSpec

PRECISIONS = ("float32", "int8")
MIN_TOP1_AGREEMENT = 0.95
MIN_COSINE = 0.95
DATA = Path(__file__).resolve().parents[1] / "data"


def check_precision(precision: str | None) -> str:
    """``precision`` (default ``float32``) if valid.

    Example:
        >>> check_precision(None), check_precision("int8")
        ('float32', 'int8')
    """
    precision = precision or "float32"
    if precision not in PRECISIONS:
        raise InputError(f"Unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
    return precision


def default_images(spec: ModelSpec) -> list[str]:
    """zoo's own images for ``spec``: the shipped photos (ImageNet), else the sample digits."""
    folder = DATA / ("photos" if spec.dataset == "imagenet" else "samples")
    return find_sources(folder).paths


def split_images(paths: list[str]) -> tuple[list[str], list[str]]:
    """(calibration, parity): the even-numbered images calibrate, the others check.

    Raises:
        InputError: fewer than two images.
    """
    if len(paths) < 2:
        raise InputError(
            f"int8 needs at least two images (half calibrate, half check); received {len(paths)}"
        )
    return paths[0::2], paths[1::2]


def images_digest(paths: list[str]) -> str:
    """sha256 over the images' bytes, in order: the calibration part of the cache key."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
    return digest.hexdigest()


def int8_converter_options(images: np.ndarray) -> dict[str, Any]:
    """LiteRT converter settings for full-integer int8 calibrated on ``images`` (N, H, W, C),
    with float input and output (``model.export(..., format="litert", **options)``)."""
    import tensorflow as tf

    def representative():
        for image in images:
            yield [image[np.newaxis].astype(np.float32)]

    return {
        "optimizations": [tf.lite.Optimize.DEFAULT],
        "representative_dataset": representative,
        "target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]},
    }


def compare(expected: np.ndarray, actual: np.ndarray, output: str) -> dict[str, Any]:
    """How int8 outputs compare with float32 ones, and whether they pass the parity rule."""
    expected = expected.reshape(len(expected), -1)
    actual = actual.reshape(len(actual), -1)
    norms = np.linalg.norm(expected, axis=1) * np.linalg.norm(actual, axis=1)
    cosine = np.sum(expected * actual, axis=1) / np.maximum(norms, 1e-12)
    report = {
        "images": len(expected),
        "max_abs_difference": float(np.max(np.abs(actual - expected))),
        "mean_cosine": float(np.mean(cosine)),
        "top1_agreement": float(np.mean(actual.argmax(1) == expected.argmax(1))),
    }
    if output in ("predictions", "logits"):
        report["rule"] = f"top1_agreement >= {MIN_TOP1_AGREEMENT}"
        report["passed"] = report["top1_agreement"] >= MIN_TOP1_AGREEMENT
    else:
        report["rule"] = f"mean_cosine >= {MIN_COSINE}"
        report["passed"] = report["mean_cosine"] >= MIN_COSINE
    return report


def ensure_int8(
    model_factory: Callable[[], Any],
    spec: ModelSpec,
    output: str,
    path: Path,
    input_shape,
    images: tuple[list[str], list[str]],
    check: bool,
) -> dict[str, Any] | None:
    """Make the int8 artefact at ``path`` unless it is there (under a lock per file), calibrated
    on ``images[0]`` and, when ``check``, compared with float32 on ``images[1]``. Returns the
    comparison when this call made it, None when the file was there.

    A failed check is remembered in ``PATH.failed.json``: later calls raise the same error at
    once instead of converting again (the key changes with the weights or calibration images).

    Raises:
        ConversionError: the conversion failed, or the artefact broke the parity rule.
    """
    failed = Path(str(path) + ".failed.json")

    def make() -> dict[str, Any]:
        if failed.exists():
            raise ConversionError(json.loads(failed.read_text())["error"])
        try:
            return _make(model_factory(), spec, output, path, input_shape, images, check)
        except ConversionError as error:
            atomic_write(failed, json.dumps({"error": str(error)}))
            raise

    return ensure_file(path, make)


def _make(model, spec, output, path: Path, input_shape, images, check) -> dict[str, Any]:
    from zoo.backend import quiet_tensorflow
    from zoo.engines.engine import open_engine, tf_engine

    quiet_tensorflow()
    calibration_files, parity_files = images
    print(
        f"zoo: making the int8 LiteRT model of {spec.name} ({output}), calibrated on "
        f"{len(calibration_files)} images; once, then cached",
        file=sys.stderr,
    )
    calibration = prepare_files(spec, calibration_files, input_shape)

    def make(temp: Path) -> dict[str, Any]:
        model(calibration[:1], training=False)  # Keras exports only models that were called
        export_model(model, temp, "litert", **int8_converter_options(calibration))
        report: dict[str, Any] = {"calibration_images": calibration_files, "checked": check}
        if not check:
            return report
        batch = prepare_files(spec, parity_files, input_shape)
        expected = tf_engine(model, output).run(batch)
        actual = open_engine("litert", temp).run(batch)
        report.update(compare(expected, actual, output), parity_images=parity_files)
        if not report["passed"]:
            raise ConversionError(
                f"The int8 model of {spec.name} ({output}) fails the parity rule "
                f"{report['rule']} on {report['images']} images (top-1 agreement "
                f"{report['top1_agreement']:.0%}, mean cosine {report['mean_cosine']:.3f}); "
                "it was not kept. Use float32, or calibrate on your own images "
                "(--calibration DIR)"
            )
        return report

    return publish_checked(path, make)
