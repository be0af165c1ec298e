"""The HDF5 side of a feature file: opening one whatever state a run left it in, rewriting
it with only its whole rows, clearing the flags a killed writer leaves (as ``h5clear -s``
does), and reading its committed counts and error rows. ``zoo.inference.feature_store``
writes through these; ``zoo.scale.shards`` reads shards with them.

Example:
    >>> with feature_file.open_for_reading(Path("features.h5")) as handle:
    ...     feature_file.committed_counts(handle)
    (410, 2)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.errors import InputError
from zoo.files import atomic_path

MIN_PATH_BYTES = 256
REASON_BYTES = 512
ROW_DATASETS = ("features", "labels", "paths")
ERROR_DATASETS = ("error_paths", "error_reasons")


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
    clear_consistency_flags(path)
    return h5py.File(path, "r")


def rewrite(path: Path, rows: int, errors: int, feature_shape=None, dtype: str = "") -> None:
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
            create_features(target, feature_shape, dtype)


#: Rows copied at a time when a file is rewritten.
COPY_ROWS = 4096


def create_features(handle, shape, dtype: str) -> None:
    handle.create_dataset(
        "features",
        (0, *shape),
        dtype=dtype,
        maxshape=(None, *shape),
        chunks=(64, *shape),
    )


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def clear_consistency_flags(path: Path) -> None:
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


def is_closed(path: Path) -> bool:
    """True when no writer holds ``path`` open (nor left it so by being killed)."""
    import h5py

    try:
        with h5py.File(path, "r", libver="latest"):
            return True
    except OSError:
        return False


def error_columns(handle, errors: list[tuple[str, str]]) -> list[tuple[str, np.ndarray]]:
    """(dataset, values) of ``errors`` (path, reason) as the file's error datasets store them."""
    return [
        ("error_paths", np.array([p.encode() for p, _ in errors], handle["error_paths"].dtype)),
        (
            "error_reasons",
            np.array([r.encode()[:REASON_BYTES] for _, r in errors], handle["error_reasons"].dtype),
        ),
    ]


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
    every dataset holds.

    Raises:
        InputError: the file lacks a dataset every feature file has, or its ``committed`` is
            not two counts within what its datasets hold (a damaged or hand-made file).
    """
    where = getattr(handle, "filename", "the feature file")
    missing = [name for name in ("paths", *ERROR_DATASETS) if name not in handle]
    if missing:
        raise InputError(
            f"{where}: not a whole zoo feature file (no {', '.join(missing)} dataset); choose "
            "another --out, or pass --overwrite"
        )
    held = min(len(handle[name]) for name in ROW_DATASETS if name in handle)
    held_errors = min(len(handle[name]) for name in ERROR_DATASETS)
    if "committed" not in handle:
        return held, held_errors
    committed = handle["committed"]
    if committed.shape != (2,) or committed.dtype.kind not in "iu":
        raise InputError(
            f"{where}: 'committed' must be two integer counts [rows, errors]; it is "
            f"{committed.dtype} of shape {committed.shape}"
        )
    rows, errors = (int(n) for n in committed[:])
    if not (0 <= rows <= held and 0 <= errors <= held_errors):
        raise InputError(
            f"{where}: 'committed' = [{rows}, {errors}], but the file holds {held} rows and "
            f"{held_errors} error rows; it is damaged: choose another --out, or pass --overwrite"
        )
    return rows, errors
