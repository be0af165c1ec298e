"""A training epoch that replays exactly: its sample order and every random draw (dropout,
augmentation) come from (seed, phase, epoch), so an epoch run again after a kill does what the
lost one did. Checkpoints hold the weights and the optimizer state, written atomically.

Stricter than Keras' ``BackupAndRestore``, which restores weights but neither the data order
nor the random state.

Example:
    >>> order = epoch_order(len(y), seed=0, phase=2, epoch=3)
    >>> logs = train_epoch(model, x, y, order, batch_size=32)
    >>> save_checkpoint(run / "checkpoints", {"phase": 2, "epoch": 4}, model, model.optimizer)
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import TrainingError
from zoo.files import atomic_path, atomic_write

STATE_FILE = "state.json"


def epoch_randomness(seed: int, phase: int, epoch: int) -> np.random.Generator:
    """The generator every random choice of one epoch is drawn from."""
    return np.random.default_rng([seed, phase, epoch])


def epoch_order(count: int, seed: int, phase: int, epoch: int) -> np.ndarray:
    """The order the samples are visited in during one epoch."""
    return epoch_randomness(seed, phase, epoch).permutation(count)


def generator_variables(models: list[Any]) -> list[Any]:
    """The state variables of every Keras random generator inside ``models``, each once
    (what workers take from the chief with the weights)."""
    states, seen = [], set()
    for model in models:
        if model is None:
            continue
        for layer in model._flatten_layers(include_self=True, recursive=True):
            for generator in getattr(layer, "_seed_generators", ()):
                if id(generator.state) not in seen:
                    seen.add(id(generator.state))
                    states.append(generator.state)
    return states


def reseed(models: list[Any], seed: int, phase: int, epoch: int) -> None:
    """Set the state of every Keras random generator inside ``models`` (dropout, random
    augmentation layers) from (seed, phase, epoch), so the epoch's draws replay exactly."""
    rng = epoch_randomness(seed, phase, epoch + 1_000_003)
    for state in generator_variables(models):
        values = rng.integers(0, 2**31 - 1, size=tuple(state.shape))
        state.assign(values.astype(state.dtype))


def random_state(models: list[Any]) -> list[np.ndarray]:
    """The current state of every random generator inside ``models`` (what a checkpoint taken
    in the middle of an epoch keeps, so the rest of the epoch draws what it would have)."""
    return [np.asarray(state.numpy()) for state in generator_variables(models)]


def set_random_state(models: list[Any], values: list[np.ndarray]) -> None:
    """Put back what ``random_state`` returned."""
    states = generator_variables(models)
    if len(states) != len(values):
        raise TrainingError(
            f"The checkpoint holds {len(values)} random generator states; the model has "
            f"{len(states)}. Start again with --overwrite"
        )
    for state, value in zip(states, values, strict=True):
        state.assign(value.astype(state.dtype))


def train_epoch(
    step: Any,
    x: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    *,
    sample_weight: np.ndarray | None = None,
    augment: Callable[[np.ndarray], Any] | None = None,
    mix: Callable[[Any, np.ndarray], tuple[Any, Any]] | None = None,
    progress: Any = None,
    where: str = "",
    resume: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One pass over ``x[order]`` in batches; returns the epoch's mean loss and accuracy (over
    its images) and the images/s. ``y`` holds class indices, or one-hot rows for a soft-label
    loss; ``augment`` transforms each batch, then ``mix`` mixes it with its labels.

    ``step`` is a compiled Keras model (trained with ``train_on_batch``) or a step function of
    ``(batch, labels, sample_weight)`` giving ``(loss, accuracy, stop)``
    (``zoo.training.train_steps``). When a step says stop (a preemption signal), the epoch ends
    there: the logs then hold ``partial``, what ``resume`` takes to go on from the next batch, and
    ``stop`` (also true when the signal came at the epoch's last batch).

    Raises:
        TrainingError: the loss became NaN or infinite (the model's weights are then not to be
            trusted; the caller keeps its last checkpoint).
    """
    if hasattr(step, "train_on_batch"):
        from zoo.training.train_steps import KerasStep

        step = KerasStep(step)
    partial = {"batches": 0, "seen": 0, "loss_sum": 0.0, "correct_sum": 0.0, "seconds": 0.0}
    partial.update(resume or {})
    started = time.perf_counter() - partial["seconds"]
    starts = range(partial["batches"] * batch_size, len(order), batch_size)
    if progress is not None and partial["seen"]:
        progress.update(partial["seen"])
    stop = False
    for number, start in enumerate(starts, start=partial["batches"] + 1):
        rows = order[start : start + batch_size]
        batch = x[rows].astype("float32")
        targets = y[rows]
        if augment is not None:
            batch = augment(batch)
        if mix is not None:  # images and their (one-hot) labels mixed alike
            batch, targets = mix(batch, targets)
        loss, accuracy, stop = step(
            batch, targets, None if sample_weight is None else sample_weight[rows]
        )
        if not math.isfinite(loss):
            raise TrainingError(
                f"The loss became {loss} at {where} batch {number}: training stopped. The last "
                "good checkpoint is kept; try a lower learning rate"
            )
        partial["batches"] = number
        partial["seen"] += len(rows)
        partial["loss_sum"] += loss * len(rows)
        partial["correct_sum"] += accuracy * len(rows)
        seen = partial["seen"]
        if progress is not None:
            progress.update(len(rows))
            progress.set_postfix(
                loss=f"{partial['loss_sum'] / seen:.4f}", acc=f"{partial['correct_sum'] / seen:.3f}"
            )
        if stop and start + batch_size < len(order):
            partial["seconds"] = time.perf_counter() - started
            return {"partial": partial, "stop": True}
    seconds = time.perf_counter() - started
    seen = partial["seen"]
    return {
        "loss": partial["loss_sum"] / seen if seen else float("nan"),
        "accuracy": partial["correct_sum"] / seen if seen else float("nan"),
        "seconds": seconds,
        "images_per_s": seen / seconds if seconds > 0 else float("nan"),
        "stop": bool(stop),
    }


def evaluate(probabilities: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Mean cross-entropy and accuracy of predicted ``probabilities`` against labels ``y``."""
    picked = probabilities[np.arange(len(y)), y]
    loss = float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0))))
    accuracy = float(np.mean(probabilities.argmax(axis=1) == y))
    return {"loss": loss, "accuracy": accuracy}


def save_checkpoint(
    folder: Path,
    state: dict[str, Any],
    model: Any,
    optimizer: Any,
    random: list[np.ndarray] | None = None,
) -> None:
    """Write the model's weights and the optimizer's state (and ``random``, the random
    generators' state, for a checkpoint inside an epoch: ``state["partial"]``), then
    ``state.json`` naming them (each file atomically, the state last): a kill at any point
    leaves the previous complete checkpoint in place."""
    folder.mkdir(parents=True, exist_ok=True)
    tag = f"phase{state['phase']}-epoch{state['epoch']:04d}"
    if state.get("partial"):
        tag += f"-batch{state['partial']['batches']:06d}"
    weights = folder / f"{tag}.weights.h5"
    with atomic_path(weights) as temp:
        model.save_weights(temp)
    optimizer_file = folder / f"{tag}.optimizer.npz"
    with atomic_path(optimizer_file) as temp:
        arrays = {f"arr_{i}": np.asarray(v.numpy()) for i, v in enumerate(optimizer.variables)}
        arrays.update({f"random_{i}": value for i, value in enumerate(random or [])})
        np.savez(temp, **arrays)
    state = {**state, "weights": weights.name, "optimizer": optimizer_file.name}
    atomic_write(folder / STATE_FILE, json.dumps(state, indent=1))
    for old in folder.iterdir():  # earlier checkpoints, and leftovers of a killed write
        if old.name not in (STATE_FILE, weights.name, optimizer_file.name) and old.is_file():
            old.unlink()


def read_checkpoint(folder: Path) -> dict[str, Any] | None:
    """The state of the last complete checkpoint in ``folder``, or None."""
    path = folder / STATE_FILE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text())
    except ValueError:
        return None  # cannot happen with atomic writes; start the run again
    if not (folder / state["weights"]).is_file() or not (folder / state["optimizer"]).is_file():
        return None
    return state


def restore_checkpoint(
    folder: Path, state: dict[str, Any], model: Any, optimizer: Any, trained: list[Any]
) -> list[np.ndarray]:
    """Load a checkpoint's weights into ``model`` and its state into ``optimizer``, built for
    the ``trained`` variables; returns the random generators' state it holds (none for a
    checkpoint at the end of an epoch)."""
    if not optimizer.built:
        optimizer.build(trained)
    model.load_weights(folder / state["weights"])
    with np.load(folder / state["optimizer"]) as saved:
        names = set(saved.files)
        values = [saved[f"arr_{i}"] for i in range(sum(n.startswith("arr_") for n in names))]
        random = [saved[f"random_{i}"] for i in range(sum(n.startswith("random_") for n in names))]
    if len(values) != len(optimizer.variables):
        raise TrainingError(
            f"Checkpoint {folder / state['optimizer']} holds {len(values)} optimizer values; "
            f"the optimizer has {len(optimizer.variables)}. Start again with --overwrite"
        )
    for variable, value in zip(optimizer.variables, values, strict=True):
        variable.assign(value)
    return random
