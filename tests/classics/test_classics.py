"""The deck's history models show what they must: truth tables, the perceptron's limit,
the backpropagation figures, the Prewitt edge of 90, the autoencoder's reconstructions."""

from __future__ import annotations

import numpy as np
import pytest

import zoo

BINARY_PAIRS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")


@pytest.mark.parametrize(
    "preset, expected",
    [
        ("and", [0, 0, 0, 1]),
        ("or", [0, 1, 1, 1]),
        ("not", [1, 1, 0, 0]),  # NOT of the first input
    ],
)
def test_mcculloch_pitts_truth_tables(preset, expected):
    model = zoo.load("mcculloch_pitts", preset=preset)
    assert model.predict(BINARY_PAIRS, verbose=0).ravel().tolist() == expected


def test_mcculloch_pitts_unknown_preset():
    with pytest.raises(
        ValueError, match="Unknown McCulloch-Pitts preset 'xor'; valid: and, or, not"
    ):
        zoo.load("mcculloch_pitts", preset="xor")


def _fit_perceptron(x, y, epochs):
    model = zoo.load("perceptron", weights=None)
    model.compile()
    accuracies = []
    for _ in range(epochs):
        model.fit(x, y, batch_size=1, epochs=1, shuffle=False, verbose=0)
        accuracies.append(float(np.mean(model.predict(x, verbose=0).ravel() == y)))
    return model, accuracies


def test_perceptron_rule_converges_on_a_separable_task():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (60, 2)).astype("float32")
    y = (x @ np.array([2.0, -1.0]) + 0.3 > 0).astype("float32")
    _, accuracies = _fit_perceptron(x, y, epochs=30)
    assert accuracies[-1] == 1.0


def test_perceptron_never_learns_xor():
    xor = np.array([0, 1, 1, 0], dtype="float32")
    _, accuracies = _fit_perceptron(BINARY_PAIRS, xor, epochs=25)
    assert max(accuracies) <= 0.75


def test_perceptron_updates_follow_the_rule_not_gradients():
    model = zoo.load("perceptron", weights=None)
    model.compile()
    model.fit(
        np.array([[1.0, 2.0]], "float32"), np.array([0.0], "float32"), batch_size=1, verbose=0
    )
    unit = model.get_layer("perceptron_unit")
    # zero weights fire on w.x = 0 (output 1); target 0: w -= x, b -= 1
    np.testing.assert_array_equal(unit.kernel.numpy().ravel(), [-1.0, -2.0])
    np.testing.assert_array_equal(unit.bias.numpy(), [-1.0])


def test_shipped_perceptron_computes_and():
    model = zoo.load("perceptron")
    assert model.predict(BINARY_PAIRS, verbose=0).ravel().tolist() == [0, 0, 0, 1]


def test_backprop_example_figures():
    from zoo.classics.backprop import run

    report = run(steps=2)
    np.testing.assert_allclose(report["outputs"], [0.75136507, 0.77292847], atol=5e-9)
    assert round(report["errors"][0], 9) == 0.298371109
    assert round(report["errors"][1], 9) == 0.291027774
    assert report["errors"][2] < report["errors"][1]
    np.testing.assert_allclose(
        report["weights_after_one_update"]["output"],
        [0.35891648, 0.408666186, 0.511301270, 0.561370121],
        atol=1e-8,
    )
    assert report["published"]["error_after_one_update"] == 0.291027924


def test_backprop_biases_are_not_updated():
    from zoo.classics.backprop import run

    report = run(steps=1)
    assert report["errors"][1] < report["errors"][0]
    model = zoo.load("backprop_2_2_2")
    assert model.get_layer("hidden").bias.dtype == "float64"
    assert [w.name for w in model.trainable_weights] == ["kernel", "kernel"]


def test_prewitt_edge_of_40_over_10_is_90():
    image = np.vstack([np.full((4, 6), 40.0), np.full((4, 6), 10.0)])
    model = zoo.load("prewitt")
    responses = model.predict(image[None, :, :, None], verbose=0)[0]
    horizontal = responses[..., 0]
    assert horizontal.max() == 90.0
    assert set(np.unique(horizontal)) == {0.0, 90.0}
    np.testing.assert_array_equal(horizontal[2], np.full(4, 90.0))  # rows 2-3 straddle the edge
    np.testing.assert_array_equal(horizontal[3], np.full(4, 90.0))
    np.testing.assert_array_equal(responses[..., 1], 0.0)  # no vertical edge


def test_autoencoder_reconstructs_digits(mnist):
    from zoo.classics.train import reconstruction_mse

    model = zoo.load("mnist_autoencoder")
    x = mnist.x_test[:500]
    mse = reconstruction_mse(model, x)
    assert mse < 0.02
    untrained = reconstruction_mse(zoo.load("mnist_autoencoder", weights=None), x)
    assert mse < untrained / 4
    from zoo.weights.shipped import recorded_results

    recorded = recorded_results()["mnist_autoencoder"]["reconstruction_mse"]
    assert recorded < 0.02
