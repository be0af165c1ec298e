"""Hyperparameter search on keras-tuner's oracles (the ``tune`` extra): grid, random, Bayesian
optimisation (a Gaussian process) and Hyperband, driving any training function that returns a
validation score. Resumable: keras-tuner keeps the oracle's state in ``OUT/search/``; run the
same search again and it goes on after the last finished trial.

Writes ``OUT/trials.csv`` (one row per trial: its values, score, seconds) and ``OUT/trials.png``
(the score of each trial and the best so far).

Example:
    >>> space = [Choice("learning_rate", [1e-3, 1e-2]), Choice("dropout", [0.0, 0.5])]
    >>> result = run_search(space, train_and_score, "runs/search", search="grid", trials=4)
    >>> result.best["values"], result.best["score"]
    ({'learning_rate': 0.01, 'dropout': 0.0}, 0.97)
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.errors import InputError, ZooError
from zoo.files import atomic_path, atomic_write

SEARCHES = ("grid", "random", "bayesian", "hyperband")
PROJECT = "search"
TRIALS_CSV = "trials.csv"
TRIALS_PNG = "trials.png"
TRIALS_JSON = "trials.json"
#: Hyperband's reduction factor (keras-tuner's default): each round keeps a third.
HYPERBAND_FACTOR = 3


@dataclass(frozen=True)
class Choice:
    """One hyperparameter and the values the search picks from (in order)."""

    name: str
    values: tuple[Any, ...]


@dataclass
class SearchResult:
    """Every trial of a search (``values``, ``score``, ``seconds``, ``epochs``, ``status``,
    in the order they ran) and the best one."""

    trials: list[dict[str, Any]]
    best: dict[str, Any] | None
    plotted: bool = False
    files: list[Path] = field(default_factory=list)


def check_search(search: Any, trials: Any, max_epochs: Any = HYPERBAND_FACTOR) -> None:
    """An ``InputError`` for an unknown search kind, a trial count below 1, or a Hyperband
    budget too small to have more than one round."""
    from zoo.inputs.sources import checked_count

    if search not in SEARCHES:
        raise InputError(f"search must be one of {', '.join(SEARCHES)}; received {search!r}")
    checked_count(trials, "trials")
    checked_count(max_epochs, "epochs")
    if search == "hyperband" and max_epochs < HYPERBAND_FACTOR:
        raise InputError(
            f"hyperband needs epochs >= {HYPERBAND_FACTOR} (its largest budget: it trains many "
            f"trials for epochs/{HYPERBAND_FACTOR} and the best for epochs); received {max_epochs}"
        )


def keras_tuner():
    """The ``keras_tuner`` module; an ``InputError`` saying how to install it when missing."""
    from zoo.backend import quiet_tensorflow

    quiet_tensorflow()  # keras-tuner imports TensorFlow: without its start-up lines
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # one model per trial: retracing notes are expected
    try:
        import keras_tuner
    except ImportError:
        raise InputError(
            "Hyperparameter search needs keras-tuner: pip install 'keras-zoo[tune]' "
            "(or pip install keras-tuner)"
        ) from None
    return keras_tuner


def _oracle(kt, search: str, space: Sequence[Choice], trials: int, max_epochs: int, seed: int):
    hyperparameters = kt.HyperParameters()
    for choice in space:
        numeric = all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in choice.values
        )
        hyperparameters.Choice(choice.name, list(choice.values), ordered=numeric)
    common = {
        "objective": kt.Objective("score", direction="max"),
        "hyperparameters": hyperparameters,
        "seed": seed,
    }
    if search == "grid":
        return kt.oracles.GridSearchOracle(max_trials=trials, **common)
    if search == "random":
        return kt.oracles.RandomSearchOracle(max_trials=trials, **common)
    if search == "bayesian":
        initial = max(1, min(trials // 2, 3))
        return kt.oracles.BayesianOptimizationOracle(
            max_trials=trials, num_initial_points=initial, **common
        )
    oracle = kt.oracles.HyperbandOracle(max_epochs=max_epochs, factor=HYPERBAND_FACTOR, **common)
    oracle.max_trials = trials  # Hyperband has no cap of its own
    return oracle


def run_search(
    space: Sequence[Choice],
    train: Callable[[dict[str, Any], str, int], float],
    out: str | Path,
    *,
    search: str = "random",
    trials: int = 10,
    max_epochs: int = 3,
    seed: int = 0,
    title: str = "",
    log: Callable[[str], None] = print,
) -> SearchResult:
    """Run the search; ``train(values, trial_id, epochs)`` trains one trial (``epochs``: the
    budget, Hyperband's choice or ``max_epochs``) and returns its validation score (higher is
    better). Finished trials of an earlier run in ``out`` are kept, not run again."""
    check_search(search, trials, max_epochs)
    kt = keras_tuner()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    extra_path = out / TRIALS_JSON
    extra = json.loads(extra_path.read_text()) if extra_path.is_file() else {}

    class Search(kt.Tuner):
        def run_trial(self, trial, *args, **kwargs):
            values = dict(trial.hyperparameters.values)
            epochs = int(values.get("tuner/epochs", max_epochs))
            chosen = {c.name: values[c.name] for c in space}
            log(f"== trial {trial.trial_id}: {_describe(chosen)}, {epochs} epoch(s)")
            started = time.perf_counter()
            try:
                score = float(train(chosen, trial.trial_id, epochs))
            except ZooError as error:  # the user's to fix (or a preemption): stop the search
                raise kt.errors.FatalError(str(error)) from error
            extra[trial.trial_id] = {
                "seconds": round(time.perf_counter() - started, 2),
                "epochs": epochs,
            }
            atomic_write(extra_path, json.dumps(extra, indent=1))
            log(f"   score {score:.4f}")
            return score

    oracle = _oracle(kt, search, space, trials, max_epochs, seed)
    with contextlib.redirect_stdout(io.StringIO()):  # "Reloading Tuner from ...": said below
        tuner = Search(oracle=oracle, directory=str(out), project_name=PROJECT, overwrite=False)
    if search == "grid":
        _restore_grid_position(tuner.oracle)
    done = [t for t in tuner.oracle.trials.values() if t.status == "COMPLETED"]
    if done:
        log(f"== {len(done)} trial(s) done before, kept")
    with warnings.catch_warnings():
        # the Gaussian process' fit warns when a length scale reaches its bound: not the user's
        warnings.filterwarnings("ignore", message=".*close to the specified (lower|upper) bound")
        try:
            tuner.search(verbose=0)  # keras-tuner's own block per trial: zoo prints one line
        except kt.errors.FatalError as fatal:
            if isinstance(fatal.__cause__, ZooError):
                raise fatal.__cause__ from None
            raise
    rows = _rows(tuner.oracle, space, extra)
    best = max((r for r in rows if r["score"] is not None), key=lambda r: r["score"], default=None)
    _write_csv(out / TRIALS_CSV, rows, space)
    plotted = plot_trials(out / TRIALS_PNG, rows, title or f"{search} search")
    files = [out / TRIALS_CSV] + ([out / TRIALS_PNG] if plotted else [])
    return SearchResult(rows, best, plotted, files)


def _restore_grid_position(oracle) -> None:
    """keras-tuner 1.4's grid oracle does not save where it is in the grid: reloaded, it
    stops at once. Rebuild it from the trials in the order they started (the grid's order in
    a search run one trial at a time)."""
    if oracle._ordered_ids._memory or not oracle.start_order:
        return
    for trial_id in oracle.start_order:
        oracle._ordered_ids.insert(trial_id)
    oracle._populate_next = [
        trial_id for trial_id in oracle.start_order if oracle.trials[trial_id].status == "COMPLETED"
    ]


def _describe(values: dict[str, Any]) -> str:
    return ", ".join(f"{name} {value}" for name, value in values.items())


def _rows(oracle, space: Sequence[Choice], extra: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for trial_id in sorted(oracle.trials, key=lambda t: int(t) if str(t).isdigit() else t):
        trial = oracle.trials[trial_id]
        values = trial.hyperparameters.values
        rows.append(
            {
                "trial": trial_id,
                "values": {c.name: values.get(c.name) for c in space},
                "score": None if trial.score is None else float(trial.score),
                "status": trial.status.lower(),
                **extra.get(trial_id, {"seconds": None, "epochs": None}),
            }
        )
    return rows


def _write_csv(path: Path, rows: list[dict[str, Any]], space: Sequence[Choice]) -> None:
    names = [choice.name for choice in space]
    with atomic_path(path) as temp, open(temp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["trial", *names, "epochs", "score", "seconds", "status"])
        for row in rows:
            writer.writerow(
                [
                    row["trial"],
                    *(row["values"][name] for name in names),
                    row["epochs"],
                    "" if row["score"] is None else f"{row['score']:.4f}",
                    row["seconds"],
                    row["status"],
                ]
            )


def plot_trials(path: Path, rows: list[dict[str, Any]], title: str) -> bool:
    """Score per trial (points) and the best so far (a line); False without matplotlib."""
    from zoo.evaluation.report import plots_available, pyplot, save_figure

    scored = [row for row in rows if row["score"] is not None]
    if not plots_available() or not scored:
        return False
    plt = pyplot()
    numbers = list(range(1, len(scored) + 1))
    scores = [row["score"] for row in scored]
    best = [max(scores[: i + 1]) for i in range(len(scores))]
    figure, axes = plt.subplots(figsize=(7, 4))
    axes.scatter(numbers, scores, label="trial", color="tab:blue", zorder=3)
    axes.step(numbers, best, where="post", label="best so far", color="tab:orange")
    axes.set_xlabel("trial (in the order run)")
    axes.set_ylabel("validation accuracy")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    save_figure(figure, path, dpi=100)
    return True
