"""The modern half of the fine-tuning recipe: label smoothing, MixUp / CutMix (soft labels), an
exponential moving average (EMA) of the weights, layer-wise learning-rate decay, warmup and
cosine decay, and early stopping on the validation accuracy.

All of it is Keras' own: ``CategoricalCrossentropy(label_smoothing)``, the optimizers'
``use_ema`` / ``ema_momentum``, ``CosineDecay`` with ``warmup_target``. Layer-wise decay is
Adam whose step size is multiplied per variable (timm's rule: the layer next to the head gets
``decay`` times the rate, the one below it ``decay**2``, ..., the head the full rate). Every
piece of state (the EMA weights, the schedule's step) is an optimizer variable, so it is in
every checkpoint and a resumed run ends bit for bit equal to an uninterrupted one.

Example:
    >>> optimizer = make_optimizer(schedule(1e-4, steps=19, epochs=10, kind="cosine",
    ...                                     warmup=1), ema=0.99)
    >>> with averaged_weights(optimizer, model.trainable_variables):
    ...     model.save("best.keras")          # the EMA weights, not the raw ones
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.training.augmentation import check_mix

SCHEDULES = ("constant", "cosine")
#: The cosine decay ends at this fraction of the peak rate, not at 0 (the last epoch still learns).
COSINE_FLOOR = 0.01


def _fraction(value: Any, name: str, low: float, high: float, *, closed_high: bool) -> None:
    upper_ok = value <= high if closed_high else value < high
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (low < value and upper_ok)
    ):
        bracket = "]" if closed_high else ")"
        raise InputError(
            f"{name} must be a number in ({low:g}, {high:g}{bracket}, received {value!r}"
        )


def check_recipe(arguments: dict[str, Any]) -> None:
    """An ``InputError`` naming the first recipe argument that is out of range."""
    smoothing = arguments["label_smoothing"]
    if smoothing != 0:
        _fraction(smoothing, "label_smoothing", 0.0, 1.0, closed_high=False)
    check_mix(arguments["mix"], arguments["mix_alpha"])
    if arguments["ema"] is not None:
        _fraction(
            arguments["ema"], "ema (the momentum of the average)", 0.0, 1.0, closed_high=False
        )
    if arguments["layer_decay"] is not None:
        _fraction(arguments["layer_decay"], "layer_decay", 0.0, 1.0, closed_high=True)
    warmup = arguments["warmup"]
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise InputError(f"warmup must be a whole number of epochs >= 0, received {warmup!r}")
    if arguments["schedule"] not in SCHEDULES:
        raise InputError(
            f"schedule must be one of {', '.join(SCHEDULES)}; received {arguments['schedule']!r}"
        )
    patience = arguments["patience"]
    if patience is not None and (
        isinstance(patience, bool) or not isinstance(patience, int) or patience < 1
    ):
        raise InputError(
            f"patience must be None or a whole number of epochs >= 1, received {patience!r}"
        )


def soft_labels(arguments: dict[str, Any]) -> bool:
    """Whether training takes one-hot (soft) labels: with label smoothing or mixing."""
    return bool(arguments["label_smoothing"]) or arguments["mix"] != "none"


def one_hot(y: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes, dtype="float32")[np.asarray(y)]


def loss(label_smoothing: float, soft: bool) -> Any:
    """The training loss: sparse cross-entropy on class indices, or categorical cross-entropy
    (with ``label_smoothing``) on one-hot / mixed labels."""
    if not soft:
        return "sparse_categorical_crossentropy"
    import keras

    return keras.losses.CategoricalCrossentropy(label_smoothing=float(label_smoothing))


def schedule(rate: float, *, steps: int, epochs: int, kind: str, warmup: int = 0) -> Any:
    """The learning rate of a phase of ``epochs`` epochs of ``steps`` steps: ``rate`` itself
    (constant, no warmup), or Keras' ``CosineDecay``: a linear warmup from 0 over ``warmup``
    epochs, then constant or a cosine down to ``COSINE_FLOOR`` of ``rate``."""
    if kind == "constant" and not warmup:
        return rate
    import keras

    total, warm = max(steps * epochs, 1), steps * warmup
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warm else rate,
        decay_steps=max(total - warm, 1),
        alpha=1.0 if kind == "constant" else COSINE_FLOOR,
        warmup_target=rate if warm else None,
        warmup_steps=warm,
    )


def effective_warmup(warmup: int, epochs: int) -> int:
    """The warmup epochs phase 2 runs: at most all but its last epoch (a default warmup of 1
    on a 1-epoch phase 2 is none), so the phase always reaches its peak rate."""
    return min(warmup, max(epochs - 1, 0))


def steps_per_epoch(count: int, batch_size: int) -> int:
    return max(math.ceil(count / batch_size), 1)


def layer_rate_factors(model: Any, trained_layers: list[Any], decay: float | None) -> list[float]:
    """The step-size factor of each of ``model.trainable_variables``: 1 for the head (and for
    all with ``decay`` None), ``decay**k`` for the k-th unfrozen backbone layer counted down
    from the head (the deepest unfrozen layer gets the smallest)."""
    variables = model.trainable_variables
    if decay is None:
        return [1.0] * len(variables)
    count = len(trained_layers)
    factor_of = {}
    for position, layer in enumerate(trained_layers):
        for variable in layer.trainable_weights:
            factor_of[id(variable)] = float(decay) ** (count - position)
    return [factor_of.get(id(variable), 1.0) for variable in variables]


_LAYER_RATE_ADAM = None


def _layer_rate_adam() -> type:
    global _LAYER_RATE_ADAM
    if _LAYER_RATE_ADAM is None:
        import keras

        class LayerRateAdam(keras.optimizers.Adam):
            """Adam whose step for each variable is multiplied by its factor (the order of
            the variables it is built for)."""

            def __init__(self, *args, factors=(), **kwargs):
                super().__init__(*args, **kwargs)
                self.factors = [float(f) for f in factors]

            def update_step(self, gradient, variable, learning_rate):
                factor = self.factors[self._get_variable_index(variable)]
                super().update_step(gradient, variable, learning_rate * factor)

        _LAYER_RATE_ADAM = LayerRateAdam
    return _LAYER_RATE_ADAM


def make_optimizer(
    rate: Any, *, ema: float | None = None, factors: list[float] | None = None
) -> Any:
    """Adam at ``rate`` (a number or a schedule), with an EMA of the weights when ``ema`` is a
    momentum, and per-variable step factors when any of ``factors`` is not 1."""
    import keras

    options = {"use_ema": True, "ema_momentum": float(ema)} if ema else {}
    if factors and any(factor != 1.0 for factor in factors):
        return _layer_rate_adam()(rate, factors=factors, **options)
    return keras.optimizers.Adam(rate, **options)


def current_rate(optimizer: Any) -> float:
    """The learning rate the optimizer's next step takes (the schedule at its step)."""
    return float(np.asarray(optimizer.learning_rate))


@contextmanager
def averaged_weights(optimizer: Any, variables: list[Any]):
    """Inside: ``variables`` hold the optimizer's moving averages (when it keeps them); after:
    their raw values again, so training goes on unchanged."""
    if not getattr(optimizer, "use_ema", False) or not optimizer.built:
        yield
        return
    raw = [np.asarray(variable.numpy()) for variable in variables]
    optimizer.finalize_variable_values(variables)
    try:
        yield
    finally:
        for variable, value in zip(variables, raw, strict=True):
            variable.assign(value)


def stopped_early(history: list[dict[str, Any]], phase: int, patience: int | None) -> bool:
    """Whether the last ``patience`` epochs of ``phase`` brought no better validation accuracy
    than the phase's best before them."""
    scores = [
        row["val_accuracy"] for row in history if row["phase"] == phase and "val_accuracy" in row
    ]
    if patience is None or len(scores) <= patience:
        return False
    best = int(np.argmax(scores))  # the first of equal bests
    return len(scores) - 1 - best >= patience


def check_mixable(arguments: dict[str, Any], class_counts: dict[str, int]) -> None:
    """Mixing needs a second image to mix with in every class."""
    if arguments["mix"] == "none":
        return
    lonely = [name for name, count in class_counts.items() if count < 2]
    if lonely:
        raise InputError(
            f"mix={arguments['mix']!r} needs at least 2 training images in every class; "
            f"{', '.join(repr(n) for n in lonely[:5])} {'has' if len(lonely) == 1 else 'have'} "
            "one. Add images, or use mix='none'"
        )
