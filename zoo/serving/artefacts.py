"""Exported artefacts as ``zoo serve`` sources: a ``.onnx`` or ``.tflite`` file, or a SavedModel
folder, written by ``zoo export``, served in its own runtime.

``zoo export OUT`` leaves two files beside the artefact: ``OUT.labels.txt`` (its classes) and
``OUT.parity.json`` (written last, so an export that did not finish has none). The report names
the registry model the export stands on (``base_model``; for an export from before it was
recorded, ``model``), which tells how images are prepared for it (a photo model's resize, or
zoo's digit recipe for an MNIST one), and the artefact's own input shape (``--input-size``). The
artefact is served under its file name without the suffix (``flowers.onnx`` as ``flowers``).

A SavedModel is code (its graph can call any TensorFlow op): it is served only with ``--trust``,
and it needs TensorFlow; a ``.onnx`` or ``.tflite`` one needs neither.

Example:
    >>> spec, opener = artefact_source("flowers.onnx")
    >>> spec.name, opener().name
    ('flowers', 'onnx')
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

from zoo import labels as labels_lib
from zoo import registry
from zoo.errors import InputError
from zoo.spec import ModelSpec, input_shape_problem
from zoo.user_files import is_savedmodel

#: Artefact file suffixes and their formats (a SavedModel is a folder).
FILE_FORMATS = {".onnx": "onnx", ".tflite": "litert"}
#: The largest export report or labels file read (zoo's own are a few hundred KB at most).
LARGEST_SIDECAR = 8 * 1024 * 1024


def artefact_format(source: str | Path) -> str | None:
    """``onnx``, ``litert`` or ``savedmodel`` for an artefact on disk, else None."""
    path = Path(source).expanduser()
    if path.is_dir():
        return "savedmodel" if is_savedmodel(path) else None
    return FILE_FORMATS.get(path.suffix.lower()) if path.is_file() else None


def served_name(path: Path) -> str:
    """The name an artefact is served under: its file name without the suffix."""
    return path.name[: -len(path.suffix)] if path.suffix.lower() in FILE_FORMATS else path.name


def _sidecar_text(path: Path) -> str:
    """The text of a file ``zoo export`` wrote beside an artefact, bounded in size."""
    with open(path, "rb") as handle:
        data = handle.read(LARGEST_SIDECAR + 1)
    if len(data) > LARGEST_SIDECAR:
        raise InputError(f"{path}: over {LARGEST_SIDECAR >> 20} MB, not a file zoo export wrote")
    return data.decode()


def _report(path: Path) -> dict:
    report_file = Path(f"{path}.parity.json")
    try:
        report = json.loads(_sidecar_text(report_file))
    except FileNotFoundError:
        raise InputError(
            f"{path}: no {report_file.name} beside it, so not a finished `zoo export` (zoo "
            "needs its report to know how to prepare images); export it again"
        ) from None
    except (OSError, ValueError) as error:
        raise InputError(f"{report_file}: unreadable report ({error})") from None
    if not isinstance(report, dict):
        raise InputError(f"{report_file}: not a zoo export report (a JSON object)")
    return report


def _base_spec(path: Path, report: dict) -> ModelSpec:
    registered = set(registry.list_models())
    for key in ("base_model", "model"):
        base = report.get(key)
        if isinstance(base, str) and base in registered:
            return registry.get_spec(base)
    raise InputError(
        f"{path}: its export report names no registry model ({report.get('model')!r}), so zoo "
        "cannot tell how to prepare images for it; serve the run directory or .keras file it "
        "was exported from instead"
    )


def _labels(path: Path) -> tuple[str, ...]:
    labels_file = Path(f"{path}.labels.txt")
    try:
        names = tuple(line.strip() for line in _sidecar_text(labels_file).splitlines())
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read its classes from {labels_file} ({error})") from None
    names = tuple(name for name in names if name)
    if not names:
        raise InputError(f"{labels_file}: no class names")
    return names


def _input_shape(path: Path, report: dict, base: ModelSpec) -> tuple[int, ...]:
    shape = report.get("input_shape", list(base.input_shape))
    if (
        input_shape_problem(shape)
        or len(shape) != len(base.input_shape)
        or shape[-1] != base.input_shape[-1]
    ):
        raise InputError(
            f"{path}.parity.json: input_shape {shape!r} is not an image shape of "
            f"{base.name} (height, width, {base.input_shape[-1]})"
        )
    return tuple(shape)


def artefact_spec(source: str | Path) -> ModelSpec:
    """The spec ``zoo serve`` serves an artefact by: its base model's, with the artefact's name,
    input shape and classes.

    Raises:
        InputError: not an artefact, or no finished export report or labels beside it.
    """
    path = Path(source).expanduser()
    if artefact_format(path) is None:
        raise InputError(f"{path}: not an exported artefact (.onnx, .tflite, a SavedModel)")
    report = _report(path)
    base = _base_spec(path, report)
    names = _labels(path)
    same = names == labels_lib.names(base.labels, base.num_classes)
    labels = base.labels if same else names  # ImageNet's keep their WordNet ids
    return dataclasses.replace(
        base,
        name=served_name(path),
        summary=f"{base.name} exported as {path.name}",
        input_shape=_input_shape(path, report, base),
        num_classes=len(names),
        labels=labels,
        weights=None,
        weights_no_top=None,
    )


def artefact_opener(source: str | Path, trust: bool = False) -> Callable[[], object]:
    """A function that opens the artefact's runner (``zoo.engines.runtimes.Runner``): ONNX
    Runtime for ``.onnx``, LiteRT for ``.tflite``, TensorFlow for a SavedModel (only with
    ``trust``: refused here, before anything loads).

    Raises:
        InputError: a SavedModel without ``trust``.
    """
    path = Path(source).expanduser()
    fmt = artefact_format(path)
    if fmt == "savedmodel" and not trust:
        raise InputError(
            f"{path}: a SavedModel is code as much as data; zoo serves it only with --trust "
            "(trust=True) when you know where it comes from. An .onnx or .tflite export "
            "needs no trust"
        )

    def open_runner():
        from zoo.exporting.formats import artefact_runner

        return artefact_runner(fmt, path, trust=True)  # a SavedModel got here only with trust

    return open_runner
