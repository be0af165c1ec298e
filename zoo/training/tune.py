"""``zoo.tune``: hyperparameter search for a fine-tune (keras-tuner's grid, random, Bayesian or
Hyperband search over ``zoo.fine_tune``'s learning rates, head dropout, unfreeze depth and
augmentation strength). Each trial is a real run directory in ``OUT/trials/``; the best one is
copied to ``OUT/best``, a run directory like any other (``zoo predict IMAGES --model
OUT/best``).

The backbone's pooled features are computed once per process and shared by every trial (the
head phase trains on them): a head-only search (``head_only=True``: the head's learning rate
and dropout, no phase 2) costs a few seconds per trial.

Example:
    >>> result = zoo.tune("mobilenet_v2_1.0_224", "photos/", out="runs/search",
    ...                   search="bayesian", trials=12)
    >>> result.best["values"], result.best_run
    ({'learning_rate': 0.01, 'body_rate_factor': 0.01, ...}, PosixPath('runs/search/best'))
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo import registry, run_dir
from zoo.errors import InputError, TrainingError
from zoo.files import atomic_write, check_writable_folder
from zoo.training.search_loop import Choice, SearchResult, check_search, run_search

#: What a fine-tune search explores (each value list is ordered, for the Bayesian search).
FINE_TUNE_SPACE = (
    Choice("learning_rate", (3e-3, 1e-2, 3e-2)),  # the head's; phase 2 takes the factor below
    Choice("body_rate_factor", (0.003, 0.01, 0.03)),
    Choice("head_dropout", (0.0, 0.2, 0.5)),
    Choice("unfreeze", ("none", "top:10", "top:20", "all")),
    Choice("augment", ("none", "light", "strong")),
)
#: A head-only search: the backbone stays frozen, phase 1 only, on the shared features.
HEAD_ONLY_SPACE = (
    Choice("learning_rate", (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)),
    Choice("head_dropout", (0.0, 0.2, 0.5)),
)
SETTINGS_FILE = "tune.json"
BEST = "best"
TRIALS = "trials"


@dataclass
class TuneResult:
    """A finished search: every trial, the best one and its run directory."""

    search: SearchResult
    best_run: Path | None

    @property
    def best(self) -> dict[str, Any] | None:
        return self.search.best

    @property
    def trials(self) -> list[dict[str, Any]]:
        return self.search.trials


def check_settings(out: Path, settings: dict[str, Any], overwrite: bool) -> None:
    """Record ``settings`` in ``out``; an ``InputError`` when ``out`` holds a search with
    other settings (unless ``overwrite``: that search is then removed)."""
    path = out / SETTINGS_FILE
    check_writable_folder(out, "the search folder")
    if path.is_file():
        earlier = run_dir.read_json(path)
        if earlier != settings:
            if not overwrite:
                differences = "; ".join(run_dir.differences(earlier, settings))
                raise InputError(
                    f"{out} holds a search with other settings ({differences}). Name another "
                    "--out, or pass --overwrite to start it again"
                )
            for name in ("search", TRIALS, BEST):
                shutil.rmtree(out / name, ignore_errors=True)
    elif out.exists() and any(out.iterdir()):
        raise InputError(f"{out} holds other files and no search; name a new or empty folder")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(settings, indent=1))


def publish_best(trial_dir: Path, best: Path) -> None:
    """Copy the best trial's run directory to ``best`` (a complete copy, then renamed: the
    previous best stays until the new one is whole)."""
    staging = best.with_name(f".{best.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(trial_dir, staging, ignore=shutil.ignore_patterns(run_dir.CHECKPOINTS))
    old = best.with_name(f".{best.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if best.exists():
        best.rename(old)
    staging.rename(best)
    shutil.rmtree(old, ignore_errors=True)


#: The fine_tune keywords ``recipe`` may fix for every trial.
RECIPE_KEYWORDS = (
    "label_smoothing",
    "mix",
    "mix_alpha",
    "ema",
    "layer_decay",
    "warmup",
    "schedule",
    "patience",
)


def check_recipe_keywords(recipe: dict[str, Any] | None) -> None:
    """``tune``'s ``recipe`` names only ``RECIPE_KEYWORDS``.

    Raises:
        InputError: naming the unknown keywords and the valid ones.
    """
    unknown = sorted(set(recipe or {}) - set(RECIPE_KEYWORDS))
    if unknown:
        raise InputError(
            f"recipe takes {', '.join(RECIPE_KEYWORDS)}; received {', '.join(unknown)}"
        )


def tune(
    model: str,
    data: Any,
    out: str | Path,
    *,
    search: str = "random",
    trials: int = 10,
    epochs: int = 3,
    head_epochs: int = 3,
    head_only: bool = False,
    validation: Any = 0.2,
    image_size: int | None = None,
    batch_size: int | None = None,
    weights: str | Path | None = "default",
    seed: int = 0,
    recipe: dict[str, Any] | None = None,
    overwrite: bool = False,
    log: Any = print,
) -> TuneResult:
    """Search ``zoo.fine_tune``'s hyperparameters for ``model`` on ``data``.

    Args:
        model, data, validation, image_size, batch_size, weights, seed: as ``fine_tune``.
        out: the search folder (resumable: run again to go on; ``trials.csv``, ``trials.png``,
            ``trials/``, ``best/``).
        search: ``grid``, ``random``, ``bayesian`` (a Gaussian process, needs scikit-learn)
            or ``hyperband`` (trains many trials briefly, then the best longer).
        trials: the most trials to run.
        epochs: phase-2 epochs per trial (head-only: head epochs); Hyperband's largest budget.
        head_epochs: the head phase's epochs per trial (not searched).
        head_only: search the head's learning rate and dropout on the frozen backbone's shared
            features (no phase 2): many times cheaper per trial.
        recipe: ``fine_tune`` recipe keywords every trial takes as they are (not searched):
            ``label_smoothing``, ``mix``, ``mix_alpha``, ``ema``, ``layer_decay``, ``warmup``,
            ``schedule``, ``patience``; recorded, so a resumed search keeps them.

    Returns:
        A :class:`TuneResult`; ``best_run`` is ``OUT/best``, a run directory.

    Example:
        >>> zoo.tune("mnist_convnet", "digits/", out="runs/tune", trials=6).best["score"]
        0.96
    """
    from zoo.inputs.labelled import check_not_inside
    from zoo.training.finetune import fine_tune
    from zoo.training.settings import check_validation, describe_data

    check_search(search, trials, epochs)
    check_recipe_keywords(recipe)
    spec = registry.get_spec(model)
    out = Path(out).expanduser()
    check_not_inside(out, data, validation, what="The search folder")
    settings = {
        "model": spec.name,
        "data": describe_data(data),
        "validation": describe_data(check_validation(validation)),
        "search": search,
        "epochs": epochs,
        "head_epochs": head_epochs,
        "head_only": head_only,
        "image_size": image_size,
        "batch_size": batch_size,
        "weights": weights if weights in (None, "default", "imagenet") else str(weights),
        "seed": seed,
        **({"recipe": dict(sorted(recipe.items()))} if recipe else {}),
        # the images themselves: trials scored on other images must never be compared
        "data_sha256": _data_sha256(spec, data, validation, image_size, seed),
    }
    check_settings(out, settings, overwrite)
    space = HEAD_ONLY_SPACE if head_only else FINE_TUNE_SPACE

    def train(values: dict[str, Any], trial_id: str, budget: int) -> float:
        rate = values["learning_rate"]
        options = {
            "learning_rate": (rate, rate * values.get("body_rate_factor", 0.01)),
            "head_dropout": values["head_dropout"],
            "unfreeze": values.get("unfreeze", "none"),
            "augment": values.get("augment", "none"),
            "head_epochs": budget if head_only else head_epochs,
            "epochs": 0 if head_only else budget,
        }
        try:
            run = fine_tune(
                spec.name,
                data,
                out / TRIALS / f"trial_{trial_id}",
                validation=validation,
                image_size=image_size,
                batch_size=batch_size,
                weights=weights,
                seed=seed,
                progress=False,
                **(recipe or {}),
                **options,
            )
        except TrainingError as error:  # a diverging rate is a bad trial, not a failed search
            log(f"   {error}")
            return 0.0
        return float(run.metrics["accuracy"])

    title = f"{search} search: {spec.name} fine-tuned on {Path(str(data)).name}"
    options = {"search": search, "trials": trials, "max_epochs": epochs, "seed": seed}
    return search_and_publish(space, train, out, title=title, log=log, **options)


def _data_sha256(spec, data: Any, validation: Any, image_size: int | None, seed: int) -> str:
    """The sha256 ``zoo.fine_tune`` records of this data (decoded as the trials decode it,
    split as they split it)."""
    from zoo.training.finetune import read_data
    from zoo.training.run_folder import data_digest
    from zoo.training.settings import check_validation, training_input_shape

    shape = training_input_shape(spec, image_size)
    validation = check_validation(validation)
    train, held, _ = read_data(spec, data, validation, shape, seed, progress=False)
    return data_digest(train, held)


def search_and_publish(space, train, out: Path, **options: Any) -> TuneResult:
    """``run_search`` (its ``options``), then the best trial's run directory (``train`` wrote
    it to ``OUT/trials/trial_ID``) copied to ``OUT/best``."""
    result = run_search(space, train, out, **options)
    best_run = None
    if result.best is not None:
        best_run = out / BEST
        publish_best(out / TRIALS / f"trial_{result.best['trial']}", best_run)
    return TuneResult(result, best_run)
