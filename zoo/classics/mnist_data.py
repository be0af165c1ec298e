"""Find and read MNIST in Keras' ``mnist.npz`` layout (x_train, y_train, x_test, y_test)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from zoo.errors import DataError

KEYS = ("x_train", "y_train", "x_test", "y_test")


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
    return Mnist(**arrays, path=source)
