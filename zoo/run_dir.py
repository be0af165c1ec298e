"""A fine-tuning run directory, and the model spec it stands for. No TensorFlow import.

``zoo.fine_tune(..., out="runs/flowers")`` writes::

    runs/flowers/model.keras     the best epoch's model (raw pixels in, probabilities out)
    runs/flowers/labels.json     class names in index order
    runs/flowers/run.json        base model + weights sha256, derived spec, arguments, versions
    runs/flowers/history.csv     per-epoch metrics of both phases
    runs/flowers/metrics.json    validation accuracy, per-class precision/recall, confusion
    runs/flowers/curves.png, confusion.png, bad_files.txt, checkpoints/

Anywhere a model name is taken, such a directory is taken too: ``registry.get_spec`` gives
its derived spec (the base model's, with the run's input shape, classes and labels).

Example:
    >>> spec = zoo.get_spec("runs/flowers")
    >>> spec.num_classes, spec.labels
    (3, ('daisy', 'rose', 'tulip'))
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from zoo.errors import DataError
from zoo.spec import ModelSpec, WeightsSpec

MODEL_FILE = "model.keras"
LABELS_FILE = "labels.json"
RUN_FILE = "run.json"
HISTORY_FILE = "history.csv"
METRICS_FILE = "metrics.json"
CURVES_FILE = "curves.png"
CONFUSION_FILE = "confusion.png"
TOP_LOSSES_FILE = "top_losses.png"
LR_FIND_FILE = "lr_find.png"
BAD_FILES = "bad_files.txt"
CHECKPOINTS = "checkpoints"
#: Format of run.json; a reader refuses a newer one.
RUN_FORMAT = 1


def model_name(folder: str | Path) -> str:
    """The name a run's model goes by (``run_flowers``): never a registry name."""
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", Path(folder).expanduser().resolve().name).strip("_")
    return "run_" + (stem.lower() or "model")


def is_run_dir(name: object) -> bool:
    """True when ``name`` is a path to a folder holding a ``run.json``."""
    if not isinstance(name, (str, Path)):
        return False
    try:
        return (Path(name).expanduser() / RUN_FILE).is_file()
    except (OSError, ValueError):
        return False


def read_json(path: Path) -> Any:
    """The JSON in ``path``; a ``DataError`` naming the file when it is unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: unreadable ({error})") from None


def read_run(folder: str | Path) -> dict[str, Any]:
    """The run record (run.json) of a run directory."""
    record = read_json(Path(folder).expanduser() / RUN_FILE)
    if not isinstance(record, dict) or record.get("format", 0) > RUN_FORMAT:
        raise DataError(f"{folder}/{RUN_FILE}: not a run record this zoo version reads")
    return record


def differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``key X there, Y here`` for each entry of ``current`` whose value (as JSON stores it)
    is not the one ``recorded`` (read from a run or search folder) holds."""
    return [
        f"{key} {recorded.get(key)!r} there, {value!r} here"
        for key, value in current.items()
        if json.loads(json.dumps(value)) != recorded.get(key)
    ]


def finished(folder: str | Path) -> bool:
    """True when the run in ``folder`` completed (its model and record are final)."""
    folder = Path(folder).expanduser()
    return is_run_dir(folder) and read_run(folder).get("status") == "finished"


def run_spec(folder: str | Path, base: ModelSpec) -> ModelSpec:
    """The spec a finished run directory stands for: ``base`` (the model it was fine-tuned
    from) with the run's input shape, classes and labels, and its ``model.keras`` as weights.

    Raises:
        DataError: the run has not finished (no final model yet).
    """
    folder = Path(folder).expanduser().resolve()
    record = read_run(folder)
    if record.get("status") != "finished":
        raise DataError(
            f"{folder} is a fine-tuning run that has not finished (status "
            f"{record.get('status')!r}); run the same `zoo finetune` command again to resume it"
        )
    derived = record["spec"]
    return dataclasses.replace(
        base,
        name=model_name(folder),
        summary=record.get("summary")
        or f"{base.name} fine-tuned on {record['arguments'].get('data')}",
        input_shape=tuple(derived["input_shape"]),
        num_classes=len(derived["labels"]),
        labels=tuple(derived["labels"]),
        weights=WeightsSpec(
            source="run",
            file=str(folder / MODEL_FILE),
            sha256=record.get("model_sha256"),
            trained_on=str(record["arguments"].get("data")),
        ),
        weights_no_top=None,
        feature_stages=tuple(s for s in base.feature_stages if s.name != "logits"),
        reference=None,
        accuracy_floor=None,
        params=int(derived.get("params", base.params)),
    )


def run_summary(folder: str | Path) -> dict[str, Any]:
    """What ``zoo info RUN_DIR`` adds to the derived spec: base model, data, status, best."""
    folder = Path(folder).expanduser()
    record = read_run(folder)
    summary = {
        "directory": str(folder.resolve()),
        "status": record.get("status"),
        "base_model": record.get("base_model"),
        "data": record.get("arguments", {}).get("data"),
        "best_epoch": record.get("best_epoch"),
        "bad_files": len(record.get("bad_files", [])),
    }
    metrics_path = folder / METRICS_FILE
    if metrics_path.is_file():
        metrics = read_json(metrics_path)
        summary[f"{metrics.get('evaluated_on', 'validation')}_accuracy"] = metrics.get("accuracy")
    return summary
