"""zoo tune and zoo classics tune: keras-tuner's four searches driving real fine-tunes (on real
optdigits images) and real classic MNIST trainings; features shared across trials; resume;
the best trial as a run directory that predicts."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo.classics.tune import CLASSIC_SPACES, tune_classic
from zoo.errors import InputError
from zoo.training import cached_features, run_folder
from zoo.training.search_loop import SEARCHES
from zoo.training.tune import HEAD_ONLY_SPACE, tune

from conftest import SHARED, run_zoo

OPTDIGITS = SHARED / "data" / "optdigits"
MNIST = SHARED / "data" / "mnist" / "mnist.npz"


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("digits")
    for label in range(10):
        (folder / str(label)).mkdir()
        for file in sorted((OPTDIGITS / str(label)).glob("*.png"))[:12]:
            shutil.copy(file, folder / str(label) / file.name)
    return folder


@pytest.fixture(scope="module")
def mnist_small():
    from zoo.classics import mnist_data

    data = mnist_data.load(MNIST)
    # 1,000 training images, and the 10,000 the search holds out at the end
    return data._replace(
        x_train=np.concatenate([data.x_train[:1000], data.x_train[-10_000:]]),
        y_train=np.concatenate([data.y_train[:1000], data.y_train[-10_000:]]),
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_head_only_search_shares_the_features_and_its_best_trial_is_a_run(
    digits, tmp_path, monkeypatch
):
    computed = []
    real = cached_features.compute_features

    def counting(trainer, x, which):
        computed.append(which)
        return real(trainer, x, which)

    monkeypatch.setattr(cached_features, "compute_features", counting)
    cached_features.SHARED_FEATURES.clear()
    result = tune(
        "mlp_625", digits, tmp_path / "s", search="grid", trials=4, epochs=2, head_only=True,
        log=lambda line: None,
    )  # fmt: skip
    assert computed == ["training", "validation"]  # once, for all four trials
    rows = read_csv(tmp_path / "s" / "trials.csv")
    assert len(rows) == len(result.trials) == 4
    grid = [(rate, dropout) for rate in HEAD_ONLY_SPACE[0].values for dropout in (0.0, 0.2, 0.5)]
    assert [(float(r["learning_rate"]), float(r["head_dropout"])) for r in rows] == grid[:4]
    scores = [float(row["score"]) for row in rows]
    assert len(set(scores)) > 1  # the hyperparameters change the outcome
    assert result.best["score"] == pytest.approx(max(scores), abs=1e-4)
    assert (tmp_path / "s" / "trials.png").read_bytes()[:4] == b"\x89PNG"
    best = result.best_run
    assert zoo.get_spec(best).labels == tuple(str(d) for d in range(10))
    # the best run is a normal run directory: it predicts
    image = next((digits / "3").glob("*.png"))
    assert zoo.predict(best, [str(image)]).shape == (1, 10)
    assert run_folder.open_run(best).metrics["accuracy"] == pytest.approx(result.best["score"])


#: Every kind drives a classic search below in CI; the fine-tune searches that resume run here
#: for random and Hyperband (its own budget), the other two in `make test-all` (10 s each).
FINE_TUNE_SEARCHES = [
    search if search in ("random", "hyperband") else pytest.param(search, marks=pytest.mark.slow)
    for search in SEARCHES
]


@pytest.mark.parametrize("search", FINE_TUNE_SEARCHES)
def test_every_search_kind_fine_tunes_and_resumes(digits, tmp_path, search):
    out, epochs = tmp_path / search, 3 if search == "hyperband" else 1
    first = tune(
        "mlp_625", digits, out, search=search, trials=2, epochs=epochs, head_epochs=1,
        log=lambda line: None,
    )  # fmt: skip
    assert len(first.trials) == 2 and all(t["status"] == "completed" for t in first.trials)
    assert first.best_run.is_dir()
    lines: list[str] = []
    again = tune(
        "mlp_625", digits, out, search=search, trials=3, epochs=epochs, head_epochs=1,
        log=lines.append,
    )  # fmt: skip
    assert lines[0] == "== 2 trial(s) done before, kept"
    assert sum(line.startswith("== trial") for line in lines) == 1
    assert [t["trial"] for t in again.trials[:2]] == [t["trial"] for t in first.trials]


@pytest.mark.parametrize("search", SEARCHES)
def test_every_search_kind_tunes_a_classic_model(mnist_small, tmp_path, search):
    result = tune_classic(
        "mlp_625", mnist_small, tmp_path / "s", search=search, trials=2, epochs=3, limit=1000,
        log=lambda line: None,
    )  # fmt: skip
    assert len(result.trials) == 2
    names = [choice.name for choice in CLASSIC_SPACES["mlp_625"]]
    assert all(set(t["values"]) == set(names) for t in result.trials)
    assert zoo.get_spec(result.best_run).labels == tuple(str(d) for d in range(10))
    best = zoo.load(result.best_run)
    width = result.best["values"]["width"]
    assert best.get_layer("hidden").units == width
    held_x = mnist_small.x_train[-10_000:]
    accuracy = np.mean(
        zoo.predict(result.best_run, held_x).argmax(1) == mnist_small.y_train[-10_000:]
    )
    assert accuracy == pytest.approx(result.best["score"], abs=1e-3)
    assert accuracy > 0.2  # 1,000 images, 1 to 3 epochs (Hyperband: 1); chance is 0.1


def test_other_settings_are_refused_unless_overwrite(digits, tmp_path):
    quiet = {"log": lambda line: None, "head_only": True, "epochs": 1}
    tune("mlp_625", digits, tmp_path / "s", search="random", trials=1, **quiet)
    with pytest.raises(InputError, match="holds a search with other settings .*search 'random'"):
        tune("mlp_625", digits, tmp_path / "s", search="grid", trials=1, **quiet)
    result = tune(
        "mlp_625", digits, tmp_path / "s", search="grid", trials=1, overwrite=True, **quiet
    )
    assert len(result.trials) == 1
    with pytest.raises(InputError, match="search must be one of grid, random, bayesian"):
        tune("mlp_625", digits, tmp_path / "t", search="genetic", trials=1, **quiet)
    with pytest.raises(InputError, match="hyperband needs epochs >= 3"):
        tune("mlp_625", digits, tmp_path / "t", search="hyperband", trials=1, **quiet)
    with pytest.raises(InputError, match="zoo classics tune searches"):
        tune_classic("mnist_rnn", None, tmp_path / "u")
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds other files and no search"):
        tune("mlp_625", digits, tmp_path / "v", trials=1, **quiet)


def test_a_fixed_recipe_reaches_every_trial_and_is_part_of_the_settings(digits, tmp_path):
    quiet = {"log": lambda line: None, "head_only": True, "epochs": 1, "trials": 1}
    recipe = {"label_smoothing": 0.1, "schedule": "cosine"}
    result = tune("mlp_625", digits, tmp_path / "s", recipe=recipe, **quiet)
    recorded = json.loads((result.best_run / "run.json").read_text())["arguments"]
    assert recorded["label_smoothing"] == 0.1 and recorded["schedule"] == "cosine"
    with pytest.raises(InputError, match="other settings .*recipe"):
        tune("mlp_625", digits, tmp_path / "s", recipe={"label_smoothing": 0.2}, **quiet)
    with pytest.raises(InputError, match="recipe takes label_smoothing, .*received unfreeze"):
        tune("mlp_625", digits, tmp_path / "t", recipe={"unfreeze": "all"}, **quiet)


def test_zoo_tune_and_zoo_classics_tune_commands(digits, tmp_path):
    done = run_zoo(
        "tune", str(digits), "--model", "mlp_625", "--head-only", "--trials", "2",
        "--epochs", "1", "--search", "random", "--out", str(tmp_path / "s"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "best: trial" in done.stdout and "learning_rate" in done.stdout
    done = run_zoo(
        "classics", "tune", "mlp_625", "--trials", "1", "--epochs", "1", "--limit", "500",
        "--data", str(MNIST), "--out", str(tmp_path / "c"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "c" / "best" / "model.keras").is_file()
    done = run_zoo("classics", "tune", "mlp_625", "--trials", "0", "--out", str(tmp_path / "d"))
    assert done.returncode == 2 and "trials must be a positive integer" in done.stderr


def test_a_users_error_in_a_trial_stops_the_search_with_that_error(digits, tmp_path):
    """keras-tuner would mark the trial invalid, try two more and end with a RuntimeError
    holding tracebacks; zoo stops at the first with the one-line error."""
    data = tmp_path / "data"
    shutil.copytree(digits, data)
    with pytest.raises(InputError, match="The search folder .* is inside the data folder"):
        tune("mlp_625", data, data / "search", trials=3, head_only=True, log=lambda line: None)
    missing = tmp_path / "no-such-weights.h5"
    done = run_zoo(
        "tune", str(data), "--model", "mlp_625", "--weights", str(missing), "--head-only",
        "--trials", "3", "--epochs", "1", "--out", str(tmp_path / "s"),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("zoo: error:"), done.stderr
    assert "no-such-weights.h5" in done.stderr and "Traceback" not in done.stderr
    assert "== trial 0" in done.stdout and "== trial 1" not in done.stdout


def test_a_search_folder_that_cannot_be_written_is_an_error_before_any_trial(digits, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(InputError, match="Cannot write the search folder .*a-file/s: Not a dir"):
        tune("mlp_625", digits, blocker / "s", trials=1, head_only=True)


def test_a_search_on_changed_images_is_refused_not_mixed(digits, tmp_path):
    """Trials scored on other images cannot be compared: a rerun on changed data is refused
    (finished trials would otherwise stand beside new ones on other images)."""
    data = tmp_path / "data"
    shutil.copytree(digits, data)
    quiet = {"log": lambda line: None, "head_only": True, "epochs": 1, "search": "random"}
    tune("mlp_625", data, tmp_path / "s", trials=1, **quiet)
    next((data / "4").glob("*.png")).unlink()
    with pytest.raises(InputError, match="other settings .*data_sha256"):
        tune("mlp_625", data, tmp_path / "s", trials=2, **quiet)
    assert len(tune("mlp_625", data, tmp_path / "s", trials=1, overwrite=True, **quiet).trials) == 1


def test_a_classic_search_on_other_mnist_arrays_is_refused(mnist_small, tmp_path):
    quiet = {"log": lambda line: None, "epochs": 1, "limit": 200, "search": "random"}
    tune_classic("softmax_regression", mnist_small, tmp_path / "s", trials=1, **quiet)
    changed = mnist_small._replace(y_train=np.roll(mnist_small.y_train, 1))
    with pytest.raises(InputError, match="other settings .*data_sha256"):
        tune_classic("softmax_regression", changed, tmp_path / "s", trials=2, **quiet)
