"""Where extracted features go: memory, a ``.npy`` file, or a resumable HDF5 file.

The HDF5 layout: datasets ``features`` (N, ...), ``paths`` (N,), ``labels`` (N,) and
``label_names`` when the source has class folders, ``error_paths`` / ``error_reasons`` for
files that could not be read; attributes ``model``, ``stage``, ``weights_sha256``,
``preprocessing``, ``runtime``, ``precision``, ``zoo_version``, ``date``; a rerun resumes
only a file of the same model, stage and precision. The file is written in HDF5's
single-writer/multiple-reader (SWMR) mode and flushed after every batch, so a kill loses at
most the batch in flight. After a kill the file opens with ``h5py.File(path, "r", swmr=True)``
(HDF5 leaves its "open for writing" flag set); the next run, or ``recover(path)``, rewrites it
as a plain file, then skips the files already done.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.spec import ModelSpec
from zoo.version import __version__

MIN_PATH_BYTES = 256
REASON_BYTES = 512


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


def recover(path: Path) -> None:
    """Rewrite an HDF5 file left "open for writing" by a killed run as a plain, closed file."""
    import h5py

    temp = path.with_name(path.name + ".recovering")
    with (
        h5py.File(path, "r", libver="latest", swmr=True) as source,
        h5py.File(temp, "w", libver="latest") as target,
    ):
        target.attrs.update(dict(source.attrs))
        for name, dataset in source.items():
            target.create_dataset(
                name,
                data=dataset[:],
                maxshape=(None, *dataset.shape[1:]),
                chunks=dataset.chunks or True,
            )
    os.replace(temp, path)


class MemoryStore:
    """Keeps everything in memory (and optionally saves ``.npy`` at the end)."""

    def __init__(self, source, dtype: str, npy_path: Path | None = None):
        self.source = source
        self.dtype = dtype
        self.npy_path = npy_path
        self.done: set[str] = set()
        self.chunks: list[np.ndarray] = []
        self.paths: list[str] = []
        self.labels: list[int] = []
        self.errors: list[tuple[str, str]] = []

    def add(self, values: np.ndarray, paths: list[str], labels: list[int] | None) -> None:
        self.chunks.append(values)
        self.paths.extend(paths)
        self.labels.extend(labels or [])

    def add_error(self, path: str, reason: str) -> None:
        self.errors.append((path, reason))

    def close(self) -> None:
        pass

    def finish(self) -> FeatureResult:
        features = np.concatenate(self.chunks) if self.chunks else np.zeros((0,), dtype=self.dtype)
        if self.npy_path is not None:
            np.save(self.npy_path, features)
        return FeatureResult(
            features,
            self.paths,
            np.asarray(self.labels) if self.source.labels else None,
            self.source.label_names,
            self.errors,
            self.npy_path,
        )


class H5Store:
    """A resumable HDF5 feature file (see the module docstring)."""

    def __init__(
        self, path: Path, spec: ModelSpec, stage: str, source, dtype: str, attrs: dict[str, Any]
    ):
        import h5py

        self.path = path
        self.source = source
        self.dtype = dtype
        if path.exists():
            self.file = self._reopen(h5py, spec, stage, attrs)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.file = h5py.File(path, "w", libver="latest")
            width = max([MIN_PATH_BYTES, *(len(p.encode()) for p in source.paths)])
            for name, size in (
                ("paths", width),
                ("error_paths", width),
                ("error_reasons", REASON_BYTES),
            ):
                self.file.create_dataset(
                    name, (0,), dtype=f"S{size}", maxshape=(None,), chunks=(256,)
                )
            if source.labels is not None:
                self.file.create_dataset(
                    "labels", (0,), dtype="int32", maxshape=(None,), chunks=(256,)
                )
                self.file.create_dataset(
                    "label_names", data=np.array([n.encode() for n in source.label_names])
                )
            self.file.attrs.update(attrs)
        paths = self.file["paths"][:].tolist() + self.file["error_paths"][:].tolist()
        self.done = {p.decode() for p in paths}

    def _reopen(self, h5py, spec: ModelSpec, stage: str, attrs: dict[str, Any]):
        try:
            handle = h5py.File(self.path, "a", libver="latest")
        except OSError as error:
            if "already open for write" in str(error):  # a killed run: recover, then resume
                recover(self.path)
                return self._reopen(h5py, spec, stage, attrs)
            raise InputError(
                f"{self.path} exists but is not a readable HDF5 file ({error}); "
                "choose another --out or remove it"
            ) from None
        problem = _mismatch(self.path, handle.attrs, spec.name, stage, attrs["precision"])
        if problem:
            handle.close()
            raise InputError(problem)
        return handle

    def _append(self, name: str, values) -> None:
        dataset = self.file[name]
        start = dataset.shape[0]
        dataset.resize(start + len(values), axis=0)
        dataset[start:] = values

    def _start_swmr(self, values: np.ndarray) -> None:
        """Create ``features`` from the first batch's shape, then switch to SWMR mode."""
        if "features" not in self.file:
            self.file.create_dataset(
                "features",
                (0, *values.shape[1:]),
                dtype=self.dtype,
                maxshape=(None, *values.shape[1:]),
                chunks=(max(1, min(64, len(values))), *values.shape[1:]),
            )
        if not self.file.swmr_mode:
            self.file.swmr_mode = True

    def add(self, values: np.ndarray, paths: list[str], labels: list[int] | None) -> None:
        self._start_swmr(values)
        width = self.file["paths"].dtype.itemsize
        encoded = [p.encode() for p in paths]
        if any(len(p) > width for p in encoded):
            raise InputError(
                f"A path is longer than the {width} bytes {self.path} was created "
                "for; write to a new file"
            )
        self._append("features", values)
        if labels is not None and "labels" in self.file:
            self._append("labels", np.asarray(labels, dtype="int32"))
        self._append("paths", np.array(encoded, dtype=self.file["paths"].dtype))
        self.file.flush()

    def add_error(self, path: str, reason: str) -> None:
        self._append("error_paths", np.array([path.encode()], dtype=self.file["error_paths"].dtype))
        self._append(
            "error_reasons", np.array([reason.encode()[:REASON_BYTES]], dtype=f"S{REASON_BYTES}")
        )
        self.file.flush()

    def close(self) -> None:
        if self.file.id.valid:
            self.file.close()

    def finish(self) -> FeatureResult:
        file = self.file
        result = FeatureResult(
            features=file["features"][:] if "features" in file else np.zeros((0,), self.dtype),
            paths=[p.decode() for p in file["paths"][:]],
            labels=file["labels"][:] if "labels" in file else None,
            label_names=[n.decode() for n in file["label_names"][:]]
            if "label_names" in file
            else None,
            errors=[
                (p.decode(), r.decode())
                for p, r in zip(file["error_paths"][:], file["error_reasons"][:], strict=True)
            ],
            out=self.path,
        )
        file.close()
        return result


def _mismatch(path: Path, found, model: str, stage: str, precision: str) -> str | None:
    """Why the file at ``path`` (attributes ``found``) cannot take this run's rows, or None."""
    if (found.get("model"), found.get("stage")) != (model, stage):
        return (
            f"{path} holds features of model {found.get('model')!r} at stage "
            f"{found.get('stage')!r}, not {model!r} at {stage!r}; choose another --out or "
            "remove it"
        )
    stored = found.get("precision", "float32")  # files from before int8 are float32
    if stored != precision:
        return (
            f"{path} holds {stored} features; this run computes {precision} ones, which would "
            "mix in one file. Choose another --out, remove it, or resume with the same "
            "--precision"
        )
    return None


def check_resumable(
    out: str | Path | None, spec: ModelSpec, stage: str, precision: str = "float32"
) -> int:
    """Refuse at once, before any model is built, an existing ``.h5`` ``out`` that holds
    another model's, stage's or precision's features (``open_store`` checks again); return
    how many files it has done (0 when there is none to resume).

    Example:
        >>> check_resumable("mnist.h5", zoo.get_spec("mnist_convnet"), "pooled", "int8")
        120
    """
    if out is None or Path(out).suffix not in (".h5", ".hdf5") or not Path(out).is_file():
        return 0
    import h5py

    try:
        with h5py.File(out, "r", swmr=True) as handle:
            problem = _mismatch(Path(out), dict(handle.attrs), spec.name, stage, precision)
            done = sum(len(handle[name]) for name in ("paths", "error_paths") if name in handle)
    except OSError:
        return 0  # unreadable or mid-recovery: open_store says what is wrong
    if problem:
        raise InputError(problem)
    return done


def open_store(
    out: str | Path | None,
    spec: ModelSpec,
    stage: str,
    source,
    *,
    dtype: str,
    weights_sha256: str,
    runtime: str,
    precision: str = "float32",
):
    """The store for ``out``: ``None`` (memory), ``.npy`` or ``.h5`` / ``.hdf5``."""
    if out is None:
        return MemoryStore(source, dtype)
    out = Path(out)
    if out.suffix == ".npy":
        return MemoryStore(source, dtype, out)
    if out.suffix not in (".h5", ".hdf5"):
        raise InputError(f"--out must end in .h5, .hdf5 or .npy, received {out}")
    attrs = {
        "model": spec.name,
        "stage": stage,
        "preprocessing": spec.preprocessing,
        "runtime": runtime,
        "precision": precision,
        "zoo_version": __version__,
        "weights_sha256": weights_sha256,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    return H5Store(out, spec, stage, source, dtype, attrs)
