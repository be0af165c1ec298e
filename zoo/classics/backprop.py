"""The step-by-step backpropagation example, run on the ``backprop_2_2_2`` Keras model in float64.

The published walk-through (Mazur 2015, quoted by the deck) gives the total error after the
first update as 0.291027924. Computed exactly, the first update gives 0.291027774; the
published figure is an arithmetic slip (its own rounded updated weights also give 0.291027774).

Example:
    >>> report = zoo.classics.backprop.run(steps=1)
    >>> round(report["errors"][1], 9)
    0.291027774
"""

from __future__ import annotations

from typing import Any

import numpy as np

from applications.classic import (
    BACKPROP_INPUTS,
    BACKPROP_LEARNING_RATE,
    BACKPROP_TARGETS,
)
from zoo.errors import InputError

PUBLISHED = {
    "hidden": (0.593269992, 0.596884378),
    "outputs": (0.75136507, 0.772928465),
    "error_before": 0.298371109,
    "error_after_one_update": 0.291027924,
    "error_after_10000_updates": 0.0000351085,
}


def total_error(targets: np.ndarray, outputs: np.ndarray) -> float:
    """The example's loss: 1/2 * sum((target - out)^2)."""
    return float(0.5 * np.sum((targets - outputs) ** 2))


def _half_squared_error(y_true, y_pred):
    from keras import ops

    return 0.5 * ops.sum(ops.square(y_true - y_pred), axis=-1)


def run(steps: int = 1) -> dict[str, Any]:
    """Train ``backprop_2_2_2`` for ``steps`` plain-SGD updates (lr 0.5, biases fixed).

    Returns the forward pass before training, the total error after 0, 1 and ``steps`` updates,
    and the updated weights after the first update.
    """
    if steps < 1:
        raise InputError(f"--steps must be at least 1, received {steps}")
    import keras

    from zoo.models import load

    model = load("backprop_2_2_2")
    x = np.array([BACKPROP_INPUTS], dtype="float64")
    y = np.array([BACKPROP_TARGETS], dtype="float64")
    hidden_model = keras.Model(model.inputs, model.get_layer("hidden").output)
    hidden = hidden_model.predict(x, verbose=0)[0]
    outputs = model.predict(x, verbose=0)[0]
    model.compile(
        optimizer=keras.optimizers.SGD(BACKPROP_LEARNING_RATE),
        loss=_half_squared_error,
        steps_per_execution=100,
    )
    errors = {0: total_error(y[0], outputs)}
    model.fit(x, y, batch_size=1, epochs=1, verbose=0)
    errors[1] = total_error(y[0], model.predict(x, verbose=0)[0])
    weights_after_one = {
        layer: model.get_layer(layer).kernel.numpy().T.ravel().tolist()
        for layer in ("hidden", "output")
    }
    if steps > 1:
        repeated_x, repeated_y = np.repeat(x, steps - 1, axis=0), np.repeat(y, steps - 1, axis=0)
        model.fit(repeated_x, repeated_y, batch_size=1, epochs=1, shuffle=False, verbose=0)
        errors[steps] = total_error(y[0], model.predict(x, verbose=0)[0])
    return {
        "hidden": hidden.tolist(),
        "outputs": outputs.tolist(),
        "errors": errors,
        "weights_after_one_update": weights_after_one,
        "steps": steps,
        "published": PUBLISHED,
    }


def format_report(report: dict[str, Any]) -> str:
    """The report as the lines ``zoo classics backprop`` prints."""
    published = report["published"]
    errors = report["errors"]
    w_hidden = report["weights_after_one_update"]["hidden"]
    w_output = report["weights_after_one_update"]["output"]
    lines = [
        "2-2-2 sigmoid network, float64, plain SGD (lr 0.5), biases fixed, "
        "loss 1/2 * sum((target - out)^2)",
        "forward pass          ours            published",
        f"  h1, h2              {report['hidden'][0]:.9f}, {report['hidden'][1]:.9f}   "
        f"{published['hidden'][0]}, {published['hidden'][1]}",
        f"  o1, o2              {report['outputs'][0]:.8f}, {report['outputs'][1]:.8f}   "
        f"{published['outputs'][0]}, {published['outputs'][1]}",
        f"total error, step 0   {errors[0]:.9f}     {published['error_before']}",
        f"total error, step 1   {errors[1]:.9f}     {published['error_after_one_update']}"
        "  (published figure is an arithmetic slip; see docs/backprop.md)",
        "weights after step 1  w1..w4 = " + ", ".join(f"{w:.8f}" for w in w_hidden),
        "                      w5..w8 = " + ", ".join(f"{w:.8f}" for w in w_output),
    ]
    if report["steps"] > 1:
        steps = report["steps"]
        published_line = f"     {published['error_after_10000_updates']}" if steps == 10000 else ""
        lines.append(f"total error, step {steps:<6d}{errors[steps]:.10f}{published_line}")
    return "\n".join(lines)
