"""The deck's optimization methods, compared: one classic MNIST model trained with each optimizer
from the same initial weights, on the same data in the same order, for the same epochs.

The deck shows SGD, momentum, Nesterov, Adagrad, Adadelta, RMSprop and Adam; AdamW and Lion are
what came after it. Each runs at the learning rate its authors (or Keras, where they give none)
recommend, with no schedule: the comparison is of the methods as a user first meets them, not
of tuned ones. Per epoch it records the training loss and the test accuracy; it writes
``optimizers.json`` (kept after each optimizer: a rerun with the same settings skips those
done), ``optimizers.csv`` and ``optimizers.png`` (the learning curves; matplotlib, the
``plots`` extra).

Example:
    >>> rows = compare("modern_mlp", data, out="runs/optimizers", epochs=10)
    >>> rows[0]["optimizer"], rows[0]["final_test_accuracy"] > 0.9
    ('sgd', True)
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo import registry
from zoo.errors import InputError
from zoo.files import atomic_write
from zoo.inputs.sources import checked_count


@dataclass(frozen=True)
class Method:
    """One optimizer as the comparison runs it: a Keras optimizer, its options and rate."""

    name: str
    keras_class: str
    learning_rate: float
    options: tuple[tuple[str, Any], ...] = ()
    source: str = ""

    def build(self):
        import keras

        return getattr(keras.optimizers, self.keras_class)(
            learning_rate=self.learning_rate, **dict(self.options)
        )

    def describe(self) -> str:
        extra = ", ".join(f"{key} {value}" for key, value in self.options)
        return f"{self.keras_class} lr {self.learning_rate:g}" + (f", {extra}" if extra else "")


METHODS = (
    Method("sgd", "SGD", 0.01, source="Keras' default rate"),
    Method("momentum", "SGD", 0.01, (("momentum", 0.9),), "momentum 0.9 (Sutskever et al. 2013)"),
    Method(
        "nesterov",
        "SGD",
        0.01,
        (("momentum", 0.9), ("nesterov", True)),
        "Nesterov momentum 0.9 (Sutskever et al. 2013)",
    ),
    Method("adagrad", "Adagrad", 0.01, source="Duchi et al. 2011; TensorFlow's tutorials' 0.01"),
    Method("adadelta", "Adadelta", 1.0, source="Zeiler 2012: no learning rate, i.e. 1.0"),
    Method("rmsprop", "RMSprop", 1e-3, source="Hinton's lecture 6e: 0.001"),
    Method("adam", "Adam", 1e-3, source="Kingma & Ba 2014: 0.001"),
    Method(
        "adamw",
        "AdamW",
        1e-3,
        (("weight_decay", 0.004),),
        "Loshchilov & Hutter 2017; Keras' weight decay",
    ),
    Method("lion", "Lion", 1e-4, source="Chen et al. 2023: 3-10x below AdamW's rate"),
)
METHOD_NAMES = tuple(method.name for method in METHODS)
#: Models the comparison trains: the supervised MNIST classics.
MODELS = ("softmax_regression", "mlp_625", "modern_mlp", "mnist_convnet", "mnist_rnn")
BATCH_SIZE = 128
RESULTS = "optimizers.json"


def methods(names: Sequence[str] | None) -> list[Method]:
    """The methods called ``names`` (default: all), in the deck's order."""
    if not names:
        return list(METHODS)
    unknown = [name for name in names if name not in METHOD_NAMES]
    if unknown:
        raise InputError(
            f"Unknown optimizer(s) {', '.join(unknown)}; valid: {', '.join(METHOD_NAMES)}"
        )
    return [method for method in METHODS if method.name in names]


def check_arguments(
    model: str, epochs: int, limit: int | None, names: Sequence[str] | None
) -> list[Method]:
    """The methods to run; an ``InputError`` for a model it does not train or a bad count."""
    if model not in MODELS:
        registry.get_spec(model)  # did-you-mean for a typo
        raise InputError(f"zoo classics optimizers trains {', '.join(MODELS)}; not {model!r}")
    checked_count(epochs, "--epochs")
    checked_count(limit, "--limit")
    return methods(names)


def compare(
    model: str,
    data,
    out: str | Path,
    *,
    epochs: int = 10,
    limit: int | None = None,
    names: Sequence[str] | None = None,
    seed: int = 0,
    overwrite: bool = False,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Train ``model`` once per optimizer (``names``, default all) and write the comparison to
    ``out``; return one row per optimizer in ``out`` (those of earlier runs with the same
    settings included). ``data`` is ``zoo.classics.mnist_data.load()``'s.
    A rerun on the same ``out`` with the same settings skips the optimizers done; other
    settings are refused unless ``overwrite``."""
    chosen = check_arguments(model, epochs, limit, names)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = {"model": model, "epochs": epochs, "limit": limit, "seed": seed,
                "batch_size": BATCH_SIZE}  # fmt: skip
    done = _earlier_results(out / RESULTS, settings, overwrite)
    for method in chosen:
        if method.name in done:
            log(f"== {method.name}: done before, kept")
            continue
        log(f"== {method.name} ({method.describe()})")
        done[method.name] = train_with(model, method, data, epochs, limit, seed)
        atomic_write(
            out / RESULTS, json.dumps({"settings": settings, "results": done}, indent=1) + "\n"
        )
    finished = [method for method in METHODS if method.name in done]  # earlier ones too
    rows = [_row(method, done[method.name]) for method in finished]
    _write_csv(out / "optimizers.csv", rows)
    plot(out / "optimizers.png", [(m.name, done[m.name]) for m in finished], model, epochs)
    return rows


def _earlier_results(path: Path, settings: dict, overwrite: bool) -> dict[str, dict]:
    """Results of an earlier run with the same settings; an ``InputError`` for one with other
    settings (its curves are not thrown away unless ``overwrite``)."""
    try:
        earlier = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        if overwrite:
            return {}
        raise InputError(
            f"{path} is unreadable ({error}); pass --overwrite to start again"
        ) from None
    if earlier.get("settings") == settings:
        return dict(earlier.get("results", {}))
    if overwrite:
        return {}
    differences = ", ".join(
        f"{key} {earlier.get('settings', {}).get(key)!r} (now {value!r})"
        for key, value in settings.items()
        if earlier.get("settings", {}).get(key) != value
    )
    raise InputError(
        f"{path.parent} holds a comparison with other settings: {differences}. Choose another "
        "--out, or pass --overwrite to replace it"
    )


def train_with(model: str, method: Method, data, epochs: int, limit: int | None, seed: int):
    """Curves of one optimizer: training loss and test accuracy per epoch, and seconds."""
    from zoo.backend import seed_everything
    from zoo.models import build

    seed_everything(seed)  # silences TensorFlow's start-up lines before it is imported
    import keras

    # the same initial weights and batch order for every method
    network = build(registry.get_spec(model))
    network.compile(
        optimizer=method.build(), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    x, y = data.x_train[:limit], data.y_train[:limit]
    losses, accuracies = [], []
    started = time.perf_counter()
    for epoch in range(epochs):
        history = network.fit(
            x, y, batch_size=BATCH_SIZE, epochs=epoch + 1, initial_epoch=epoch, verbose=0
        )
        losses.append(float(history.history["loss"][-1]))
        probabilities = network.predict(data.x_test, batch_size=1000, verbose=0)
        accuracies.append(float(np.mean(probabilities.argmax(axis=1) == data.y_test)))
    keras.backend.clear_session()
    return {
        "train_loss": losses,
        "test_accuracy": accuracies,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _row(method: Method, result: dict) -> dict[str, Any]:
    losses, accuracies = result["train_loss"], result["test_accuracy"]
    return {
        "optimizer": method.name,
        "setting": method.describe(),
        "rate from": method.source,
        "final_train_loss": losses[-1],
        "final_test_accuracy": accuracies[-1],
        "best_test_accuracy": max(accuracies),
        "seconds": result["seconds"],
    }


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def format_markdown(rows: list[dict]) -> str:
    """The comparison as a markdown table, best final test accuracy first."""
    lines = [
        "| optimizer | setting | final training loss | test accuracy: final | best | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for row in sorted(rows, key=lambda r: -r["final_test_accuracy"]):
        lines.append(
            f"| {row['optimizer']} | {row['setting']} | {row['final_train_loss']:.4f} | "
            f"{row['final_test_accuracy']:.2%} | {row['best_test_accuracy']:.2%} | "
            f"{row['seconds']:.0f} |"
        )
    return "\n".join(lines)


def plot(path: Path, curves: list[tuple[str, dict]], model: str, epochs: int) -> bool:
    """Two panels, training loss (log scale) and test accuracy per epoch, one line per
    optimizer; False (and no file) without matplotlib."""
    from zoo.evaluation.report import plots_available, pyplot, save_figure

    if not plots_available():
        return False
    plt = pyplot()
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(12, 4.8))
    steps = range(1, epochs + 1)
    for name, result in curves:
        loss_axis.plot(steps, result["train_loss"], marker="o", markersize=3, label=name)
        accuracy_axis.plot(
            steps, np.asarray(result["test_accuracy"]) * 100, marker="o", markersize=3, label=name
        )
    loss_axis.set(xlabel="epoch", ylabel="training loss (cross-entropy)", yscale="log")
    accuracy_axis.set(xlabel="epoch", ylabel="test accuracy (%)")
    loss_axis.set_title("Training loss")
    accuracy_axis.set_title("Test accuracy")
    for axis in (loss_axis, accuracy_axis):
        axis.grid(alpha=0.3)
    accuracy_axis.legend(loc="lower right", fontsize=8)
    figure.suptitle(f"{model}: the same start, data and epochs, one optimizer per line")
    figure.tight_layout()
    save_figure(figure, path)
    return True
