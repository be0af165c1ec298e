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

import contextlib
import gc
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.files import atomic_path, is_write_failure, write_error
from zoo.inference.feature_file import (
    ERROR_DATASETS,
    MIN_PATH_BYTES,
    REASON_BYTES,
    ROW_DATASETS,
    committed_counts,
    create_features,
    error_columns,
    is_closed,
    open_for_reading,
    rewrite,
    stored_errors,
)
from zoo.inference.feature_resume import mismatch, resume_key, store_attrs, stored_key
from zoo.spec import ModelSpec


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
            with atomic_path(Path(self.npy_path)) as temp:  # a failed write keeps the old one
                np.save(temp, features)
        return FeatureResult(
            features,
            self.paths,
            np.asarray(self.labels) if self.source.labels else None,
            self.source.label_names,
            self.errors,
            self.npy_path,
        )


#: Bytes kept free beyond a batch and its chunks, for HDF5's metadata.
SPACE_MARGIN = 256 * 1024

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
        self.committed = (0, 0)  # what the file's ``committed`` says, on the disk
        self.broken = False  # a write failed: the file is closed without writing more
        self.done: set[str] = set()
        if path.exists() and overwrite:
            path.unlink()
        if path.exists():
            self._resume(retry)

    def _resume(self, retry: bool) -> None:
        closed = is_closed(self.path)
        try:
            source = open_for_reading(self.path)
        except (OSError, InputError) as error:
            raise InputError(
                f"{self.path} exists but is not a readable HDF5 file ({error}); "
                "choose another --out, or pass --overwrite"
            ) from None
        with source:
            problem = mismatch(self.path, stored_key(source), resume_key(self.attrs, self.source))
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
            rewrite(self.path, rows, errors)  # drop what a kill left past the whole rows
        self.rows, self.errors = rows, errors
        self.committed = (rows, errors)
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
            rewrite(self.path, self.rows, self.errors, feature_shape, self.dtype)
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
            create_features(handle, feature_shape, self.dtype)
        handle.attrs.update(self.attrs)

    def _append(self, name: str, values) -> None:
        dataset = self.file[name]
        start = dataset.shape[0]
        dataset.resize(start + len(values), axis=0)
        dataset[start:] = values
        dataset.flush()  # a failed write raises here, not in a destructor that only prints it
        _write_point(name)

    def _commit(self) -> None:
        """Flush the rows written to the disk (fsync), then count them: a kill or a full disk
        before the count leaves them out, and the count is never ahead of the disk."""
        self._sync()
        _write_point("flush")
        self.file["committed"][:] = [self.rows, self.errors]
        _write_point("committed")
        self._sync()
        self.committed = (self.rows, self.errors)
        _write_point("flush committed")

    def _check_space(self, values: np.ndarray, count: int) -> None:
        """Refuse a batch the disk has no room for, before HDF5 tries: HDF5 reports a failed
        write only in part (some at close, in destructors that print it) and can crash at exit
        on a file it cannot flush. The room asked for is the batch plus a new chunk of every
        dataset (HDF5 allocates whole chunks) and a margin for its metadata."""
        import errno

        chunks = sum(
            int(np.prod(dataset.chunks)) * dataset.dtype.itemsize
            for dataset in self.file.values()
            if getattr(dataset, "chunks", None)
        )
        needed = (
            values.nbytes + count * self.file["paths"].dtype.itemsize + 2 * chunks + SPACE_MARGIN
        )
        free = shutil.disk_usage(self.path.parent).free
        if free < needed:
            raise OSError(
                errno.ENOSPC,
                f"{free >> 10} KiB free, the next batch needs about {needed >> 10} KiB",
            )

    def _sync(self) -> None:
        self.file.flush()
        os.fsync(self.file.id.get_vfd_handle())

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Turn a failed write (a full disk, an I/O error) into one ``WriteError`` naming the
        file and what it keeps: the rows counted in ``committed`` before it."""
        try:
            yield
        except (OSError, RuntimeError) as error:
            if not is_write_failure(error):
                raise
            self.broken = True
            rows, errors = self.committed
            failure = write_error(
                self.path, error,
                f"It keeps the {rows} rows (and {errors} unreadable files) of the whole batches "
                "written before; free some space and run the same command again to go on "
                "from them",
            )  # fmt: skip
            # The failed write's frames hold HDF5 objects of the failing file: freed after the
            # file is closed (as the traceback would free them on the way out), HDF5 crashes.
            error.__traceback__ = None
            del error
            gc.collect()  # ... and so are those in reference cycles: free them first
            self.close()
            raise failure from None

    def add(self, values: np.ndarray, paths: list[str], labels: list[int] | None) -> None:
        with self._writing():
            self._add(values, paths, labels)

    def _add(self, values: np.ndarray, paths: list[str], labels: list[int] | None) -> None:
        if self.file is None:
            self._create(values.shape[1:])
        held = self.file["features"].shape[1:]
        if tuple(values.shape[1:]) != tuple(held):
            raise InputError(
                f"{self.path} holds features of shape {tuple(held)} per image; this run gives "
                f"{tuple(values.shape[1:])}: write to a new file, or pass --overwrite"
            )
        self._check_space(values, len(paths))
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
            with self._writing():
                self._write_pending_errors()

    def _write_pending_errors(self) -> None:
        if not self.pending_errors:
            return
        for name, values in error_columns(self.file, self.pending_errors):
            self._append(name, values)
        self.errors += len(self.pending_errors)
        self.pending_errors = []
        self._commit()

    def close(self) -> None:
        """Close the file; errors not yet written are dropped (a resume retries those files).
        After a failed write the close may fail too: the rows counted before are kept."""
        if self.file is not None and self.file.id.valid:
            try:
                self.file.close()
            except (OSError, RuntimeError):
                if not self.broken:
                    raise

    def complete(self) -> None:
        """Write what is pending and close the file, whole (``finish`` also reads it back)."""
        if self.file is None:  # no batch had a readable image: a closed file of errors only
            self._finish_without_features()
        else:
            with self._writing():
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
            for name, values in error_columns(handle, errors):
                handle[name].resize(len(errors), axis=0)
                handle[name][:] = values
            handle["committed"][:] = [0, len(errors)]
        self.errors, self.pending_errors = len(errors), []


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
