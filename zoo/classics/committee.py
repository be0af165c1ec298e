"""Train ``mnist_committee``: its members one at a time, each on freshly distorted digits every
epoch (``zoo.classics.distort``), then their averaged probabilities as one model.

Each member's weights and results are written as soon as it is trained, into
``OUT/mnist_committee.members/``; a rerun with the same settings skips the members done, so a
kill loses at most the member being trained. Members differ by their seed (initial weights,
dropout, batch order and distortions).

Not registered yet: members of this recipe reach 99.4–99.5 % alone and four of them 99.59 %
(docs/committee.md), short of the deck's 99.77 %; ``mnist_committee`` ships once stronger
members clear it.

Example:
    >>> model, results = train_committee(mnist_data.load(), Path("runs/"), members=9)
    >>> results["committee_curve"][:4]
    [99.5, 99.55, 99.57, 99.59]
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from zoo.classics import mnist_data
from zoo.classics.distort import Distortion, distort
from zoo.classics.recipes import COMMITTEE_RECIPE, Recipe
from zoo.errors import InputError
from zoo.files import atomic_path, atomic_write
from zoo.hashing import sha256_file

MEMBERS_FOLDER = "mnist_committee.members"
MEMBERS_FILE = "members.json"
#: Distortions of the training digits, drawn anew every epoch.
DISTORTION = Distortion()


def member_seed(seed: int, index: int) -> int:
    """The seed of member ``index`` of a committee trained with ``seed``."""
    return seed * 1000 + index


def _member_model():
    import keras

    from applications.classic import build_mnist_committee_member
    from zoo.preprocessing import preprocess

    inputs = keras.Input((28, 28, 1), name="inputs")
    return build_mnist_committee_member(inputs, preprocess(inputs, "mnist"))


def train_member(
    data: mnist_data.Mnist,
    seed: int,
    recipe: Recipe = COMMITTEE_RECIPE,
    epochs: int | None = None,
    limit: int | None = None,
    verbose: int = 0,
    log: Callable[[str], None] = print,
):
    """One member trained with ``seed``; returns the model and each epoch's test accuracy."""
    import keras

    from zoo.classics.train import seed_everything
    from zoo.metrics import accuracy

    epochs = recipe.epochs if epochs is None else epochs
    x, y = data.x_train[:limit], data.y_train[:limit]
    seed_everything(seed)
    model = _member_model()
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
        upcoming = pool.submit(distort, x, rng, DISTORTION)
        for epoch in range(epochs):
            images = upcoming.result()
            if epoch + 1 < epochs:
                upcoming = pool.submit(distort, x, rng, DISTORTION)
            model.fit(
                images[..., None], y, batch_size=recipe.batch_size, epochs=1, shuffle=True,
                verbose=verbose,
            )  # fmt: skip
            curve.append(round(accuracy(model, data.x_test, data.y_test), 2))
            log(f"   epoch {epoch + 1}/{epochs}: test accuracy {curve[-1]:.2f} %")
    return model, curve


def _settings(seed: int, epochs: int, limit: int | None) -> dict:
    return {
        "seed": seed,
        "epochs": epochs,
        "train_images": limit or 60000,
        "recipe": COMMITTEE_RECIPE.describe(),
        "distortion": DISTORTION.describe(),
    }


def train_members(
    data: mnist_data.Mnist,
    out_dir: Path,
    members: int,
    seed: int = 0,
    epochs: int | None = None,
    limit: int | None = None,
    verbose: int = 0,
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Train the members not yet in ``out_dir``, one at a time; their records, in order.

    Raises:
        InputError: ``out_dir`` holds members trained with other settings.
    """
    folder = Path(out_dir) / MEMBERS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    record_path = folder / MEMBERS_FILE
    settings = _settings(seed, COMMITTEE_RECIPE.epochs if epochs is None else epochs, limit)
    record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    if record and record.get("settings") != settings:
        raise InputError(
            f"{folder} holds committee members trained with other settings "
            f"({record.get('settings')}); choose another --out or remove it"
        )
    record = {"settings": settings, "members": record.get("members", [])}
    done = {entry["index"]: entry for entry in record["members"]}
    for index in range(members):
        path = folder / f"member_{index:02d}.weights.h5"
        entry = done.get(index)
        if entry and path.is_file() and sha256_file(path) == entry["sha256"]:
            log(f"== member {index}: done before ({entry['accuracy']:.2f} %)")
            continue
        log(f"== member {index} (seed {member_seed(seed, index)})")
        started = time.perf_counter()
        model, curve = train_member(
            data, member_seed(seed, index), epochs=epochs, limit=limit, verbose=verbose, log=log
        )
        clean = _member_model()  # a fresh model: the file's bytes do not depend on training
        clean.set_weights(model.get_weights())
        with atomic_path(path) as temp:
            clean.save_weights(str(temp))
        done[index] = {
            "index": index,
            "seed": member_seed(seed, index),
            "accuracy": curve[-1],
            "curve": curve,
            "train_seconds": round(time.perf_counter() - started, 1),
            "sha256": sha256_file(path),
        }
        record["members"] = [done[i] for i in sorted(done)]
        atomic_write(record_path, json.dumps(record, indent=1) + "\n")
        log(f"   member {index}: {curve[-1]:.2f} % in {done[index]['train_seconds']} s")
    return [done[index] for index in range(members)]


def committee_model(members: int):
    """The committee of ``members`` columns (random weights), raw 0..255 digits in."""
    import keras

    from applications.classic import build_mnist_committee
    from zoo.preprocessing import preprocess

    inputs = keras.Input((28, 28, 1), name="inputs")
    model = build_mnist_committee(inputs, preprocess(inputs, "mnist"), members=members)
    model.name = "mnist_committee"
    return model


def assemble(out_dir: Path, members: int):
    """The committee model with the weights of the first ``members`` trained members."""
    folder = Path(out_dir) / MEMBERS_FOLDER
    committee = committee_model(members)
    member = _member_model()
    for index in range(members):
        member.load_weights(str(folder / f"member_{index:02d}.weights.h5"))
        for layer in member.layers:
            if layer.weights:
                committee.get_layer(f"m{index}_{layer.name}").set_weights(layer.get_weights())
    return committee


def committee_curve(out_dir: Path, members: int, data: mnist_data.Mnist) -> list[float]:
    """Test accuracy (percent) of the committee of the first k members, for k = 1..members."""
    folder = Path(out_dir) / MEMBERS_FOLDER
    member = _member_model()
    total = np.zeros((len(data.y_test), 10))
    curve = []
    for index in range(members):
        member.load_weights(str(folder / f"member_{index:02d}.weights.h5"))
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
    verbose: int = 0,
    log: Callable[[str], None] = print,
):
    """Train (or finish training) the committee; return the model and its results: test
    accuracy, each member's, and the committee curve (also drawn in ``OUT/committee.png``)."""
    from applications.classic import COMMITTEE_MEMBERS
    from zoo.metrics import accuracy

    members = members or COMMITTEE_MEMBERS
    records = train_members(data, out_dir, members, seed, epochs, limit, verbose, log)
    model = assemble(out_dir, members)
    results = {
        "accuracy": accuracy(model, data.x_test, data.y_test),
        "members": [record["accuracy"] for record in records],
        "committee_curve": committee_curve(out_dir, members, data),
        "member_train_seconds": [record["train_seconds"] for record in records],
        "recipe": f"{members} members, each: {COMMITTEE_RECIPE.describe()}; distortions "
        f"drawn anew every epoch: {DISTORTION.describe()}",
        "epochs": records[0]["curve"] and len(records[0]["curve"]),
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
    from zoo.run_report import pyplot, save_figure

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
