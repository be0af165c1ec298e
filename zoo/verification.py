"""``zoo verify``: check the shipped weight files against their pinned sha256. No TensorFlow.

Example:
    >>> [row["status"] for row in zoo.verify(["mnist_convnet"])]
    ['ok']
"""
from __future__ import annotations

from typing import Iterable

from zoo import registry
from zoo.errors import WeightsError
from zoo.weights import shipped_path, verify_file


def verify(names: Iterable[str] | None = None) -> list[dict[str, str]]:
    """One row per model: ``{"model", "file", "status", "detail"}``; status is ``ok``,
    ``failed`` or ``builtin`` (weights set in code) or ``none`` (no default weights)."""
    rows = []
    for name in names or registry.list_models():
        spec = registry.get_spec(name)
        if spec.weights is None or spec.weights.source != "shipped":
            status = "none" if spec.weights is None else "builtin"
            rows.append({"model": name, "file": "", "status": status, "detail": ""})
            continue
        path = shipped_path(spec)
        try:
            verify_file(path, spec.weights.sha256)
            rows.append({"model": name, "file": str(path), "status": "ok",
                         "detail": f"sha256 {spec.weights.sha256}"})
        except WeightsError as error:
            rows.append({"model": name, "file": str(path), "status": "failed",
                         "detail": str(error)})
    return rows
