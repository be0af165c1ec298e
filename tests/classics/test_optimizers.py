"""`zoo classics optimizers`: the deck's optimization methods on one classic model, from the
same start on the same data; curves, table and plot; a rerun keeps what is done."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.classics import mnist_data
from zoo.classics.optimizers import METHOD_NAMES, compare, format_markdown

from conftest import MNIST_PATH, assert_clean_error, run_zoo


@pytest.fixture(scope="module")
def small_mnist():
    data = mnist_data.load(MNIST_PATH)
    return data._replace(x_test=data.x_test[:1000], y_test=data.y_test[:1000])


def test_every_method_trains_from_the_same_start_and_is_plotted(tmp_path, small_mnist):
    rows = compare(
        "softmax_regression", small_mnist, tmp_path, epochs=2, limit=2000, log=lambda _: None
    )
    print(format_markdown(rows))
    assert [row["optimizer"] for row in rows] == list(METHOD_NAMES)
    results = json.loads((tmp_path / "optimizers.json").read_text())["results"]
    for name in METHOD_NAMES:
        curves = results[name]
        assert len(curves["train_loss"]) == len(curves["test_accuracy"]) == 2
        assert all(np.isfinite(curves["train_loss"]))
    adam = results["adam"]
    assert adam["train_loss"][1] < adam["train_loss"][0] and adam["test_accuracy"][1] > 0.5
    # the methods differ: the same start, so different curves come from the optimizer alone
    assert len({round(results[n]["train_loss"][0], 6) for n in METHOD_NAMES}) == len(METHOD_NAMES)
    with Image.open(tmp_path / "optimizers.png") as plot:
        colours = np.unique(np.asarray(plot.convert("RGB")).reshape(-1, 3), axis=0)
        assert plot.size[0] > 800 and len(colours) > 20
    table = format_markdown(rows)
    assert table.count("\n") == len(METHOD_NAMES) + 1 and "| adam | Adam lr 0.001 |" in table
    assert (tmp_path / "optimizers.csv").read_text().count("\n") == len(METHOD_NAMES) + 1


def test_the_same_start_gives_the_same_curve(tmp_path, small_mnist):
    first = compare("softmax_regression", small_mnist, tmp_path / "a", epochs=1, limit=500,
                    names=["sgd"], log=lambda _: None)  # fmt: skip
    again = compare("softmax_regression", small_mnist, tmp_path / "b", epochs=1, limit=500,
                    names=["sgd"], log=lambda _: None)  # fmt: skip
    for row in first + again:
        row.pop("seconds")
    assert first == again


def test_a_rerun_keeps_what_is_done_and_refuses_other_settings(tmp_path, small_mnist):
    logged = []
    options = dict(epochs=1, limit=500, log=logged.append)
    compare("softmax_regression", small_mnist, tmp_path, names=["sgd", "adam"], **options)
    logged.clear()
    rows = compare("softmax_regression", small_mnist, tmp_path, names=["adam", "lion"], **options)
    assert logged[0] == "== adam: done before, kept" and logged[1].startswith("== lion")
    assert [row["optimizer"] for row in rows] == ["sgd", "adam", "lion"]  # the table keeps sgd
    kept = (tmp_path / "optimizers.json").read_text()
    with pytest.raises(zoo.InputError, match=r"other settings: epochs 1 \(now 2\).*--overwrite"):
        compare("softmax_regression", small_mnist, tmp_path, names=["sgd"], epochs=2, limit=500)
    assert (tmp_path / "optimizers.json").read_text() == kept  # nothing lost
    logged.clear()
    compare("softmax_regression", small_mnist, tmp_path, names=["sgd"], epochs=2, limit=500,
            overwrite=True, log=logged.append)  # fmt: skip
    assert logged[0].startswith("== sgd (")  # trained again, with the new settings


def test_cli_and_its_errors(tmp_path):
    result = run_zoo("classics", "optimizers", "--model", "softmax_regression", "--epochs", "1",
                     "--limit", "300", "--optimizers", "sgd,adam", "--data", MNIST_PATH,
                     "--out", tmp_path, check=True)  # fmt: skip
    assert "| sgd | SGD lr 0.01 |" in result.stdout and (tmp_path / "optimizers.png").is_file()
    other = [
        "classics",
        "optimizers",
        "--model",
        "softmax_regression",
        "--epochs",
        "2",
        "--limit",
        "300",
        "--optimizers",
        "sgd",
        "--data",
        MNIST_PATH,
        "--out",
        tmp_path,
    ]
    assert_clean_error(run_zoo(*other), "other settings: epochs 1 (now 2)", "--overwrite")
    replaced = run_zoo(*other, "--overwrite", "--json", check=True)  # fmt: skip
    assert [row["optimizer"] for row in json.loads(replaced.stdout)] == ["sgd"]
    assert_clean_error(
        run_zoo(
            "classics",
            "optimizers",
            "--optimizers",
            "adamax",
            "--data",
            MNIST_PATH,
            "--out",
            tmp_path,
        ),  # fmt: skip
        "Unknown optimizer(s) adamax; valid: sgd, momentum",
    )
    assert_clean_error(
        run_zoo("classics", "optimizers", "--model", "prewitt", "--out", tmp_path),
        "trains softmax_regression",
    )
    assert_clean_error(
        run_zoo("classics", "optimizers", "--epochs", "0", "--data", MNIST_PATH, "--out", tmp_path),
        "--epochs must be a positive integer",
    )
    assert zoo.get_spec("modern_mlp")  # the default model exists
