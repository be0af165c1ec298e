"""`zoo classics train`: deterministic, writes weights and results; full retraining is slow."""

from __future__ import annotations

import json

import pytest

import zoo

from conftest import MNIST_PATH, assert_clean_error, run_zoo


def test_training_is_deterministic(tmp_path):
    from zoo.classics.train import train

    runs = [
        train(
            ["softmax_regression"],
            out_dir=tmp_path / str(i),
            data_path=MNIST_PATH,
            epochs=1,
            limit=3000,
            verbose=0,
            log=lambda _: None,
        )
        for i in range(2)
    ]
    assert runs[0]["softmax_regression"]["sha256"] == runs[1]["softmax_regression"]["sha256"]
    other_seed = train(
        ["softmax_regression"],
        out_dir=tmp_path / "seed1",
        data_path=MNIST_PATH,
        seed=1,
        epochs=1,
        limit=3000,
        verbose=0,
        log=lambda _: None,
    )
    assert other_seed["softmax_regression"]["sha256"] != runs[0]["softmax_regression"]["sha256"]


def test_the_perceptron_retrains_to_its_shipped_file_byte_for_byte(tmp_path):
    """The quick one of the slow retraining tests, in CI: a weights file records each layer's
    class (the file of a model whose preprocessing layer changes class changes bytes, however
    equal its values), so a change of model layout shows here at once."""
    from zoo.classics.train import train

    results = train(["perceptron"], out_dir=tmp_path, verbose=0, log=lambda _: None)
    assert results["perceptron"]["sha256"] == zoo.get_spec("perceptron").weights.sha256


def test_cli_train_writes_loadable_weights_and_results(tmp_path):
    out = tmp_path / "out"
    run_zoo(
        "classics",
        "train",
        "perceptron",
        "mnist_rnn",
        "--data",
        MNIST_PATH,
        "--out",
        out,
        "--epochs",
        "1",
        "--limit",
        "512",
        check=True,
    )
    results = json.loads((out / "results.json").read_text())
    assert set(results) == {"perceptron", "mnist_rnn"}
    assert results["perceptron"]["accuracy"] == 100.0
    assert results["mnist_rnn"]["train_images"] == 512
    model = zoo.load("mnist_rnn", weights=out / "mnist_rnn.weights.h5")
    assert model.count_params() == zoo.get_spec("mnist_rnn").params


def test_cli_train_errors(tmp_path):
    assert_clean_error(
        run_zoo("classics", "train", "prewitt", "--out", tmp_path), "not trained", "trainable:"
    )
    assert_clean_error(
        run_zoo(
            "classics",
            "train",
            "softmax_regression",
            "--out",
            tmp_path,
            env={"KERAS_HOME": str(tmp_path)},
        ),
        "--data",
        "mnist.npz",
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "perceptron",
        "softmax_regression",
        "mlp_625",
        "modern_mlp",
        "mnist_autoencoder",
        "mnist_rnn",
        "mnist_convnet",
    ],
)
def test_retraining_reproduces_the_shipped_weights(name, tmp_path):
    from zoo.classics.train import train

    results = train([name], out_dir=tmp_path, data_path=MNIST_PATH, verbose=0)
    spec = zoo.get_spec(name)
    if spec.accuracy_floor:
        assert results[name]["accuracy"] >= spec.accuracy_floor
    assert results[name]["sha256"] == spec.weights.sha256
