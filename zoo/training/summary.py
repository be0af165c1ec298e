"""The end of a fine-tune: the best epoch's model evaluated, ``metrics.json``,
``history.csv``, the curves and confusion plots, and ``run.json`` marked finished.

Example:
    >>> metrics = summary.finish(trainer)
    >>> metrics["evaluated_on"], metrics["best_epoch"]
    ('validation', {'score': 0.98, 'phase': 2, 'epoch': 4})
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zoo import run_dir
from zoo.evaluation.report import (
    classification_metrics,
    plot_confusion,
    plot_top_losses,
    plots_available,
    top_losses,
)
from zoo.files import (
    atomic_write,
    utc_now,
)
from zoo.hashing import sha256_file
from zoo.training.head import predict_probabilities
from zoo.training.run_folder import write_record
from zoo.training.run_report import plot_curves, write_history

#: How many of the worst validation images ``top_losses.png`` and ``metrics.json`` keep.
TOP_LOSSES = 16


def finish(trainer) -> dict[str, Any]:
    import keras

    best_model = keras.saving.load_model(trainer.out / run_dir.MODEL_FILE, compile=False)
    evaluated = trainer.validation if trainer.validation is not None else trainer.train
    probabilities = predict_probabilities(best_model, evaluated.x, trainer.batch_size)
    names = trainer.train.class_names
    metrics = classification_metrics(probabilities, evaluated.y, names)
    worst = top_losses(probabilities, evaluated.y, names, evaluated.paths, TOP_LOSSES)
    metrics["top_losses"] = worst
    metrics["evaluated_on"] = "validation" if trainer.validation is not None else "training"
    metrics["best_epoch"] = trainer.best
    if trainer.stopped_early:
        metrics["stopped_early"] = trainer.stopped_early
    atomic_write(trainer.out / run_dir.METRICS_FILE, json.dumps(metrics, indent=1))
    write_history(trainer.out / run_dir.HISTORY_FILE, trainer.history)
    plotted = plots_available()
    if plotted:
        source = Path(str(trainer.arguments["data"])).name
        title = f"{trainer.spec.name} fine-tuned on {source} ({len(trainer.train)} training images)"
        plot_curves(trainer.out / run_dir.CURVES_FILE, trainer.history, title)
        plot_confusion(trainer.out / run_dir.CONFUSION_FILE, metrics, "Confusion, best epoch")
        where = metrics["evaluated_on"]
        plot_top_losses(
            trainer.out / run_dir.TOP_LOSSES_FILE,
            evaluated.x[[row["index"] for row in worst]],
            worst,
            f"Top losses on the {where} images, best epoch",
        )
    trainer.record.update(
        status="finished",
        finished=utc_now(),
        model_sha256=sha256_file(trainer.out / run_dir.MODEL_FILE),
        best_epoch=trainer.best,
        history=trainer.history,
        plots=plotted,
    )
    trainer.record["spec"]["params"] = int(best_model.count_params())
    write_record(trainer.out, trainer.record)
    trainer.best_model = best_model
    return metrics
