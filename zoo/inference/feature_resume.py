"""Whether a feature file may take a rerun's rows: the settings a file records (its
attributes), the ones that must match for a resume, and the error naming what differs.

Example:
    >>> check_resumable("mnist.h5", zoo.get_spec("mnist_convnet"), "pooled", "int8")
    120
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zoo.errors import InputError
from zoo.files import utc_now
from zoo.inference.feature_file import committed_counts
from zoo.spec import ModelSpec
from zoo.version import __version__

#: What must match for a rerun to add rows to a file, in the words an error uses.
RESUME_FIELDS = {
    "model": "model",
    "stage": "stage",
    "precision": "precision",
    "dtype": "dtype",
    "input_size": "input size",
    "label_names": "class names",
    "weights_sha256": "weights sha256",
}


def resume_key(attrs: dict[str, Any], source) -> dict[str, Any]:
    key = {name: attrs.get(name) for name in RESUME_FIELDS if name in attrs}
    key["label_names"] = list(source.label_names) if source.label_names else None
    return key


def stored_key(handle) -> dict[str, Any]:
    """The resume key of an existing file (older files lack some attributes: their defaults)."""
    found = dict(handle.attrs)
    dtype = found.get("dtype") or (str(handle["features"].dtype) if "features" in handle else None)
    return {
        "model": found.get("model"),
        "stage": found.get("stage"),
        "precision": found.get("precision", "float32"),  # files from before int8 are float32
        "dtype": dtype,
        "input_size": found.get("input_size", ""),
        "label_names": [n.decode() for n in handle["label_names"][:]]
        if "label_names" in handle
        else None,
        "weights_sha256": found.get("weights_sha256"),
    }


def _shown(name: str, value: Any) -> str:
    if value is None:
        return "none"
    if name == "weights_sha256" and isinstance(value, str) and len(value) == 64:
        return value[:12] + "…"
    if name == "label_names":
        return ", ".join(value[:6]) + (", ..." if len(value) > 6 else "")
    return repr(value)


def mismatch(path: Path, found: dict[str, Any], wanted: dict[str, Any]) -> str | None:
    """Why the file at ``path`` (resume key ``found``) cannot take this run's rows, or None.
    Only the fields ``wanted`` names are compared (dtype is unknown until the first batch)."""
    differences = [
        f"{RESUME_FIELDS[name]}: the file has {_shown(name, found.get(name))}, this run "
        f"{_shown(name, value)}"
        for name, value in wanted.items()
        if found.get(name) is not None or value is not None
        if found.get(name) != value and not (name == "dtype" and found.get(name) is None)
    ]
    if wanted.get("weights_sha256") == "none" == found.get("weights_sha256"):
        differences.append("weights: random (--weights none), drawn anew by every run")
    if not differences:
        return None
    if (found.get("model"), found.get("stage")) != (wanted.get("model"), wanted.get("stage")):
        head = (
            f"{path} holds features of model {found.get('model')!r} at stage "
            f"{found.get('stage')!r}, not {wanted.get('model')!r} at {wanted.get('stage')!r}"
        )
    else:
        head = f"{path} holds features another run computed, which would mix in one file"
    return (
        f"{head} ({'; '.join(differences)}). Resume with the same settings, choose another "
        "--out, or pass --overwrite to start again"
    )


def check_resumable(
    out: str | Path | None,
    spec: ModelSpec,
    stage: str,
    precision: str = "float32",
    *,
    dtype: str = "float32",
    input_shape: Sequence[int] | None = None,
    label_names: list[str] | None = None,
    retry: bool = True,
) -> int:
    """Refuse at once, before any model is built, an existing ``.h5`` ``out`` written by a run
    with other settings (``open_store`` checks again, weights included); return how many files
    it has done (0 when there is none to resume).

    Example:
        >>> check_resumable("mnist.h5", zoo.get_spec("mnist_convnet"), "pooled", "int8")
        120
    """
    if out is None or Path(out).suffix not in (".h5", ".hdf5") or not Path(out).is_file():
        return 0
    import h5py

    wanted = {
        "model": spec.name,
        "stage": stage,
        "precision": precision,
        "dtype": dtype,
        "input_size": input_size(input_shape),
        "label_names": label_names,
    }
    try:
        with h5py.File(out, "r", swmr=True) as handle:
            problem = mismatch(Path(out), stored_key(handle), wanted)
            rows, errors = committed_counts(handle)
    except OSError:
        return 0  # unreadable or mid-recovery: open_store says what is wrong
    if problem:
        raise InputError(problem)
    return rows + (0 if retry else errors)


def check_dtype(dtype: str) -> str:
    """``dtype`` when features can be stored in it (float32, float16); else an ``InputError``."""
    if dtype not in ("float32", "float16"):
        raise InputError(f"dtype must be float32 or float16, received {dtype!r}")
    return dtype


def input_size(input_shape: Sequence[int] | None) -> str:
    """``"HxW"`` of an input shape a run asks for, or ``""`` for the spec's own."""
    return "x".join(str(int(d)) for d in input_shape[:2]) if input_shape else ""


def store_attrs(
    spec: ModelSpec,
    stage: str,
    dtype: str,
    weights_sha256: str,
    runtime: str,
    precision: str = "float32",
    input_shape: Sequence[int] | None = None,
) -> dict[str, Any]:
    """The attributes of a feature file (see the module docstring), dated now."""
    return {
        "model": spec.name,
        "stage": stage,
        "preprocessing": spec.preprocessing,
        "input_size": input_size(input_shape),
        "dtype": dtype,
        "runtime": runtime,
        "precision": precision,
        "zoo_version": __version__,
        "weights_sha256": weights_sha256,
        "date": utc_now(),
    }
