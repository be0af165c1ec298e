"""Which weights file a model loads, verified before anything is loaded. No TensorFlow import.

``weights=`` is ``"default"`` (the shipped file, or the Keras-cache download), ``None`` / ``"none"``
(random initialisation) or a path; every file is checked by ``zoo.weights.cache.check_file``.

Example:
    >>> zoo.weights.resolve.resolve(zoo.get_spec("mnist_convnet"), "default").name
    'mnist_convnet.weights.h5'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo.errors import WeightsError
from zoo.hashing import sha256_file
from zoo.spec import ModelSpec
from zoo.weights.cache import check_file, fetch
from zoo.weights.shipped import shipped_path


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
            f"Model {spec.name!r} has no ImageNet weights "
            f"(its weights: {spec.weights.trained_on}); "
            "use weights='default'"
        )
    if spec.weights.source == "builtin":
        return None
    if spec.weights.source in ("run", "file"):  # a run's model.keras (pinned), a user's file
        path = Path(spec.weights.file)
        check_file(path, spec.weights, move_bad=False)
        return path
    if spec.weights.source == "shipped":
        path = shipped_path(spec)
        check_file(path, spec.weights, move_bad=False)
        return path
    return fetch(spec.weights if include_top else spec.weights_no_top)


def _check_known_file(spec: ModelSpec, path: Path) -> None:
    """A local file named like one of the spec's pinned files must match that pin."""
    for known in (spec.weights, spec.weights_no_top):
        if (
            known is not None
            and known.source == "url"
            and known.file == path.name
            and (known.sha256 or known.md5)
        ):
            check_file(path, known, move_bad=False)


def weights_sha256(spec: ModelSpec, weights: Any, include_top: bool) -> str:
    """sha256 of the weights file a run uses ('none' for random, 'builtin' for fixed values)."""
    path = resolve(spec, weights, include_top=include_top)
    if path is None:
        return "none" if weights in (None, "none") else "builtin"
    return sha256_file(path)
