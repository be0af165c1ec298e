"""The weights shipped inside the package, and what training recorded about them.
No TensorFlow import.

``zoo/data/weights/`` holds each classic model's ``NAME.weights.h5`` (pinned by sha256 in its
spec) and ``results.json``: the accuracy, time, recipe and sha256 that ``zoo classics train``
recorded when it made them.

Example:
    >>> zoo.weights.shipped.shipped_path(zoo.get_spec("mnist_convnet")).name
    'mnist_convnet.weights.h5'
    >>> zoo.weights.shipped.recorded_results()["mnist_convnet"]["accuracy"]
    99.6
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from zoo.errors import WeightsError
from zoo.spec import ModelSpec

PACKAGE_WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "data" / "weights"
#: What ``zoo classics train`` records beside the weights it writes.
RESULTS_FILE = "results.json"


def shipped_dir() -> Path:
    """The folder of shipped weights: ``$ZOO_WEIGHTS_DIR`` if set, else the package's own."""
    return Path(os.environ.get("ZOO_WEIGHTS_DIR") or PACKAGE_WEIGHTS_DIR)


def shipped_path(spec: ModelSpec) -> Path:
    """Path of the weights file shipped with ``spec`` (raises if the spec ships none)."""
    if spec.weights is None or spec.weights.source != "shipped":
        raise WeightsError(f"Model {spec.name!r} ships no weights file")
    return shipped_dir() / spec.weights.file


def recorded_results() -> dict[str, dict[str, Any]]:
    """What ``zoo classics train`` recorded for the shipped weights (accuracy, time, recipe)."""
    path = shipped_dir() / RESULTS_FILE
    return json.loads(path.read_text()) if path.is_file() else {}
