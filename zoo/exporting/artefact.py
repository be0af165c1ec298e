"""``zoo.export`` / ``zoo export``: a model as a file that a real runtime loads without zoo,
with a parity report. A silently wrong artefact never ships.

Formats: ``keras`` (``.keras``), ``savedmodel`` (a folder with two signatures:
``serving_default`` on raw pixels, ``serving_bytes`` on encoded JPEG/PNG strings for the
ImageNet models), ``litert`` (``.tflite``; ``quantize="float16"`` or ``"int8"``, full-integer
with float input and output, calibrated on images) and ``onnx``. The preprocessing is inside
every artefact: it takes raw pixels (0..255, N×H×W×3; N×28×28×1 for the MNIST models) and
returns class probabilities.

Each export is compared with the Keras model on sample images that are never the calibration
images: the max absolute difference of the probabilities, top-1 agreement, top-5 agreement
(the Keras top-1 class among the artefact's five best), the file size and the single-image
latency, written beside the artefact as ``OUT.parity.json`` with the class names as
``OUT.labels.txt``. Below ``min_agreement`` top-1 agreement (0.99; 0.95 for int8) the export
raises and keeps nothing.

Example:
    >>> result = zoo.export("mnist_convnet", "convnet.tflite", format="litert")
    >>> result.parity["top1_agreement"]
    1.0
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo import labels as labels_lib
from zoo import registry
from zoo.engines.conversion import ConversionError
from zoo.engines.int8 import default_images, split_images
from zoo.errors import InputError
from zoo.exporting.formats import FORMATS, QUANTIZATIONS, SUFFIXES, runner, write
from zoo.files import atomic_write, check_writable_folder, folder_lock, process_alive
from zoo.hashing import sha256_file
from zoo.inputs.sources import find_sources, prepare_files
from zoo.spec import ModelSpec
from zoo.user_files import is_savedmodel

#: Least top-1 agreement with Keras an artefact must reach to be kept.
MIN_AGREEMENT = {None: 0.99, "float16": 0.99, "int8": 0.95}
LATENCY_RUNS = 5
#: The most images int8 calibrates on (LiteRT's guidance is a few hundred) and the most the
#: parity check runs: each set is prepared in memory at once (a 224 px image is 0.6 MB).
CALIBRATION_LIMIT = 500
SAMPLES_LIMIT = 1000


@dataclass
class ExportResult:
    """Where the artefact is, and how it compared with the Keras model."""

    path: Path
    parity: dict[str, Any]


def _resolve(source: Any, weights: Any, trust: bool) -> tuple[Any, ModelSpec]:
    """(Keras model, spec) for a registry name, a run directory or a ``.keras`` file."""
    from zoo.models import load

    spec = registry.get_spec(str(source) if isinstance(source, Path) else source)
    return load(spec, weights=weights, trust=trust), spec


def _registered_base(source: Any, spec: ModelSpec) -> str | None:
    """The registry model an export stands on (the model itself, or a run directory's base
    model), recorded in the parity report so that ``zoo serve`` can prepare images for the
    artefact as zoo does; None for a ``.keras`` file of yours."""
    from zoo import run_dir

    registered = set(registry.list_models())
    if run_dir.is_run_dir(str(source)):
        base = run_dir.read_run(str(source)).get("base_model")  # a string, when present
        return base if base in registered else None
    return spec.name if spec.name in registered else None


def _sample_files(spec: ModelSpec, folder: Any, calibrating: list[str]) -> list[str]:
    """The parity images: ``folder``'s (default: zoo's images for the model, see
    ``zoo.engines.int8.default_images``), less any that calibrate: the same file, or a copy of
    one (the same bytes)."""
    paths = find_sources(folder).paths if folder is not None else default_images(spec)
    excluded = {sha256_file(p) for p in calibrating}
    paths = [p for p in paths if sha256_file(p) not in excluded]
    if not paths:
        raise InputError(
            "No parity images left: the sample images are the calibration images. Pass "
            "samples= (--samples DIR) with other images"
        )
    return paths


def _at_most(paths: list[str], limit: int, what: str, warnings_given: list[str]) -> list[str]:
    """``paths``, or ``limit`` of them evenly spaced in their order, saying so in
    ``warnings_given``."""
    if len(paths) <= limit:
        return paths
    chosen = np.linspace(0, len(paths) - 1, limit).round().astype(int)
    warnings_given.append(
        f"{what} {limit} of the {len(paths)} images given, evenly spaced in their order"
    )
    return [paths[i] for i in chosen]


def _calibration_files(spec: ModelSpec, calibration: Any) -> tuple[list[str], list[str]]:
    """The images int8 calibrates on, and a warning when they are zoo's own: half of
    ``default_images`` (the parity check then takes the other half)."""
    if calibration is not None:
        return find_sources(calibration).paths, []
    half, _ = split_images(default_images(spec))
    kind = "photos" if spec.dataset == "imagenet" else "sample digits"
    return half, [
        f"int8 calibrated on {len(half)} of zoo's {kind}, not on your data: pass "
        "calibration= (--calibration DIR) with a few hundred of your images"
    ]


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def parity_report(expected: np.ndarray, run, batch: np.ndarray, path: Path) -> dict[str, Any]:
    """How the artefact (``run``) compares with the Keras probabilities ``expected``."""
    actual = np.concatenate([run(batch[i : i + 1]) for i in range(len(batch))])
    top5 = np.argsort(-actual, axis=1)[:, :5]
    keras_top1 = expected.argmax(axis=1)
    latencies = []
    for _ in range(LATENCY_RUNS):
        started = time.perf_counter()
        run(batch[:1])
        latencies.append(time.perf_counter() - started)
    return {
        "images": int(len(batch)),
        "max_abs_difference": float(np.max(np.abs(actual - expected))),
        "top1_agreement": float(np.mean(actual.argmax(axis=1) == keras_top1)),
        "top5_agreement": float(np.mean(np.any(top5 == keras_top1[:, np.newaxis], axis=1))),
        "bytes": _size(path),
        "latency_ms": round(1000 * float(np.median(latencies)), 3),
    }


def export(
    source: Any,
    out: str | Path,
    format: str = "keras",
    *,
    quantize: str | None = None,
    calibration: str | Path | None = None,
    samples: str | Path | None = None,
    min_agreement: float | None = None,
    weights: Any = "default",
    trust: bool = False,
    input_size: int | tuple[int, int] | None = None,
) -> ExportResult:
    """Export a registered model or a fine-tuning run directory; check it; keep it only if it
    agrees with the Keras model.

    Args:
        source: a registry name, a run directory or a ``.keras`` file of yours (loaded
            safely: ``trust=True`` for one that carries code; see ``zoo.user_files``).
        out: the artefact's path (a folder for ``savedmodel``).
        format: ``keras``, ``savedmodel``, ``litert`` or ``onnx``.
        quantize: LiteRT only: ``float16``, or ``int8`` (full integer, float input/output).
        calibration: images for int8 (a folder, glob or list; default: half of zoo's sample
            images, photos for ImageNet models and digits for MNIST ones, with a warning).
        samples: images for the parity check (default: zoo's sample images, less any used to
            calibrate).
        min_agreement: least top-1 agreement to keep the artefact (0.99; 0.95 for int8).
        input_size: photo models: the artefact takes pixels of this size (``N`` or
            ``(height, width)``) and resizes them in-graph (bilinear, a built-in Keras layer)
            to the model's own; the parity check compares it with the model on images
            prepared at the model's size, so what the resize changes is measured.

    Returns:
        ``ExportResult`` with the path and the parity report (also in ``OUT.parity.json``).

    Raises:
        ConversionError: the conversion failed, or top-1 agreement fell below
            ``min_agreement``; nothing is left at ``out``.
        InputError: an unknown format or quantization, or one the format does not take.

    Example:
        >>> zoo.export("runs/flowers", "flowers.onnx", format="onnx").parity["max_abs_difference"]
        2.4e-07
    """
    if format not in FORMATS:
        raise InputError(f"Unknown export format {format!r}; valid: {', '.join(FORMATS)}")
    if quantize is not None and (quantize not in QUANTIZATIONS or format != "litert"):
        raise InputError(
            f"quantize={quantize!r}: LiteRT exports take float16 or int8; received format "
            f"{format!r}"
        )
    threshold = MIN_AGREEMENT[quantize] if min_agreement is None else float(min_agreement)
    if not 0 <= threshold <= 1:
        raise InputError(
            f"min_agreement is a fraction of the sample images, from 0 to 1; received "
            f"{min_agreement!r}"
        )
    out = _checked_out(out, format)
    _remove_leftovers(out)
    from zoo.backend import quiet_tensorflow

    quiet_tensorflow()
    model, spec = _resolve(source, weights, trust)
    names = list(labels_lib.names(spec.labels, spec.num_classes))
    names = names or [str(index) for index in range(int(model.outputs[0].shape[-1]))]
    calibrating, warnings_given = [], []
    if quantize == "int8":
        calibrating, warnings_given = _calibration_files(spec, calibration)
    calibrating = _at_most(calibrating, CALIBRATION_LIMIT, "calibrated on", warnings_given)
    samples_files = _sample_files(spec, samples, calibrating)
    samples_files = _at_most(samples_files, SAMPLES_LIMIT, "checked on", warnings_given)
    expected = np.asarray(model.predict(prepare_files(spec, samples_files), verbose=0))
    shape = None
    if input_size is not None:
        model, shape = _with_input_size(model, spec, input_size)
    calibration_images = prepare_files(spec, calibrating, shape) if calibrating else None
    batch = prepare_files(spec, samples_files, shape)

    staging = Path(
        tempfile.mkdtemp(dir=out.parent, prefix=f"{_leftover_prefix(out)}{os.getpid()}-")
    )
    try:
        temp = staging / f"artefact{SUFFIXES[format]}"
        write(model, temp, format, spec, names, quantize, calibration_images)
        report = parity_report(expected, runner(format, temp, trust), batch, temp)
        report.update(model=spec.name, base_model=_registered_base(source, spec),
                      input_shape=list(batch.shape[1:]), format=format, quantize=quantize,
                      min_agreement=threshold, sample_images=samples_files,
                      warnings=warnings_given)  # fmt: skip
        if report["top1_agreement"] < threshold:
            raise ConversionError(
                f"The {format}{'/' + quantize if quantize else ''} export of {spec.name} agrees "
                f"with Keras on top-1 for {report['top1_agreement']:.1%} of {len(batch)} sample "
                f"images, below {threshold:.0%}; nothing was kept (max abs difference "
                f"{report['max_abs_difference']:.3g}). {_what_to_try(quantize)}"
            )
        labels_file, report_file = Path(f"{out}.labels.txt"), Path(f"{out}.parity.json")
        with folder_lock(out.parent):  # another export to OUT moves in before or after this one
            for earlier in (report_file, labels_file):  # an earlier export's, never beside this
                earlier.unlink(missing_ok=True)
            _move_into_place(temp, out)
            atomic_write(labels_file, "".join(f"{name}\n" for name in names))
            atomic_write(report_file, json.dumps(report, indent=1))  # last: no report, unfinished
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(out, report)


def _checked_out(out: Any, format: str) -> Path:
    """``out`` as a path an export of ``format`` may be written to, before any work: a file
    with the format's suffix (``.keras`` so that Keras loads it, ``.tflite``, ``.onnx``), or a
    SavedModel folder. An existing artefact is replaced; anything else there is refused, never
    removed. The folder it goes in is created and must be writable."""
    out = Path(out).expanduser()
    suffix = SUFFIXES[format]
    if suffix and out.suffix != suffix:
        raise InputError(f"{format} exports are {suffix} files; received out={str(out)!r}")
    if suffix and out.is_dir():
        raise InputError(
            f"{out} is a folder; a {format} export is one file (e.g. {out}/model{suffix})"
        )
    if not suffix and (out.is_file() or out.is_symlink()):
        raise InputError(f"{out} is a file; a savedmodel export is a folder: choose another path")
    if not suffix and out.is_dir() and any(out.iterdir()) and not is_savedmodel(out):
        raise InputError(
            f"{out} is a folder that holds other files, not a SavedModel; an export replaces "
            "its whole folder, so nothing was written: choose a new or empty folder"
        )
    check_writable_folder(out.parent, "the export's folder")
    return out


def _what_to_try(quantize: str | None) -> str:
    """The advice that ends a failed parity check."""
    accept = "or accept less with min_agreement= (--min-agreement)"
    if quantize == "int8":
        return (
            "Calibrate on a few hundred images like yours (calibration=, --calibration DIR), "
            f"check it on others (samples=, --samples DIR), {accept}"
        )
    return f"Check it on more images (samples=, --samples DIR) {accept}"


def _with_input_size(model, spec: ModelSpec, input_size: Any):
    """``model`` behind a bilinear resize from ``input_size`` to its own input size, and the
    new input shape."""
    import keras

    size = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    valid = len(size) == 2 and all(isinstance(n, int) and not isinstance(n, bool) for n in size)
    if not valid or min(size) < 1:
        raise InputError(
            f"input_size must be N or (height, width) in pixels, received {input_size!r}"
        )
    height, width, channels = model.inputs[0].shape[1:]
    if spec.dataset != "imagenet" or channels != 3:
        raise InputError(
            f"input_size applies to the photo (RGB) models; {spec.name} takes "
            f"{tuple(model.inputs[0].shape[1:])} as it is"
        )
    inputs = keras.Input((*size, 3), name="pixels")
    resized = keras.layers.Resizing(height, width, interpolation="bilinear", name="to_model_size")(
        inputs
    )
    outputs = model(resized, training=False)  # inference only: no dropout in the artefact
    return keras.Model(inputs, outputs, name=model.name), (*size, 3)


def _leftover_prefix(out: Path) -> str:
    """How the names of an export's own files in OUT's folder begin (``.NAME.export-PID-``):
    its staging folder, and an older SavedModel on its way out."""
    return f".{out.name}.export-"


def _remove_leftovers(out: Path) -> None:
    """Remove what exports to ``out`` killed before they could clean up left in its folder
    (their process is gone). A running export's files are left alone."""
    prefix = _leftover_prefix(out)
    for path in out.parent.glob(f"{glob.escape(prefix)}*"):
        pid = path.name[len(prefix) :].split("-")[0]
        if pid.isdigit() and not process_alive(int(pid)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _move_into_place(temp: Path, out: Path) -> None:
    """``temp`` becomes ``out``: a file by one rename; a folder replaces an older one by two
    renames, the older one removed after."""
    if not (temp.is_dir() and out.exists()):
        os.replace(temp, out)
        return
    old = out.with_name(f"{_leftover_prefix(out)}{os.getpid()}-old")
    os.replace(out, old)
    os.replace(temp, out)
    shutil.rmtree(old, ignore_errors=True)
