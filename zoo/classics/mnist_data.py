"""Find and read MNIST in Keras' ``mnist.npz`` layout (x_train, y_train, x_test, y_test)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from zoo.errors import DataError

KEYS = ("x_train", "y_train", "x_test", "y_test")
#: The most bytes an MNIST file may declare for its arrays: MNIST itself is 55 MB (uint8), 440 MB
#: even as float64; a file declaring more is refused before a byte of it is read.
DECLARED_LIMIT = 1 << 30
#: Deflate's largest possible expansion (about 1032:1): a member declaring more than this times
#: its compressed size does not hold what it declares.
DEFLATE_RATIO = 1032


class Mnist(NamedTuple):
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    path: Path


def keras_cache_path() -> Path:
    """Where ``keras.datasets.mnist.load_data()`` keeps its file."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return home / "datasets" / "mnist.npz"


def find(path: str | Path | None = None) -> Path:
    """The MNIST file to use: ``path`` if given, else Keras' cache; a clear error otherwise."""
    if path is not None:
        candidate = Path(path).expanduser()
        if not candidate.is_file():
            raise DataError(f"MNIST file not found: {candidate}")
        return candidate
    cached = keras_cache_path()
    if cached.is_file():
        return cached
    raise DataError(
        "MNIST not found. Pass --data PATH to an mnist.npz (Keras layout: x_train, y_train, "
        f"x_test, y_test), or put the file at {cached} (where keras.datasets.mnist keeps it)."
    )


def load(path: str | Path | None = None) -> Mnist:
    """Read MNIST from ``find(path)``, checking its arrays."""
    source = find(path)
    _check_declared(source)
    try:
        with np.load(source) as data:
            arrays = {key: data[key] for key in KEYS}
    except KeyError as error:
        raise DataError(f"{source} is not in Keras' mnist.npz layout: missing {error}") from None
    except Exception as error:
        raise DataError(f"Could not read MNIST file {source}: {error}") from None
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or len(x) != len(y):
            raise DataError(
                f"{source}: x_{split} must be (N, 28, 28) with N labels, "
                f"got {x.shape} and {y.shape}"
            )
        _check_values(source, split, x, y)
    return Mnist(**arrays, path=source)


def _declared_arrays(source: Path) -> dict[str, tuple[tuple[int, ...], np.dtype, int, int]]:
    """{key: (shape, dtype, compressed bytes, stored bytes)} of the arrays an ``.npz`` declares
    in its ``.npy`` headers, read without reading the arrays."""
    import zipfile

    from numpy.lib import format as npy

    found = {}
    with zipfile.ZipFile(source) as archive:
        for key in KEYS:
            try:
                info = archive.getinfo(f"{key}.npy")
            except KeyError:
                continue  # np.load's own KeyError names it below
            with archive.open(info) as member:
                major, _ = npy.read_magic(member)
                header = npy.read_array_header_1_0 if major == 1 else npy.read_array_header_2_0
                shape, _, dtype = header(member)
            found[key] = (tuple(shape), dtype, info.compress_size, info.file_size)
    return found


def _check_declared(source: Path) -> None:
    """Refuse, before loading, an MNIST file whose arrays declare more than ``DECLARED_LIMIT``
    bytes, or more than its members can hold (a 1.5 MB file declaring 1.57 GB was read into
    1.56 GB of memory)."""
    import zipfile

    if not zipfile.is_zipfile(source):
        return  # np.load says what it is
    try:
        declared = _declared_arrays(source)
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise DataError(f"Could not read MNIST file {source}: {error}") from None
    total = 0
    for key, (shape, dtype, packed, stored) in declared.items():
        if dtype.hasobject:
            raise DataError(f"{source}: {key} holds Python objects ({dtype}), not numbers")
        size = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
        if size > stored or (packed < stored and size > DEFLATE_RATIO * max(packed, 1)):
            raise DataError(
                f"{source}: {key} declares {shape} {dtype} ({size:,} bytes), more than its "
                f"{packed:,} bytes in the file can hold: a damaged or hostile file"
            )
        total += size
    if total > DECLARED_LIMIT:
        raise DataError(
            f"{source}: its arrays declare {total / 2**30:.2f} GiB, over the "
            f"{DECLARED_LIMIT >> 30} GiB an MNIST file may hold (MNIST is 55 MB): refused "
            "before reading"
        )


def _check_values(source: Path, split: str, x: np.ndarray, y: np.ndarray) -> None:
    """Pixels finite numbers in 0..255, labels whole numbers 0..9: anything else would train
    NaN weights or fail deep inside Keras."""
    if not np.issubdtype(x.dtype, np.number):
        raise DataError(f"{source}: x_{split} must hold numbers, it holds {x.dtype}")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        bad = int(np.size(x) - np.isfinite(x).sum())
        raise DataError(f"{source}: x_{split} holds {bad} NaN or infinite pixel(s)")
    if x.size and (x.min() < 0 or x.max() > 255):
        raise DataError(f"{source}: x_{split} pixels must be in 0..255, found {x.min()}..{x.max()}")
    if not np.issubdtype(y.dtype, np.integer) and not (
        np.issubdtype(y.dtype, np.floating) and np.isfinite(y).all() and (y == np.round(y)).all()
    ):
        raise DataError(f"{source}: y_{split} must hold whole-number labels 0..9 ({y.dtype})")
    if y.size and (y.min() < 0 or y.max() > 9):
        wrong = int(((y < 0) | (y > 9)).sum())
        raise DataError(
            f"{source}: y_{split} labels must be 0..9, found {y.min()}..{y.max()} "
            f"({wrong} label(s) out of range)"
        )
