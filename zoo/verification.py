"""``zoo verify``: check weights files against their hashes without loading anything. No TensorFlow.

Shipped files are checked against the sha256 pinned in their spec; downloaded (ImageNet) files
in the cache against the pinned hash or the sha256 recorded at their first download.

Example:
    >>> [row["status"] for row in zoo.verify(["mnist_convnet"])]
    ['ok']
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from zoo import registry
from zoo.errors import WeightsError
from zoo.spec import ModelSpec, WeightsSpec
from zoo.weights import shipped_path, verify_file


def file_status(spec: ModelSpec, weights: WeightsSpec | None) -> dict[str, str]:
    """``{"file", "status", "detail"}`` for one weights file of ``spec``. Status: ``ok``,
    ``failed``, ``missing`` (not downloaded yet), ``unverified`` (no hash known yet),
    ``builtin`` (values set in code) or ``none`` (no default weights)."""
    if weights is None or weights.source == "builtin":
        return {"file": "", "status": "none" if weights is None else "builtin", "detail": ""}
    if weights.source == "shipped":
        path = shipped_path(spec)
        try:
            verify_file(path, weights.sha256)
            return {"file": str(path), "status": "ok", "detail": f"sha256 {weights.sha256}"}
        except WeightsError as error:
            return {"file": str(path), "status": "failed", "detail": str(error)}
    from zoo.cache import cached_path, check_file, expected_hash, source_url

    path: Path = cached_path(weights)
    if not path.is_file():
        return {"file": str(path), "status": "missing", "detail": f"download: {source_url(weights)}"}
    expected = expected_hash(weights)
    if expected is None:
        return {"file": str(path), "status": "unverified", "detail": "no pinned or recorded hash"}
    try:
        check_file(path, weights, move_bad=False)
        return {"file": str(path), "status": "ok", "detail": f"{expected[0]} {expected[1]}"}
    except WeightsError as error:
        return {"file": str(path), "status": "failed", "detail": str(error)}


def verify(names: Iterable[str] | None = None, *, cached_only: bool = False) -> list[dict[str, str]]:
    """One row per model: ``{"model", "file", "status", "detail"}`` (see ``file_status``).
    ``cached_only`` leaves out downloadable models whose weights are not in the cache."""
    rows = []
    for name in names or registry.list_models():
        spec = registry.get_spec(name)
        row = {"model": name, **file_status(spec, spec.weights)}
        if cached_only and row["status"] == "missing":
            continue
        rows.append(row)
    return rows
