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
from zoo.spec import SHA256_PATTERN, ModelSpec, WeightsSpec, input_shape_problem

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


#: The largest JSON file of a run directory read (a run.json of 1,000 epochs is about 1 MB).
JSON_LIMIT = 32 << 20
#: The most classes a run may have.
LABELS_LIMIT = 100_000
#: The fields of run.json zoo reads, and the JSON type each must have when present.
RUN_FIELDS = {
    "status": str, "base_model": str, "summary": str, "arguments": dict, "spec": dict,
    "history": list, "bad_files": list, "model_sha256": str, "distribution": dict,
}  # fmt: skip


def read_json(path: Path) -> Any:
    """The JSON in ``path`` (at most ``JSON_LIMIT`` bytes read); a ``DataError`` naming the file
    when it is unreadable, too large or nested past what the parser takes."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(JSON_LIMIT + 1)
        if len(data) > JSON_LIMIT:
            raise DataError(f"{path}: over {JSON_LIMIT >> 20} MiB, not a file zoo wrote")
        return json.loads(data)
    except RecursionError:
        raise DataError(f"{path}: nested too deeply to be a file zoo wrote") from None
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: unreadable ({error})") from None


def read_run(folder: str | Path) -> dict[str, Any]:
    """The run record (run.json) of a run directory, checked field by field.

    Raises:
        DataError: one line naming the field that is wrong (``run_record_problem``).
    """
    path = Path(folder).expanduser() / RUN_FILE
    record = read_json(path)
    problem = run_record_problem(record)
    if problem:
        raise DataError(f"{path}: {problem}; not a run record this zoo version reads")
    return record


def run_record_problem(record: Any) -> str | None:
    """What is wrong with a run record (None when nothing): its type, its ``format``, the type
    of each field zoo reads (``RUN_FIELDS``), and the derived spec's bounds."""
    if not isinstance(record, dict):
        return f"a {type(record).__name__}, not a JSON object"
    version = record.get("format", 0)
    if type(version) is not int or not 0 <= version <= RUN_FORMAT:
        return f"format {version!r} (this zoo reads 0..{RUN_FORMAT})"
    for key, kind in RUN_FIELDS.items():
        if key in record and not isinstance(record[key], kind):
            found = _JSON_NAMES.get(type(record[key]), type(record[key]).__name__)
            return f"{key} is {_article(found)}, not {_article(_JSON_NAMES[kind])}"
    if "model_sha256" in record and not SHA256_PATTERN.fullmatch(record["model_sha256"]):
        return f"model_sha256 {record['model_sha256'][:80]!r} is not a sha256"
    return _spec_problem(record.get("spec"))


_JSON_NAMES = {str: "string", dict: "object", list: "list", int: "number", float: "number",
               bool: "boolean", type(None): "null"}  # fmt: skip


def _article(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _spec_problem(derived: dict[str, Any] | None) -> str | None:
    if derived is None:
        return None
    problem = input_shape_problem(derived.get("input_shape"))
    if problem:
        return f"spec: {problem}"
    labels = derived.get("labels")
    if (
        not isinstance(labels, list)
        or not 1 <= len(labels) <= LABELS_LIMIT
        or not all(isinstance(name, str) and len(name) <= 1000 for name in labels)
    ):
        return f"spec: labels must be a list of 1..{LABELS_LIMIT:,} class names"
    params = derived.get("params", 1)
    if type(params) is not int or params < 0:
        return f"spec: params {params!r} is not a count"
    return None


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
    derived = record.get("spec")
    if derived is None or "model_sha256" not in record:
        missing = "spec" if derived is None else "model_sha256"
        raise DataError(
            f"{folder / RUN_FILE}: a finished run without {missing} (zoo records it when a run "
            "ends): the record was edited or comes from elsewhere, and its model is not loaded"
        )
    return dataclasses.replace(
        base,
        name=model_name(folder),
        summary=record.get("summary")
        or f"{base.name} fine-tuned on {record.get('arguments', {}).get('data')}",
        input_shape=tuple(derived["input_shape"]),
        num_classes=len(derived["labels"]),
        labels=tuple(derived["labels"]),
        weights=WeightsSpec(
            source="run",
            file=str(folder / MODEL_FILE),
            sha256=record.get("model_sha256"),
            trained_on=str(record.get("arguments", {}).get("data")),
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
