"""Where extracted features go: memory, a ``.npy`` file, or a resumable HDF5 file.

The HDF5 layout: datasets ``features`` (N, ...), ``paths`` (N,), ``labels`` (N,) and
``label_names`` when the source has class folders, ``error_paths`` / ``error_reasons`` for
files that could not be read, and ``committed`` = [rows, errors]: how many rows of each are
whole. Attributes ``model``, ``stage``, ``weights_sha256``, ``preprocessing``, ``input_size``,
``dtype``, ``runtime``, ``precision``, ``zoo_version``, ``date``.

A rerun resumes only a file of the same model, stage, weights, precision, dtype, input size
and class names (``--overwrite`` starts again); it retries the files that failed before
(``retry=False`` keeps them as failed). Each batch is written, flushed, and only then counted
in ``committed``: a kill at any point leaves whole batches, and the rows past ``committed``
are dropped when the file is next opened (a reader of a file still being written reads
``committed`` first). The file is written in HDF5's single-writer/multiple-reader (SWMR) mode;
after a kill it opens with ``h5py.File(path, "r", swmr=True)`` (HDF5 leaves its "open for
writing" flag set); the next run rewrites it as a plain file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.files import atomic_path, utc_now
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
    #: files of the source folders and globs that are not images (not read)
    skipped: list[str] = field(default_factory=list)


def open_for_reading(path: Path):
    """An HDF5 feature file opened for reading, whatever state a run left it in: closed, being
    written (SWMR), or killed (its "open for writing" flags are cleared first, as ``h5clear``
    does, when SWMR had not started)."""
    import h5py

    try:
        return h5py.File(path, "r", libver="latest", swmr=True)
    except OSError as error:
        if "not already open for SWMR writing" not in str(error):
            raise
    _clear_consistency_flags(path)
    return h5py.File(path, "r")


def _rewrite(path: Path, rows: int, errors: int, feature_shape=None, dtype: str = "") -> None:
    """Replace ``path`` atomically by a closed copy of it holding ``rows`` whole rows and
    ``errors`` error rows; with ``feature_shape``, an empty ``features`` dataset is added where
    there is none. A kill at any moment leaves the old file or the new one."""
    import h5py

    with (
        atomic_path(path) as temp,  # replaces path once both files below are closed
        open_for_reading(path) as source,
        h5py.File(temp, "w", libver="latest") as target,
    ):
        target.attrs.update(dict(source.attrs))
        for name, dataset in source.items():
            if name == "committed":
                continue
            keep = rows if name in ROW_DATASETS else errors if name in ERROR_DATASETS else None
            if keep is None:
                target.create_dataset(name, data=dataset[:])
                continue
            copy = target.create_dataset(
                name,
                (keep, *dataset.shape[1:]),
                dtype=dataset.dtype,
                maxshape=(None, *dataset.shape[1:]),
                chunks=dataset.chunks or True,
            )
            for start in range(0, keep, COPY_ROWS):  # in blocks: files can be large
                copy[start : start + COPY_ROWS] = dataset[start : min(keep, start + COPY_ROWS)]
        target.create_dataset("committed", data=np.array([rows, errors], dtype="int64"))
        if feature_shape is not None and "features" not in target:
            _create_features(target, feature_shape, dtype)


#: Rows copied at a time when a file is rewritten.
COPY_ROWS = 4096


def _create_features(handle, shape, dtype: str) -> None:
    handle.create_dataset(
        "features",
        (0, *shape),
        dtype=dtype,
        maxshape=(None, *shape),
        chunks=(64, *shape),
    )


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _clear_consistency_flags(path: Path) -> None:
    """What ``h5clear -s`` does: zero the "file open for writing" flags that a killed writer
    left in the superblock and checksum it again. Superblock versions 2 and 3, at the start of
    the file: signature, version, size of offsets (O), size of lengths, the flags byte, four
    addresses of O bytes, then a Jenkins lookup3 checksum. Everything the file holds was
    flushed batch by batch."""
    with open(path, "r+b") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:8] != HDF5_SIGNATURE or head[8] < 2:
            raise InputError(f"{path}: not an HDF5 file zoo wrote; remove it or pass --overwrite")
        handle.seek(0)
        superblock = bytearray(handle.read(12 + 4 * head[9]))
        superblock[11] = 0
        handle.seek(0)
        handle.write(bytes(superblock) + _lookup3(bytes(superblock)).to_bytes(4, "little"))


def _rotate(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (32 - bits))) & 0xFFFFFFFF


def _lookup3(data: bytes) -> int:
    """Bob Jenkins' lookup3 ``hashlittle`` with seed 0: HDF5's metadata checksum."""
    mask = 0xFFFFFFFF
    a = b = c = (0xDEADBEEF + len(data)) & mask
    padded = data + bytes(-len(data) % 12)

    def words(start: int) -> tuple[int, int, int]:
        return tuple(
            int.from_bytes(padded[start + 4 * k : start + 4 * k + 4], "little") for k in range(3)
        )

    blocks = max(0, (len(data) - 1) // 12)  # the last 1..12 bytes take the final mix
    for start in range(0, 12 * blocks, 12):
        x, y, z = words(start)
        a, b, c = (a + x) & mask, (b + y) & mask, (c + z) & mask
        a = ((a - c) & mask) ^ _rotate(c, 4)
        c = (c + b) & mask
        b = ((b - a) & mask) ^ _rotate(a, 6)
        a = (a + c) & mask
        c = ((c - b) & mask) ^ _rotate(b, 8)
        b = (b + a) & mask
        a = ((a - c) & mask) ^ _rotate(c, 16)
        c = (c + b) & mask
        b = ((b - a) & mask) ^ _rotate(a, 19)
        a = (a + c) & mask
        c = ((c - b) & mask) ^ _rotate(b, 4)
        b = (b + a) & mask
    if not data:
        return c
    x, y, z = words(12 * blocks)
    a, b, c = (a + x) & mask, (b + y) & mask, (c + z) & mask
    c = ((c ^ b) - _rotate(b, 14)) & mask
    a = ((a ^ c) - _rotate(c, 11)) & mask
    b = ((b ^ a) - _rotate(a, 25)) & mask
    c = ((c ^ b) - _rotate(b, 16)) & mask
    a = ((a ^ c) - _rotate(c, 4)) & mask
    b = ((b ^ a) - _rotate(a, 14)) & mask
    c = ((c ^ b) - _rotate(b, 24)) & mask
    return c


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


#: Test hook: called with the name of each write step of ``H5Store`` once it is done (the
#: kill-at-every-write-point tests set it).
WRITE_POINT_HOOK: Callable[[str], None] | None = None


def _write_point(step: str) -> None:
    if WRITE_POINT_HOOK is not None:
        WRITE_POINT_HOOK(step)


class H5Store:
    """A resumable HDF5 feature file (see the module docstring).

    On disk the file is always either closed and whole, or open in SWMR mode with
    ``committed`` counting its whole rows: it is built in a temporary file and renamed into
    place with the first batch's shape (errors before the first batch wait in memory), and a
    resume that must drop rows rewrites it the same way.
    """

    def __init__(
        self,
        path: Path,
        source,
        dtype: str,
        attrs: dict[str, Any],
        *,
        retry: bool = True,
        overwrite: bool = False,
    ):
        self.path = path
        self.source = source
        self.dtype = dtype
        self.attrs = attrs
        self.file = None  # open (SWMR) once the file holds features
        self.pending_errors: list[tuple[str, str]] = []
        self.rows = self.errors = 0
        self.done: set[str] = set()
        if path.exists() and overwrite:
            path.unlink()
        if path.exists():
            self._resume(retry)

    def _resume(self, retry: bool) -> None:
        closed = _closed(self.path)
        try:
            source = open_for_reading(self.path)
        except (OSError, InputError) as error:
            raise InputError(
                f"{self.path} exists but is not a readable HDF5 file ({error}); "
                "choose another --out, or pass --overwrite"
            ) from None
        with source:
            problem = _mismatch(
                self.path, _stored_key(source), _resume_key(self.attrs, self.source)
            )
            if problem:
                raise InputError(problem)
            rows, errors = committed_counts(source)
            errors = 0 if retry else errors
            whole = "committed" in source and all(
                len(source[name]) == keep
                for names, keep in ((ROW_DATASETS, rows), (ERROR_DATASETS, errors))
                for name in names
                if name in source
            )
            paths = source["paths"][:rows].tolist() + source["error_paths"][:errors].tolist()
            has_features = "features" in source
        if not (whole and closed):
            _rewrite(self.path, rows, errors)  # drop what a kill left past the whole rows
        self.rows, self.errors = rows, errors
        self.done = {p.decode() for p in paths}
        if has_features:
            self._open_swmr()

    def _open_swmr(self) -> None:
        import h5py

        self.file = h5py.File(self.path, "a", libver="latest")
        self.file.swmr_mode = True

    def _create(self, feature_shape) -> None:
        """Put the whole file in place (atomically) with an empty ``features`` of the first
        batch's shape, then open it in SWMR mode."""
        import h5py

        if self.path.exists():  # a resumed file that held only errors so far
            _rewrite(self.path, self.rows, self.errors, feature_shape, self.dtype)
        else:
            with atomic_path(self.path) as temp, h5py.File(temp, "w", libver="latest") as handle:
                self._create_datasets(handle, feature_shape)
        self._open_swmr()

    def _create_datasets(self, handle, feature_shape) -> None:
        source = self.source
        width = max([MIN_PATH_BYTES, *(len(p.encode()) for p in source.paths)])
        for name, size in (
            ("paths", width),
            ("error_paths", width),
            ("error_reasons", REASON_BYTES),
        ):
            handle.create_dataset(name, (0,), dtype=f"S{size}", maxshape=(None,), chunks=(256,))
        if source.labels is not None:
            handle.create_dataset("labels", (0,), dtype="int32", maxshape=(None,), chunks=(256,))
            handle.create_dataset(
                "label_names", data=np.array([n.encode() for n in source.label_names])
            )
        handle.create_dataset("committed", data=np.zeros(2, dtype="int64"))
        if feature_shape is not None:
            _create_features(handle, feature_shape, self.dtype)
        handle.attrs.update(self.attrs)

    def _append(self, name: str, values) -> None:
        dataset = self.file[name]
        start = dataset.shape[0]
        dataset.resize(start + len(values), axis=0)
        dataset[start:] = values
        _write_point(name)

    def _commit(self) -> None:
        """Flush the rows written, then count them: a kill before the count leaves them out."""
        self.file.flush()
        _write_point("flush")
        self.file["committed"][:] = [self.rows, self.errors]
        _write_point("committed")
        self.file.flush()
        _write_point("flush committed")

    def add(self, values: np.ndarray, paths: list[str], labels: list[int] | None) -> None:
        if self.file is None:
            self._create(values.shape[1:])
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
        self.rows += len(paths)
        self._commit()
        self._write_pending_errors()

    def add_error(self, path: str, reason: str) -> None:
        self.pending_errors.append((path, reason))
        if self.file is not None:
            self._write_pending_errors()

    def _write_pending_errors(self) -> None:
        if not self.pending_errors:
            return
        for name, values in _error_columns(self.file, self.pending_errors):
            self._append(name, values)
        self.errors += len(self.pending_errors)
        self.pending_errors = []
        self._commit()

    def close(self) -> None:
        """Close the file; errors not yet written are dropped (a resume retries those files)."""
        if self.file is not None and self.file.id.valid:
            self.file.close()

    def complete(self) -> None:
        """Write what is pending and close the file, whole (``finish`` also reads it back)."""
        if self.file is None:  # no batch had a readable image: a closed file of errors only
            self._finish_without_features()
        else:
            self._write_pending_errors()
            self.file.close()

    def finish(self) -> FeatureResult:
        import h5py

        self.complete()
        with h5py.File(self.path, "r") as file:
            rows, errors = self.rows, self.errors
            return FeatureResult(
                features=file["features"][:rows]
                if "features" in file
                else np.zeros((0,), self.dtype),
                paths=[p.decode() for p in file["paths"][:rows]],
                labels=file["labels"][:rows] if "labels" in file else None,
                label_names=[n.decode() for n in file["label_names"][:]]
                if "label_names" in file
                else None,
                errors=stored_errors(file, errors),
                out=self.path,
            )

    def _finish_without_features(self) -> None:
        """Write the file of a run whose every file failed (and of its earlier errors), whole,
        through a temporary file."""
        import h5py

        errors = list(self.pending_errors)
        if self.path.exists():
            with open_for_reading(self.path) as source:
                errors = stored_errors(source, self.errors) + errors
        with atomic_path(self.path) as temp, h5py.File(temp, "w", libver="latest") as handle:
            self._create_datasets(handle, None)
            for name, values in _error_columns(handle, errors):
                handle[name].resize(len(errors), axis=0)
                handle[name][:] = values
            handle["committed"][:] = [0, len(errors)]
        self.errors, self.pending_errors = len(errors), []


def _error_columns(handle, errors: list[tuple[str, str]]) -> list[tuple[str, np.ndarray]]:
    """(dataset, values) of ``errors`` (path, reason) as the file's error datasets store them."""
    return [
        ("error_paths", np.array([p.encode() for p, _ in errors], handle["error_paths"].dtype)),
        (
            "error_reasons",
            np.array([r.encode()[:REASON_BYTES] for _, r in errors], handle["error_reasons"].dtype),
        ),
    ]


def _closed(path: Path) -> bool:
    """True when no writer holds ``path`` open (nor left it so by being killed)."""
    import h5py

    try:
        with h5py.File(path, "r", libver="latest"):
            return True
    except OSError:
        return False


ROW_DATASETS = ("features", "labels", "paths")
ERROR_DATASETS = ("error_paths", "error_reasons")


def stored_errors(handle, count: int) -> list[tuple[str, str]]:
    """The first ``count`` (path, reason) pairs of an open feature file's error datasets."""
    return [
        (path.decode(), reason.decode())
        for path, reason in zip(
            handle["error_paths"][:count], handle["error_reasons"][:count], strict=True
        )
    ]


def committed_counts(handle) -> tuple[int, int]:
    """[rows, errors] that are whole; a file from before ``committed`` counts the rows that
    every dataset holds."""
    if "committed" in handle:
        rows, errors = (int(n) for n in handle["committed"][:])
        return rows, errors
    rows = min(len(handle[name]) for name in ROW_DATASETS if name in handle)
    errors = min(len(handle[name]) for name in ERROR_DATASETS)
    return rows, errors


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


def _resume_key(attrs: dict[str, Any], source) -> dict[str, Any]:
    key = {name: attrs.get(name) for name in RESUME_FIELDS if name in attrs}
    key["label_names"] = list(source.label_names) if source.label_names else None
    return key


def _stored_key(handle) -> dict[str, Any]:
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


def _mismatch(path: Path, found: dict[str, Any], wanted: dict[str, Any]) -> str | None:
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
            problem = _mismatch(Path(out), _stored_key(handle), wanted)
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
    input_shape: Sequence[int] | None = None,
    retry: bool = True,
    overwrite: bool = False,
):
    """The store for ``out``: ``None`` (memory), ``.npy`` or ``.h5`` / ``.hdf5``."""
    if out is None:
        return MemoryStore(source, dtype)
    out = Path(out)
    if out.suffix == ".npy":
        return MemoryStore(source, dtype, out)
    if out.suffix not in (".h5", ".hdf5"):
        raise InputError(f"--out must end in .h5, .hdf5 or .npy, received {out}")
    attrs = store_attrs(spec, stage, dtype, weights_sha256, runtime, precision, input_shape)
    return H5Store(out, source, dtype, attrs, retry=retry, overwrite=overwrite)


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
