"""What a fine-tuning run reports besides its evaluation (``zoo.evaluation.report``): the
history table and the learning curves.

The plots need matplotlib (``pip install 'keras-zoo[plots]'``); without it a run still writes
every other file and says the plots were skipped.

Example:
    >>> write_history(run / "history.csv", trainer.history)
    >>> plot_curves(run / "curves.png", trainer.history, "mobilenet_v2 on flowers")
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from zoo.evaluation.report import pyplot, save_figure
from zoo.files import atomic_write

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
