"""``zoo verify``: check weights files against their hashes without loading anything. No TensorFlow.

Shipped files are checked against the sha256 pinned in their spec; downloaded (ImageNet) files
in the cache against the pinned hash or the sha256 recorded at their first verified use.

Example:
    >>> [row["status"] for row in zoo.verify(["mnist_convnet"])]
    ['ok']
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from zoo import registry
from zoo.errors import WeightsError
from zoo.spec import ModelSpec, WeightsSpec
from zoo.weights.cache import cached_path, check_file, expected_hash, source_url
from zoo.weights.shipped import shipped_path


def file_status(spec: ModelSpec, weights: WeightsSpec | None) -> dict[str, str]:
    """``{"file", "status", "detail"}`` for one weights file of ``spec``. Status: ``ok``,
    ``failed``, ``missing`` (not downloaded yet), ``unverified`` (no hash known yet),
    ``builtin`` (values set in code) or ``none`` (no default weights)."""
    if weights is None or weights.source == "builtin":
        return {"file": "", "status": "none" if weights is None else "builtin", "detail": ""}
    if weights.source == "shipped":
        path = shipped_path(spec)
    elif weights.source == "run":
        path = Path(weights.file)
    else:
        path = cached_path(weights)
        if not path.is_file():
            return {
                "file": str(path),
                "status": "missing",
                "detail": f"download: {source_url(weights)}",
            }
    expected = expected_hash(weights)
    if expected is None:
        return {"file": str(path), "status": "unverified", "detail": "no pinned or recorded hash"}
    try:
        check_file(path, weights, move_bad=False)
        return {"file": str(path), "status": "ok", "detail": f"{expected[0]} {expected[1]}"}
    except WeightsError as error:
        return {"file": str(path), "status": "failed", "detail": str(error)}


def verify(
    names: Iterable[str] | None = None, *, cached_only: bool = False
) -> list[dict[str, str]]:
    """Check the weights files of ``names`` (default: every model) against their hashes,
    without loading anything: one row per file, ``{"model", "weights", "file", "status",
    "detail"}`` (see ``file_status``); ``weights`` is ``top``, or ``no top`` for the headless
    file that ``zoo features`` downloads. ``cached_only`` leaves out the downloadable files that
    are not in the cache.

    Example:
        >>> [row["status"] for row in zoo.verify(["mnist_convnet", "prewitt"])]
        ['ok', 'builtin']
    """
    rows = []
    for name in names or registry.list_models():
        spec = registry.get_spec(name)
        files = [("top", spec.weights)]
        if spec.weights_no_top is not None and spec.weights_no_top != spec.weights:
            files.append(("no top", spec.weights_no_top))
        for kind, weights in files:
            row = {"model": name, "weights": kind, **file_status(spec, weights)}
            if cached_only and row["status"] == "missing":
                continue
            rows.append(row)
    return rows
