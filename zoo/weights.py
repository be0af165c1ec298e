"""Weights files: where shipped ones live, and sha256 checks before anything is loaded.

Example:
    >>> path = zoo.weights.shipped_path(zoo.get_spec("mnist_convnet"))
    >>> zoo.weights.verify_file(path, zoo.get_spec("mnist_convnet").weights.sha256)
"""
from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

from zoo.errors import WeightsError, WeightsHashError
from zoo.spec import ModelSpec

PACKAGE_WEIGHTS_DIR = Path(__file__).resolve().parent / "data" / "weights"


def shipped_dir() -> Path:
    """The folder of shipped weights: ``$ZOO_WEIGHTS_DIR`` if set, else the package's own."""
    return Path(os.environ.get("ZOO_WEIGHTS_DIR") or PACKAGE_WEIGHTS_DIR)


#: (path, device, inode, size, mtime_ns) -> hashes: one read per file and process, however
#: many checks a run makes (the runtime's cache key, then the load). Any later write changes
#: the key; as in git's "racy clean" rule, a file modified in the last RACY_SECONDS is not
#: remembered, since file-system timestamps are coarser than a quick rewrite.
_HASHED: dict[tuple, dict[str, str]] = {}
RACY_SECONDS = 2.0


def file_hashes(path: str | Path) -> dict[str, str]:
    """sha256 and md5 of a file, in one pass; remembered in this process while the file is
    unchanged (same inode, size and modification time)."""
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key in _HASHED:
        return dict(_HASHED[key])
    sha256, md5 = hashlib.sha256(), hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha256.update(chunk)
            md5.update(chunk)
    hashes = {"sha256": sha256.hexdigest(), "md5": md5.hexdigest()}
    if time.time() - stat.st_mtime > RACY_SECONDS:
        _HASHED[key] = hashes
    return dict(hashes)


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file (see ``file_hashes``)."""
    return file_hashes(path)["sha256"]


def verify_file(path: str | Path, expected_sha256: str) -> None:
    """Raise ``WeightsHashError`` naming the file, the expected and the actual hash on mismatch."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"Weights file not found: {path}")
    actual = sha256_file(path)
    if actual != expected_sha256:
        raise WeightsHashError(
            f"Weights file {path} does not match its pinned hash: expected sha256 "
            f"{expected_sha256}, got {actual}. The file is corrupt or was replaced; "
            "nothing was loaded."
        )


def shipped_path(spec: ModelSpec) -> Path:
    """Path of the weights file shipped with ``spec`` (raises if the spec ships none)."""
    if spec.weights is None or spec.weights.source != "shipped":
        raise WeightsError(f"Model {spec.name!r} ships no weights file")
    return shipped_dir() / spec.weights.file


def resolve(spec: ModelSpec, weights: str | Path | None, include_top: bool = True) -> Path | None:
    """The verified file to load for ``weights``: 'default' (or 'imagenet'), None/'none', a path.

    Returns ``None`` when nothing is to be loaded from a file (random init, or builtin weights).
    ``include_top=False`` picks the spec's headless (no-top) file.
    """
    if weights is None or (isinstance(weights, str) and weights.lower() == "none"):
        return None
    if isinstance(weights, str) and weights in ("default", "imagenet"):
        return _default_file(spec, weights, include_top)
    path = Path(weights).expanduser()
    if not path.is_file():
        raise WeightsError(
            f"Weights file not found: {path} (weights= takes 'default', 'none' or a file path)"
        )
    _check_known_file(spec, path)
    return path


def _default_file(spec: ModelSpec, requested: str, include_top: bool) -> Path | None:
    if spec.weights is None:
        raise WeightsError(
            f"Model {spec.name!r} has no default weights; pass weights=None or a file path"
        )
    if requested == "imagenet" and spec.dataset != "imagenet":
        raise WeightsError(
            f"Model {spec.name!r} has no ImageNet weights (its weights: {spec.weights.trained_on}); "
            "use weights='default'"
        )
    if spec.weights.source == "builtin":
        return None
    if spec.weights.source == "shipped":
        path = shipped_path(spec)
        verify_file(path, spec.weights.sha256)
        return path
    from zoo.cache import fetch

    return fetch(spec.weights if include_top else spec.weights_no_top)


def _check_known_file(spec: ModelSpec, path: Path) -> None:
    """A local file named like one of the spec's pinned files must match that pin."""
    from zoo.cache import check_file

    for known in (spec.weights, spec.weights_no_top):
        if (known is not None and known.source == "url" and known.file == path.name
                and (known.sha256 or known.md5)):
            check_file(path, known, move_bad=False)


def weights_sha256(spec: ModelSpec, weights: Any, include_top: bool) -> str:
    """sha256 of the weights file a run uses ('none' for random, 'builtin' for fixed values)."""
    path = resolve(spec, weights, include_top=include_top)
    if path is None:
        return "none" if weights in (None, "none") else "builtin"
    return sha256_file(path)
