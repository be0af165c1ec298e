"""What a fine-tuning run reports: per-class metrics, the history table, and the two plots.

The plots need matplotlib (``pip install 'keras-zoo[plots]'``); without it a run still writes
every other file and says the plots were skipped.

Example:
    >>> metrics = classification_metrics(probabilities, y, ["cat", "dog"])
    >>> metrics["accuracy"], metrics["per_class"]["cat"]["recall"]
    (0.93, 0.95)
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from zoo.files import atomic_path, atomic_write

HISTORY_COLUMNS = (
    "phase",
    "epoch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "learning_rate",
    "seconds",
    "images_per_s",
)


def classification_metrics(
    probabilities: np.ndarray, y: np.ndarray, class_names: list[str]
) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/support and the confusion matrix (rows: true
    class, columns: predicted)."""
    count = len(class_names)
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((count, count), dtype=np.int64)
    np.add.at(confusion, (y, predicted), 1)
    per_class = {}
    for index, name in enumerate(class_names):
        true_positive = int(confusion[index, index])
        predicted_total = int(confusion[:, index].sum())
        actual_total = int(confusion[index].sum())
        per_class[name] = {
            "precision": true_positive / predicted_total if predicted_total else None,
            "recall": true_positive / actual_total if actual_total else None,
            "support": actual_total,
        }
    return {
        "accuracy": float(np.mean(predicted == y)) if len(y) else None,
        "images": int(len(y)),
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "labels": list(class_names),
    }


def write_history(path: Path, history: list[dict[str, Any]]) -> None:
    """``history.csv``: one row per epoch of both phases."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, HISTORY_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in history:
        writer.writerow({key: _rounded(row.get(key)) for key in HISTORY_COLUMNS})
    atomic_write(path, buffer.getvalue())


def _rounded(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def plots_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(path: Path, history: list[dict[str, Any]], title: str) -> None:
    """Loss and accuracy per epoch (training and validation), both phases on one axis of
    epochs, with a dashed line where phase 2 starts."""
    plt = pyplot()
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(11, 4.2))
    steps = np.arange(1, len(history) + 1)
    for axis, key, label in ((loss_axis, "loss", "loss"), (accuracy_axis, "accuracy", "accuracy")):
        axis.plot(steps, [row[key] for row in history], "o-", label=f"training {label}")
        validation = [row.get(f"val_{key}") for row in history]
        if any(value is not None for value in validation):
            values = [np.nan if value is None else value for value in validation]
            axis.plot(steps, values, "s-", label=f"validation {label}")
        second = next((i for i, row in enumerate(history) if row["phase"] == 2), None)
        if second is not None and second > 0:
            axis.axvline(second + 0.5, color="grey", linestyle="--", label="phase 2 starts")
        axis.set_xlabel("epoch (head phase, then fine-tuning)")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        axis.legend()
    accuracy_axis.set_ylim(0, 1.02)
    figure.suptitle(title)
    figure.tight_layout()
    save_figure(figure, path)


def plot_confusion(path: Path, metrics: dict[str, Any], title: str) -> None:
    """The confusion matrix as a heat map with the counts written in."""
    plt = pyplot()
    confusion = np.asarray(metrics["confusion"])
    labels = metrics["labels"]
    size = max(4.0, 0.45 * len(labels) + 2)
    figure, axis = plt.subplots(figsize=(size + 1, size))
    image = axis.imshow(confusion, cmap="Blues")
    axis.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    if len(labels) <= 30:
        threshold = confusion.max() / 2 if confusion.size else 0
        for (row, column), count in np.ndenumerate(confusion):
            colour = "white" if count > threshold else "black"
            axis.text(column, row, str(count), ha="center", va="center", color=colour)
    figure.colorbar(image, ax=axis, fraction=0.046)
    accuracy = metrics.get("accuracy")
    shown = f" (accuracy {accuracy:.1%} on {metrics['images']} images)" if accuracy else ""
    axis.set_title(title + shown)
    figure.tight_layout()
    save_figure(figure, path)


def save_figure(figure, path: Path, dpi: int = 110) -> None:
    """Write ``figure`` to ``path`` atomically (a kill leaves the old file or none, never half
    a PNG), then close it."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as temp:
        figure.savefig(temp, dpi=dpi)
    plt.close(figure)
