"""Retrain the shipped classic models, deterministically (fixed seeds, deterministic ops).

Example:
    $ zoo classics train softmax_regression --data ../shared/data/mnist/mnist.npz --out runs/
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from zoo import registry
from zoo.backend import seed_everything
from zoo.classics import mnist_data
from zoo.classics.augment import random_shift
from zoo.classics.recipes import AUTOENCODER_PROBE, PERCEPTRON_MAX_EPOCHS, RECIPES, Recipe
from zoo.errors import ZooError
from zoo.files import atomic_write, check_writable_folder
from zoo.hashing import sha256_file
from zoo.inputs.sources import checked_count
from zoo.metrics import accuracy
from zoo.weights.shipped import RESULTS_FILE

TRAINABLE = ("perceptron", *RECIPES, "mnist_committee")
#: What ``zoo classics train`` trains when no model is named: all but the committee (hours).
TRAINED_BY_DEFAULT = tuple(name for name in TRAINABLE if name != "mnist_committee")

#: Logical AND, the linearly separable task the shipped perceptron learns.
AND_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
AND_TARGETS = np.array([0, 0, 0, 1], dtype="float32")


def _optimizer(recipe: Recipe, steps: int):
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(recipe.learning_rate, decay_steps=steps)
    return {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}[recipe.optimizer](
        learning_rate=schedule
    )


def _fit_epochs(model, x, y, recipe: Recipe, epochs: int, seed: int, verbose: int) -> list[dict]:
    """fit() one epoch at a time, so each epoch can see freshly shifted images; returns each
    epoch's training loss and accuracy."""
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(epochs):
        images = random_shift(x, rng, recipe.shift) if recipe.shift else x
        logs = model.fit(
            images,
            y,
            batch_size=recipe.batch_size,
            epochs=epoch + 1,
            initial_epoch=epoch,
            shuffle=True,
            verbose=verbose,
        ).history
        history.append({"epoch": epoch + 1, **{k: float(v[-1]) for k, v in logs.items()}})
    return history


def reconstruction_mse(model, x: np.ndarray) -> float:
    """Mean squared error of the autoencoder's reconstructions, on pixels scaled to 0..1."""
    reconstructions = np.asarray(model.reconstruct(x))
    return float(np.mean((reconstructions - x.astype("float32") / 255.0) ** 2))


def train_perceptron(seed: int = 0, verbose: int = 0) -> tuple[object, dict]:
    """Train the perceptron on logical AND with the perceptron rule until it makes no error."""
    from zoo.models import build

    seed_everything(seed)
    model = build(registry.get_spec("perceptron"))
    model.compile()
    epochs = 0
    for epoch in range(1, PERCEPTRON_MAX_EPOCHS + 1):
        epochs = epoch
        model.fit(AND_INPUTS, AND_TARGETS, batch_size=1, epochs=1, shuffle=False, verbose=verbose)
        predictions = model.predict(AND_INPUTS, verbose=0).ravel()
        if np.array_equal(predictions, AND_TARGETS):
            break
    score = float(np.mean(model.predict(AND_INPUTS, verbose=0).ravel() == AND_TARGETS) * 100)
    return model, {
        "accuracy": score,
        "epochs": epochs,
        "recipe": "perceptron rule, lr 1, batch 1",
        "evaluated_on": "the AND truth table",
    }


def train_mnist_model(
    name: str,
    data: mnist_data.Mnist,
    seed: int = 0,
    epochs: int | None = None,
    limit: int | None = None,
    verbose: int = 2,
) -> tuple[object, dict]:
    """Train one MNIST classic model with its recipe; return the model and its results."""
    from zoo.models import build

    recipe = RECIPES[name]
    epochs = recipe.epochs if epochs is None else epochs
    x, y = data.x_train[:limit], data.y_train[:limit]
    seed_everything(seed)
    model = build(registry.get_spec(name))
    steps = epochs * int(np.ceil(len(x) / recipe.batch_size))
    results: dict = {"recipe": recipe.describe(), "epochs": epochs, "train_images": len(x)}
    if name == "mnist_autoencoder":
        autoencoder = _autoencoder_training_model(model)
        autoencoder.compile(optimizer=_optimizer(recipe, steps), loss="mse")
        targets = x.astype("float32") / 255.0
        autoencoder.fit(x, targets, batch_size=recipe.batch_size, epochs=epochs, verbose=verbose)
        for layer in model.layers:
            if layer.name != "logits":
                layer.trainable = False
        probe = AUTOENCODER_PROBE
        probe_steps = probe.epochs * int(np.ceil(len(x) / probe.batch_size))
        model.compile(
            optimizer=_optimizer(probe, probe_steps),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        _fit_epochs(model, x, y, probe, probe.epochs, seed, verbose)
        for layer in model.layers:
            layer.trainable = True
        results["reconstruction_mse"] = reconstruction_mse(model, data.x_test)
    else:
        model.compile(
            optimizer=_optimizer(recipe, steps),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        _fit_epochs(model, x, y, recipe, epochs, seed, verbose)
    results["accuracy"] = accuracy(model, data.x_test, data.y_test)
    results["evaluated_on"] = "MNIST test set (10,000 images)"
    return model, results


def _autoencoder_training_model(model):
    """images -> reconstruction, sharing the encoder and decoder layers of ``model``."""
    import keras

    code = model.get_layer("code").output
    return keras.Model(model.inputs, model.decoder(code))


def save_inference_weights(model, name: str, path: Path) -> None:
    """Save the weights alone (no optimizer state) through a freshly built model."""
    from zoo.models import build

    clean = build(registry.get_spec(name))
    clean.set_weights(model.get_weights())
    clean.save_weights(str(path))


def train(
    names: Iterable[str] | None,
    out_dir: str | Path,
    data_path: str | Path | None = None,
    seed: int = 0,
    epochs: int | None = None,
    limit: int | None = None,
    jobs: int = 1,
    verbose: int = 2,
    log: Callable[[str], None] = print,
) -> dict[str, dict]:
    """Train ``names`` (default: ``TRAINED_BY_DEFAULT``), write ``<name>.weights.h5`` and
    ``results.json`` (accuracy, sha256, training time, recipe) into ``out_dir``. ``jobs``:
    committee members trained at once, in worker processes.
    """
    names = list(names or TRAINED_BY_DEFAULT)
    checked_count(epochs, "--epochs")
    checked_count(limit, "--limit")
    checked_count(jobs, "--jobs")
    for name in names:
        registry.get_spec(name)  # did-you-mean for typos
        if name not in TRAINABLE:
            raise ZooError(
                f"Model {name!r} is not trained (its weights are fixed); "
                f"trainable: {', '.join(TRAINABLE)}"
            )
    out_dir = Path(out_dir)
    check_writable_folder(out_dir, "the --out folder")
    data = mnist_data.load(data_path) if any(n != "perceptron" for n in names) else None
    results_path = out_dir / RESULTS_FILE
    all_results = json.loads(results_path.read_text()) if results_path.is_file() else {}
    for name in names:
        log(f"== training {name}")
        started = time.perf_counter()
        if name == "perceptron":
            model, results = train_perceptron(seed=seed)
        elif name == "mnist_committee":
            from zoo.classics.committee import train_committee

            model, results = train_committee(
                data, out_dir, seed=seed, epochs=epochs, limit=limit, jobs=jobs,
                verbose=verbose, log=log,
            )  # fmt: skip
        else:
            model, results = train_mnist_model(
                name, data, seed=seed, epochs=epochs, limit=limit, verbose=verbose
            )
        results["train_seconds"] = round(time.perf_counter() - started, 1)
        path = out_dir / f"{name}.weights.h5"
        save_inference_weights(model, name, path)
        results["sha256"] = sha256_file(path)
        results["seed"] = seed
        all_results[name] = results
        atomic_write(results_path, json.dumps(all_results, indent=2, sort_keys=True) + "\n")
        log(
            f"   {name}: accuracy {results['accuracy']:.2f} % in {results['train_seconds']} s, "
            f"sha256 {results['sha256']}"
        )
    return {name: all_results[name] for name in names}
