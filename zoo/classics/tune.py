"""``zoo classics tune NAME``: hyperparameter search for a classic MNIST model — its hidden
width, dropout and learning rate — with keras-tuner's grid, random, Bayesian or Hyperband
search. Each trial trains the model from scratch with its recipe (optimizer, cosine decay,
shifts) on the first 50,000 training images and is scored on the last 10,000: the test set is
never looked at. Every trial is a run directory in ``OUT/trials/``; the best is copied to
``OUT/best`` (``zoo predict IMAGES --model OUT/best``).

Example:
    >>> result = tune_classic("mlp_625", mnist_data.load(), "runs/tune-mlp", search="grid")
    >>> result.best["values"]
    {'width': 1024, 'dropout': 0.2, 'learning_rate': 0.001}
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from zoo import registry, run_dir
from zoo.errors import InputError
from zoo.files import atomic_path, atomic_write, utc_now
from zoo.hashing import sha256_file
from zoo.inputs.sources import checked_count
from zoo.labels import names as label_names
from zoo.training.search_loop import Choice, check_search
from zoo.training.tune import TRIALS, TuneResult, check_settings, search_and_publish

#: What is searched for each classic model (builder arguments, and the recipe's rate).
CLASSIC_SPACES = {
    "softmax_regression": (Choice("learning_rate", (3e-4, 1e-3, 3e-3, 1e-2)),),
    "mlp_625": (
        Choice("width", (128, 256, 625, 1024)),
        Choice("dropout", (0.0, 0.2, 0.5)),
        Choice("learning_rate", (3e-4, 1e-3, 3e-3)),
    ),
    "modern_mlp": (
        Choice("width", (256, 625, 1024)),
        Choice("dropout_hidden", (0.1, 0.25, 0.5)),
        Choice("learning_rate", (3e-4, 1e-3, 3e-3)),
    ),
    "mnist_convnet": (
        Choice("width", (128, 256, 625)),
        Choice("dropout", (0.25, 0.5)),
        Choice("learning_rate", (5e-4, 2e-3, 5e-3)),
    ),
}
#: The last training images, held out to score trials (as Keras' validation_split takes).
VALIDATION_IMAGES = 10_000


def check_arguments(name: str, search: str, trials: int, epochs: int, limit: int | None) -> None:
    """An ``InputError`` for a model this search does not cover, or bad counts."""
    if name not in CLASSIC_SPACES:
        registry.get_spec(name)  # did-you-mean for a typo
        raise InputError(f"zoo classics tune searches {', '.join(CLASSIC_SPACES)}; not {name!r}")
    check_search(search, trials, epochs)
    checked_count(limit, "--limit")


def tune_classic(
    name: str,
    data: Any,
    out: str | Path,
    *,
    search: str = "random",
    trials: int = 10,
    epochs: int = 3,
    limit: int | None = None,
    seed: int = 0,
    overwrite: bool = False,
    log: Callable[[str], None] = print,
) -> TuneResult:
    """Search ``name``'s width, dropout and learning rate on MNIST (``data``:
    ``zoo.classics.mnist_data.load()``'s); ``epochs`` per trial (Hyperband's largest budget),
    ``limit`` training images at most. Resumable in ``out``."""
    check_arguments(name, search, trials, epochs, limit)
    out = Path(out).expanduser()
    digest = hashlib.sha256(np.ascontiguousarray(data.x_train).tobytes())
    digest.update(np.ascontiguousarray(data.y_train).tobytes())
    settings = {"model": name, "search": search, "epochs": epochs, "limit": limit, "seed": seed,
                "data_sha256": digest.hexdigest()}  # fmt: skip
    check_settings(out, settings, overwrite)
    x_train, y_train = data.x_train[:-VALIDATION_IMAGES], data.y_train[:-VALIDATION_IMAGES]
    x_train, y_train = x_train[:limit], y_train[:limit]
    held_x, held_y = data.x_train[-VALIDATION_IMAGES:], data.y_train[-VALIDATION_IMAGES:]

    def train(values: dict[str, Any], trial_id: str, budget: int) -> float:
        network, history = train_trial(name, values, (x_train, y_train), budget, seed)
        probabilities = network.predict(held_x, batch_size=1000, verbose=0)
        accuracy = float(np.mean(probabilities.argmax(axis=1) == held_y))
        arguments = {**values, "epochs": budget, "limit": limit, "seed": seed}
        write_run(out / TRIALS / f"trial_{trial_id}", network, name, arguments, history, accuracy)
        return accuracy

    title = f"{search} search: {name} on MNIST (validation: last {VALIDATION_IMAGES:,})"
    options = {"search": search, "trials": trials, "max_epochs": epochs, "seed": seed}
    return search_and_publish(CLASSIC_SPACES[name], train, out, title=title, log=log, **options)


def train_trial(name: str, values: dict[str, Any], data, epochs: int, seed: int):
    """``name`` built with ``values`` (its rate aside), trained with its recipe at
    ``values["learning_rate"]`` for ``epochs``; returns (model, per-epoch loss and accuracy)."""
    from zoo.backend import seed_everything
    from zoo.classics.recipes import RECIPES
    from zoo.classics.train import _fit_epochs, _optimizer
    from zoo.models import build

    seed_everything(seed)
    x, y = data
    recipe = dataclasses.replace(RECIPES[name], learning_rate=values["learning_rate"])
    builder_options = {k: v for k, v in values.items() if k != "learning_rate"}
    network = build(registry.get_spec(name), **builder_options)
    steps = epochs * int(np.ceil(len(x) / recipe.batch_size))
    network.compile(
        optimizer=_optimizer(recipe, steps),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = _fit_epochs(network, x, y, recipe, epochs, seed, verbose=0)
    return network, history


def write_run(
    folder: Path, network, name: str, arguments: dict, history: list, accuracy: float
) -> None:
    """A run directory for a classic model trained from scratch (``zoo.run_dir``'s layout)."""
    spec = registry.get_spec(name)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / run_dir.MODEL_FILE) as temp:
        network.save(temp)
    labels = list(label_names(spec.labels, spec.num_classes))
    atomic_write(folder / run_dir.LABELS_FILE, json.dumps(labels))
    metrics = {"accuracy": accuracy, "evaluated_on": "validation", "images": VALIDATION_IMAGES}
    atomic_write(folder / run_dir.METRICS_FILE, json.dumps(metrics, indent=1))
    record = {
        "format": run_dir.RUN_FORMAT,
        "status": "finished",
        "base_model": name,
        "summary": f"{name} trained from scratch on MNIST by zoo classics tune ({arguments})",
        "arguments": {
            **arguments,
            "data": f"MNIST training images (last {VALIDATION_IMAGES:,} held out)",
        },
        "spec": {
            "input_shape": list(spec.input_shape),
            "preprocessing": spec.preprocessing,
            "labels": labels,
            "params": int(network.count_params()),
        },
        "history": history,
        "model_sha256": sha256_file(folder / run_dir.MODEL_FILE),
        "finished": utc_now(),
    }
    atomic_write(folder / run_dir.RUN_FILE, json.dumps(record, indent=1, default=str))
