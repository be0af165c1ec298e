"""The shipped weights reach their floors on the full 10,000-image MNIST test set."""

from __future__ import annotations

import pytest

import zoo
from zoo.metrics import accuracy
from zoo.weights.shipped import recorded_results

FLOORED = [name for name in zoo.list_models(dataset="mnist") if zoo.get_spec(name).accuracy_floor]


def test_every_supervised_mnist_model_has_a_floor():
    assert set(FLOORED) == {
        "softmax_regression",
        "mlp_625",
        "modern_mlp",
        "mnist_convnet",
        "mnist_committee",
        "mnist_rnn",
    }


@pytest.mark.parametrize("name", FLOORED)
def test_shipped_weights_reach_the_floor(name, mnist):
    measured = accuracy(zoo.load(name), mnist.x_test, mnist.y_test)
    assert measured >= zoo.get_spec(name).accuracy_floor
    # the figure recorded at training time is the one we measure now
    assert measured == pytest.approx(recorded_results()[name]["accuracy"], abs=0.02)


def test_autoencoder_probe_classifies(mnist):
    measured = accuracy(zoo.load("mnist_autoencoder"), mnist.x_test, mnist.y_test)
    assert measured > 90.0


def test_recorded_hashes_are_the_pinned_ones():
    recorded = recorded_results()
    for name in FLOORED + ["mnist_autoencoder", "perceptron"]:
        assert recorded[name]["sha256"] == zoo.get_spec(name).weights.sha256, name
