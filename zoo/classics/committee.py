"""Train ``mnist_committee``: nine members of three kinds (``PLANS``, member i following
``PLAN_CYCLE[i % 3]``), each on digits distorted anew every epoch (``zoo.classics.distort``), then
their averaged probabilities as one model (99.77 % shipped: docs/committee.md).

Each member's weights and record are written as soon as it is trained, into
``OUT/mnist_committee.members/``; a rerun with the same settings skips the members done, so a
kill loses at most the member being trained. Members run one at a time, or ``jobs`` at once in
worker processes (``python -m zoo.classics.committee``) on a GPU or a many-core machine.

Example:
    >>> model, results = train_committee(mnist_data.load(), Path("runs/"), jobs=3)
    >>> results["committee_curve"]
    [99.67, 99.7, 99.74, 99.75, 99.75, 99.77, 99.77, 99.76, 99.77]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.classics import mnist_data
from zoo.classics.distort import ELASTIC, Distortion, distort
from zoo.classics.recipes import Recipe
from zoo.errors import InputError
from zoo.files import LockedError, atomic_path, atomic_write, check_writable_folder, file_lock
from zoo.hashing import sha256_file
from zoo.run_dir import differences

MEMBERS_FOLDER = "mnist_committee.members"
SETTINGS_FILE = "settings.json"


@dataclass(frozen=True)
class Plan:
    """How each member is trained: its column shape (``applications.committee.COMMITTEE_COLUMNS``),
    its recipe, and the distortions of its training digits, drawn anew every epoch."""

    column: str
    recipe: Recipe
    distortion: Distortion

    def describe(self) -> str:
        return (
            f"{self.column} column, {self.recipe.describe()}; distortions drawn anew every "
            f"epoch: {self.distortion.describe()}"
        )


PLANS = {
    "deep": Plan("deep", Recipe("adam", 2e-3, epochs=40), Distortion()),
    "deep_elastic": Plan("deep", Recipe("adam", 2e-3, epochs=40), ELASTIC),
    "ciresan": Plan("ciresan", Recipe("adam", 3e-3, epochs=60), Distortion()),
}
#: Member ``i`` follows plan ``PLAN_CYCLE[i % 3]``: three kinds of column, as the paper's
#: committee mixed columns trained on differently preprocessed digits (a committee of one kind
#: plateaus lower: docs/committee.md). Its columns are ``applications.committee.COMMITTEE_CYCLE``.
PLAN_CYCLE = ("deep", "deep_elastic", "ciresan")


def member_plan(index: int) -> str:
    """The plan of member ``index``."""
    return PLAN_CYCLE[index % len(PLAN_CYCLE)]


def member_seed(seed: int, index: int) -> int:
    """The seed of member ``index`` of a committee trained with ``seed``: members of one plan
    take seeds ``seed * 1000 + 0, 1, 2 ...`` in order."""
    return seed * 1000 + index // len(PLAN_CYCLE)


def _member_model(column: str):
    import keras

    from applications.committee import build_mnist_committee_member
    from zoo.preprocessing import preprocess

    inputs = keras.Input((28, 28, 1), name="inputs")
    return build_mnist_committee_member(inputs, preprocess(inputs, "mnist"), column=column)


def train_member(
    data: mnist_data.Mnist,
    seed: int,
    plan: Plan,
    epochs: int | None = None,
    limit: int | None = None,
    verbose: int = 0,
    log: Callable[[str], None] = print,
):
    """One member trained with ``seed``; returns the model and each epoch's test accuracy."""
    import keras

    from zoo.backend import seed_everything
    from zoo.metrics import accuracy

    recipe = plan.recipe
    epochs = recipe.epochs if epochs is None else epochs
    x, y = data.x_train[:limit], data.y_train[:limit]
    seed_everything(seed)
    model = _member_model(plan.column)
    steps = epochs * int(np.ceil(len(x) / recipe.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(recipe.learning_rate, decay_steps=steps)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    rng = np.random.default_rng(seed)
    curve = []
    with ThreadPoolExecutor(1) as pool:  # the next epoch's digits are distorted meanwhile
        upcoming = pool.submit(distort, x, rng, plan.distortion)
        for epoch in range(epochs):
            images = upcoming.result()
            if epoch + 1 < epochs:
                upcoming = pool.submit(distort, x, rng, plan.distortion)
            model.fit(
                images[..., None], y, batch_size=recipe.batch_size, epochs=1, shuffle=True,
                verbose=verbose,
            )  # fmt: skip
            curve.append(round(accuracy(model, data.x_test, data.y_test), 2))
            log(f"   epoch {epoch + 1}/{epochs}: test accuracy {curve[-1]:.2f} %")
    return model, curve


def _settings(seed: int, epochs: int | None, limit: int | None) -> dict:
    return {
        "plan_cycle": list(PLAN_CYCLE),
        "plans": {name: plan.describe() for name, plan in PLANS.items()},
        "seed": seed,
        "epochs": epochs,  # None: each plan's own
        "train_images": limit or 60000,
    }


def _member_paths(folder: Path, index: int) -> tuple[Path, Path]:
    return folder / f"member_{index:02d}.weights.h5", folder / f"member_{index:02d}.json"


def finished_member(folder: Path, index: int) -> dict | None:
    """Member ``index``'s record if its weights are in ``folder`` intact, else None."""
    weights, record = _member_paths(folder, index)
    try:
        entry = json.loads(record.read_text())
        return entry if sha256_file(weights) == entry["sha256"] else None
    except (OSError, ValueError, KeyError):
        return None


def members_folder(out_dir: Path, seed: int, epochs: int | None, limit: int | None) -> Path:
    """``OUT/mnist_committee.members``, made for these settings.

    Raises:
        InputError: it holds members trained with other settings.
    """
    folder = Path(out_dir) / MEMBERS_FOLDER
    check_writable_folder(folder, "the committee's members folder")
    settings = _settings(seed, epochs, limit)
    path = folder / SETTINGS_FILE
    if path.is_file():
        try:
            found = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise InputError(
                f"{path} cannot be read ({error}); choose another --out or remove {folder}"
            ) from None
        if not isinstance(found, dict):
            found = {"settings": found}
        if found != settings:
            raise InputError(
                f"{folder} holds committee members trained with other settings "
                f"({', '.join(differences(found, settings))}); choose another --out or remove it"
            )
    else:
        atomic_write(path, json.dumps(settings, indent=1) + "\n")
    return folder


def train_one(
    data: mnist_data.Mnist,
    folder: Path,
    index: int,
    seed: int = 0,
    epochs: int | None = None,
    limit: int | None = None,
    verbose: int = 0,
    log: Callable[[str], None] = print,
) -> dict:
    """Train member ``index`` into ``folder`` (weights, then its record); return the record."""
    import keras

    started = time.perf_counter()
    plan_name, seed_of_member = member_plan(index), member_seed(seed, index)
    plan = PLANS[plan_name]
    model, curve = train_member(data, seed_of_member, plan, epochs, limit, verbose, log)
    clean = _member_model(plan.column)  # fresh: the file's bytes do not depend on training
    clean.set_weights(model.get_weights())
    weights, record_path = _member_paths(folder, index)
    with atomic_path(weights) as temp:
        clean.save_weights(str(temp))
    record = {
        "index": index,
        "plan": plan_name,
        "seed": seed_of_member,
        "accuracy": curve[-1],
        "curve": curve,
        "train_seconds": round(time.perf_counter() - started, 1),
        "backend": keras.backend.backend(),
        "sha256": sha256_file(weights),
    }
    atomic_write(record_path, json.dumps(record, indent=1) + "\n")
    return record


def train_members(
    data: mnist_data.Mnist,
    out_dir: Path,
    members: int,
    seed: int = 0,
    epochs: int | None = None,
    limit: int | None = None,
    jobs: int = 1,
    verbose: int = 0,
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Train the members not yet in ``out_dir``: one at a time, or ``jobs`` at once in worker
    processes (for a GPU or a many-core machine); their records, in order.

    Raises:
        InputError: ``out_dir`` holds members trained with other settings, or another process
            is training members into it now.
    """
    folder = Path(out_dir) / MEMBERS_FOLDER
    check_writable_folder(folder, "the committee's members folder")
    try:
        with file_lock(folder / ".lock", wait=False):
            return _train_missing(data, folder, members, seed, epochs, limit, jobs, verbose, log)
    except LockedError:
        raise InputError(
            f"Another process is training committee members into {folder} now; wait for it, "
            "or choose another --out"
        ) from None


def _train_missing(data, folder, members, seed, epochs, limit, jobs, verbose, log) -> list[dict]:
    members_folder(folder.parent, seed, epochs, limit)  # refuses other settings
    done = {}
    for index in range(members):
        if entry := finished_member(folder, index):
            log(f"== member {index}: done before ({entry['accuracy']:.2f} %)")
            done[index] = entry
    todo = [index for index in range(members) if index not in done]
    if jobs > 1 and len(todo) > 1:
        done.update(_train_in_processes(data, folder, todo, seed, epochs, limit, jobs, log))
    for index in todo:
        if index in done:
            continue
        log(f"== member {index} ({member_plan(index)}, seed {member_seed(seed, index)})")
        done[index] = train_one(data, folder, index, seed, epochs, limit, verbose, log)
        log(f"   member {index}: {done[index]['accuracy']:.2f} % in "
            f"{done[index]['train_seconds']} s")  # fmt: skip
    return [done[index] for index in range(members)]


def _die_with_parent() -> None:
    """In a worker, before it runs: Linux sends it SIGTERM when the trainer dies, even killed
    with SIGKILL, so no worker trains on for nobody (elsewhere the trainer's ``finally`` stops
    them on an exception or Ctrl-C only)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _train_in_processes(data, folder, todo, seed, epochs, limit, jobs, log) -> dict:
    """Train the members ``todo``, ``jobs`` worker processes at a time (``python -m
    zoo.classics.committee``), each logging to ``member_NN.log``; stops them all on an error or
    Ctrl-C."""
    command = [sys.executable, "-m", "zoo.classics.committee", "--folder", str(folder),
               "--data", str(data.path), "--seed", str(seed)]  # fmt: skip
    command += ["--epochs", str(epochs)] if epochs is not None else []
    command += ["--limit", str(limit)] if limit is not None else []
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    pending, running, done = list(todo), {}, {}
    log(f"== members {', '.join(map(str, todo))}: {jobs} at a time, in worker processes")
    try:
        while pending or running:
            while pending and len(running) < jobs:
                index = pending.pop(0)
                with open(folder / f"member_{index:02d}.log", "w") as output:
                    running[index] = subprocess.Popen(
                        [*command, "--member", str(index)], stdout=output,
                        stderr=subprocess.STDOUT, env=environment,
                        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                    )  # fmt: skip
            time.sleep(0.5)
            for index, process in list(running.items()):
                if process.poll() is None:
                    continue
                del running[index]
                entry = finished_member(folder, index)
                if process.returncode or entry is None:
                    raise InputError(
                        f"committee member {index} failed (exit {process.returncode}); "
                        f"see {folder / f'member_{index:02d}.log'}"
                    )
                done[index] = entry
                log(f"   member {index}: {entry['accuracy']:.2f} % in {entry['train_seconds']} s")
    finally:
        for process in running.values():
            process.terminate()
        for process in running.values():
            process.wait()
    return done


def committee_model(members: int):
    """The committee of ``members`` columns (random weights), raw 0..255 digits in."""
    import keras

    from applications.committee import build_mnist_committee
    from zoo.preprocessing import preprocess

    inputs = keras.Input((28, 28, 1), name="inputs")
    model = build_mnist_committee(inputs, preprocess(inputs, "mnist"), members)
    model.name = "mnist_committee"
    return model


def _trained_member(folder: Path, index: int):
    member = _member_model(PLANS[member_plan(index)].column)
    member.load_weights(str(_member_paths(folder, index)[0]))
    return member


def assemble(out_dir: Path, members: int):
    """The committee model with the weights of the first ``members`` trained members."""
    folder = Path(out_dir) / MEMBERS_FOLDER
    committee = committee_model(members)
    for index in range(members):
        member = _trained_member(folder, index)
        for layer in member.layers:
            if layer.weights:
                committee.get_layer(f"m{index}_{layer.name}").set_weights(layer.get_weights())
    return committee


def committee_curve(out_dir: Path, members: int, data: mnist_data.Mnist) -> list[float]:
    """Test accuracy (percent) of the committee of the first k members, for k = 1..members."""
    folder = Path(out_dir) / MEMBERS_FOLDER
    total = np.zeros((len(data.y_test), 10))
    curve = []
    for index in range(members):
        member = _trained_member(folder, index)
        total += member.predict(data.x_test, batch_size=1000, verbose=0)
        curve.append(round(float(np.mean(total.argmax(axis=1) == data.y_test) * 100), 2))
    return curve


def train_committee(
    data: mnist_data.Mnist,
    out_dir: Path,
    members: int | None = None,
    seed: int = 0,
    epochs: int | None = None,
    limit: int | None = None,
    jobs: int = 1,
    verbose: int = 0,
    log: Callable[[str], None] = print,
):
    """Train (or finish training) the committee; return the model and its results: test
    accuracy, each member's, and the committee curve (also drawn in ``OUT/committee.png``)."""
    from applications.committee import COMMITTEE_MEMBERS
    from zoo.metrics import accuracy

    members = members or COMMITTEE_MEMBERS
    records = train_members(data, out_dir, members, seed, epochs, limit, jobs, verbose, log)
    model = assemble(out_dir, members)
    results = {
        "accuracy": accuracy(model, data.x_test, data.y_test),
        "members": [record["accuracy"] for record in records],
        "committee_curve": committee_curve(out_dir, members, data),
        "member_train_seconds": [record["train_seconds"] for record in records],
        "recipe": f"{members} members, member i following plan {PLAN_CYCLE}[i % 3]: "
        + "; ".join(f"{name}: {plan.describe()}" for name, plan in PLANS.items()),
        "epochs": [len(record["curve"]) for record in records],
        "train_images": limit or 60000,
        "evaluated_on": "MNIST test set (10,000 images)",
    }
    try:
        plot_committee(results, Path(out_dir) / "committee.png")
    except ImportError:  # matplotlib is the plots extra
        log("   (pip install 'keras-zoo[plots]' for the committee curve, committee.png)")
    return model, results


def plot_committee(results: dict, path: Path) -> None:
    """The committee curve (test accuracy of the first k members averaged) and each member's
    own accuracy, against the deck's record, as a PNG (needs matplotlib)."""
    from zoo.evaluation.report import pyplot, save_figure

    plt = pyplot()
    figure, axis = plt.subplots(figsize=(6.4, 4.6))
    counts = np.arange(1, len(results["committee_curve"]) + 1)
    axis.plot(counts, results["committee_curve"], "o-", label="committee of the first k members")
    axis.plot(counts, results["members"], "s", color="grey", label="member k alone")
    axis.axhline(99.77, linestyle="--", color="tab:red", label="the deck's record, 99.77 %")
    axis.set_xlabel("members")
    axis.set_ylabel("MNIST test accuracy (%)")
    axis.set_xticks(counts)
    axis.grid(alpha=0.3)
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize="small")
    axis.set_title("mnist_committee: accuracy against the number of members")
    figure.tight_layout()
    save_figure(figure, path)


def main(argv: list[str] | None = None) -> int:
    """A worker process of ``train_members(jobs=N)``: train one member into ``--folder``."""
    parser = argparse.ArgumentParser(prog="python -m zoo.classics.committee")
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--member", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args(argv)
    log = lambda line: print(line, flush=True)  # noqa: E731
    record = train_one(
        mnist_data.load(args.data), args.folder, args.member, args.seed, args.epochs,
        args.limit, log=log,
    )  # fmt: skip
    log(f"member {args.member}: {record['accuracy']:.2f} % in {record['train_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
