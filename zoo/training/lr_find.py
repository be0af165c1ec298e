"""A learning-rate range test (fastai's ``lr_find``): from a snapshot of the model, train a few
hundred steps at learning rates rising exponentially from ``START`` to ``END``, smooth the loss,
stop once it has blown up, suggest the rate in the middle of the longest stretch where the
smoothed loss keeps falling (fastai's ``valley`` rule), then put the weights back.

``zoo.fine_tune(..., learning_rate="auto")`` runs one for the head (on its cached features)
and one for phase 2 (after the head is trained), records both curves and the chosen rates in
``run.json`` and plots them to ``lr_find.png``; ``zoo lr-find`` shows the curves alone.

Example:
    >>> curve = sweep(step, x, y, batch_size=32, seed=0)
    >>> curve["suggestion"]
    0.0021
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from zoo.training.fit_loop import epoch_order

START, END = 1e-7, 1.0
STEPS = 100
#: Weight of the past in the loss's exponential smoothing (bias-corrected), as fastai.
SMOOTHING = 0.98
#: The sweep stops once the smoothed loss is this many times its minimum.
BLOW_UP = 4.0


def rates(steps: int = STEPS, start: float = START, end: float = END) -> np.ndarray:
    return start * (end / start) ** (np.arange(steps) / max(steps - 1, 1))


def smoothed(losses: list[float], beta: float = SMOOTHING) -> list[float]:
    average, out = 0.0, []
    for number, loss in enumerate(losses, start=1):
        average = beta * average + (1 - beta) * loss
        out.append(average / (1 - beta**number))
    return out


def valley(learning_rates: list[float], losses: list[float]) -> float:
    """The rate a third and a half into the longest run of steps over which the loss falls
    (each point lower than some earlier point of the run): fastai's ``valley`` suggestion."""
    count = len(losses)
    if count < 3:
        return float(learning_rates[0])
    length = [1] * count  # longest falling chain ending at each point
    end = 0
    for i in range(1, count):
        for j in range(i):
            if losses[i] < losses[j] and length[i] < length[j] + 1:
                length[i] = length[j] + 1
        if length[i] > length[end]:
            end = i
    start = end - length[end] + 1
    third = (end - start) / 3
    return float(learning_rates[start + int(third) + int(third / 2)])


def sweep(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    seed: int,
    steps: int = STEPS,
    progress: Any = None,
    augment: Any = None,
    mix: Any = None,
) -> dict[str, Any]:
    """The range test on ``model`` (compiled, its optimizer's rate settable): returns
    ``rates``, ``losses`` (smoothed), ``suggestion``; the model's weights and the
    optimizer's are as before."""
    optimizer = model.optimizer
    snapshot = [np.array(w) for w in model.get_weights()]
    schedule = rates(steps)
    tried, raw = [], []
    order = np.concatenate(
        [
            epoch_order(len(x), seed, 7, round)
            for round in range(math.ceil(steps * batch_size / len(x)) + 1)
        ]
    )
    try:
        for number, rate in enumerate(schedule):
            rows = order[number * batch_size : (number + 1) * batch_size]
            batch, targets = x[rows].astype("float32"), y[rows]
            if augment is not None:
                batch = augment(batch)
            if mix is not None:
                batch, targets = mix(batch, targets)
            optimizer.learning_rate = float(rate)
            loss = float(model.train_on_batch(batch, targets, return_dict=True)["loss"])
            if progress is not None:
                progress.update(1)
            if not math.isfinite(loss):
                break
            tried.append(float(rate))
            raw.append(loss)
            curve = smoothed(raw)
            if len(curve) > 10 and curve[-1] > BLOW_UP * min(curve):
                break
    finally:
        model.set_weights(snapshot)
    curve = smoothed(raw)
    return {"rates": tried, "losses": curve, "suggestion": valley(tried, curve) if tried else None}


def plot(path: Path, curves: dict[str, dict[str, Any]], title: str) -> None:
    """Smoothed loss against learning rate (log scale), one panel per phase, the suggestion
    marked."""
    from zoo.evaluation.report import pyplot, save_figure

    plt = pyplot()
    figure, axes = plt.subplots(1, len(curves), figsize=(5.5 * len(curves), 4.2), squeeze=False)
    for axis, (phase, curve) in zip(axes[0], curves.items(), strict=True):
        axis.plot(curve["rates"], curve["losses"])
        axis.set_xscale("log")
        axis.set_xlabel("learning rate")
        axis.set_ylabel("loss (smoothed)")
        axis.grid(alpha=0.3)
        suggestion = curve.get("suggestion")
        if suggestion:
            axis.axvline(suggestion, color="red", linestyle="--", label=f"valley {suggestion:.2g}")
            axis.legend()
        axis.set_title(phase)
    figure.suptitle(title)
    figure.tight_layout()
    save_figure(figure, path)
