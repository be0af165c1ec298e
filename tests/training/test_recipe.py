"""The modern recipe of zoo.fine_tune: label smoothing, MixUp / CutMix, EMA, layer-wise rates,
warmup + cosine, early stopping, RandAugment / AugMix, the learning-rate finder; each changes
what it should, is recorded, and resumes exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest

import zoo
from zoo import run_dir
from zoo.training import lr_find, recipe
from zoo.training.augmentation import augmenter, mixer
from zoo.training.finetune import fine_tune

from finetune_helpers import QUICK, child, digits_folder, final_weights

#: Every recipe argument on at once (and random draws in both phases): what exact resume must
#: survive.
EVERYTHING = {
    "head_epochs": 2,
    "epochs": 3,
    "unfreeze": "all",
    "augment": "randaugment",
    "mix": "both",
    "label_smoothing": 0.1,
    "ema": 0.9,
    "layer_decay": 0.8,
    "warmup": 1,
    "schedule": "cosine",
    "validation": 0.25,
    "seed": 4,
    "cached_head": False,
    "batch_size": 16,  # three batches an epoch: the kill at the third is inside the epoch
}


def test_label_smoothing_changes_the_loss_of_a_fixed_batch_by_the_right_amount():
    import keras

    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(5), size=8).astype("float32")
    y = rng.integers(0, 5, size=8)
    targets = recipe.one_hot(y, 5)
    plain = float(recipe.loss(0.0, soft=True)(targets, probabilities))
    smoothed = float(recipe.loss(0.2, soft=True)(targets, probabilities))
    log_p = np.log(probabilities)
    hand_plain = -np.mean(log_p[np.arange(8), y])
    hand_smoothed = -np.mean(np.sum((0.8 * targets + 0.2 / 5) * log_p, axis=1))
    assert plain == pytest.approx(hand_plain, rel=1e-5)
    assert smoothed == pytest.approx(hand_smoothed, rel=1e-5)
    assert smoothed - plain == pytest.approx(hand_smoothed - hand_plain, rel=1e-4)
    sparse = keras.losses.get(recipe.loss(0.0, soft=False))(y, probabilities)
    assert float(np.mean(sparse)) == pytest.approx(hand_plain, rel=1e-5)


def test_layer_decay_gives_the_deepest_unfrozen_layer_the_smallest_step():
    """Adam's first step moves each weight by about its learning rate (m / sqrt(v) = ±1), so
    the largest change per layer is the rate times that layer's factor."""
    import keras

    inputs = keras.Input((6,))
    x = keras.layers.Dense(6, name="low")(inputs)
    x = keras.layers.Dense(6, name="middle")(x)
    x = keras.layers.Dense(6, name="high")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs, outputs)
    trained = [model.get_layer(name) for name in ("low", "middle", "high")]
    factors = recipe.layer_rate_factors(model, trained, 0.5)
    assert factors == [0.125, 0.125, 0.25, 0.25, 0.5, 0.5, 1.0, 1.0]  # kernel, bias per layer
    optimizer = recipe.make_optimizer(1e-3, factors=factors)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    before = {layer.name: layer.get_weights()[0].copy() for layer in model.layers[1:]}
    rng = np.random.default_rng(1)
    model.train_on_batch(rng.normal(size=(16, 6)).astype("float32"), rng.integers(0, 3, 16))
    steps = {
        name: float(np.max(np.abs(model.get_layer(name).get_weights()[0] - weights)))
        for name, weights in before.items()
    }
    for name, factor in (("low", 0.125), ("middle", 0.25), ("high", 0.5), ("predictions", 1)):
        assert steps[name] == pytest.approx(1e-3 * factor, rel=0.02), name
    assert recipe.layer_rate_factors(model, trained, None) == [1.0] * 8


def test_warmup_then_cosine_rates_per_epoch_and_early_stopping(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=4, classes=range(3))
    run = fine_tune(
        "mnist_convnet",
        data,
        tmp_path / "run",
        head_epochs=1,
        epochs=4,
        warmup=1,
        schedule="cosine",
        learning_rate=(1e-3, 1e-4),
        validation=None,
        **QUICK,
    )
    rates = [row["learning_rate"] for row in run.history if row["phase"] == 2]
    assert rates[0] == pytest.approx(1e-4, rel=1e-3)  # warmup over: the peak
    assert rates[0] > rates[1] > rates[2] > rates[3]  # the cosine
    assert rates[3] == pytest.approx(1e-4 * recipe.COSINE_FLOOR, rel=1e-3)
    # a rate too small to change anything: no better validation accuracy, phase 2 stops
    stopped = fine_tune(
        "mnist_convnet",
        data,
        tmp_path / "stopped",
        head_epochs=1,
        epochs=6,
        patience=2,
        learning_rate=(1e-3, 1e-12),
        validation=0.5,
        **QUICK,
    )
    assert [row["phase"] for row in stopped.history] == [1, 2, 2, 2]
    assert stopped.metrics["stopped_early"] == {"phase": 2, "epoch": 3, "patience": 2}
    recorded = run_dir.read_run(tmp_path / "stopped")["arguments"]
    assert recorded["patience"] == 2 and recorded["schedule"] == "cosine"  # the default


def test_ema_weights_are_the_ones_validated_and_saved(tmp_path):
    """With ema on, model.keras holds the moving average, not the raw weights the
    checkpoint keeps (which training goes on from)."""
    import keras

    data = digits_folder(tmp_path / "data", per_class=6, classes=range(3))
    out = tmp_path / "run"
    fine_tune(
        "mnist_convnet", data, out, head_epochs=1, epochs=2, ema=0.5, validation=None, **QUICK
    )
    saved = keras.saving.load_model(out / run_dir.MODEL_FILE, compile=False)
    raw = keras.saving.load_model(out / run_dir.MODEL_FILE, compile=False)
    state = json.loads((out / "checkpoints" / "state.json").read_text())
    raw.load_weights(out / "checkpoints" / state["weights"])
    kernel = saved.get_layer("predictions").get_weights()[0]
    raw_kernel = raw.get_layer("predictions").get_weights()[0]
    assert not np.array_equal(kernel, raw_kernel)
    with np.load(out / "checkpoints" / state["optimizer"]) as optimizer:
        averages = [optimizer[name] for name in optimizer.files if name.startswith("arr_")]
    assert any(a.shape == kernel.shape and np.array_equal(a, kernel) for a in averages)
    assert run_dir.read_run(out)["arguments"]["ema"] == 0.5


def test_every_recipe_argument_on_a_killed_run_resumes_bit_for_bit(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=16, classes=range(3))
    whole = child("mnist_convnet", data, tmp_path / "whole", **EVERYTHING)
    assert whole.returncode == 0, whole.stderr[-3000:]
    killed = child(
        "mnist_convnet", data, tmp_path / "resumed", "--kill-at", "phase 2 epoch 2", **EVERYTHING
    )
    assert killed.returncode == -9, killed.stderr[-3000:]
    resumed = child("mnist_convnet", data, tmp_path / "resumed", **EVERYTHING)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    for a, b in zip(
        final_weights(tmp_path / "whole"), final_weights(tmp_path / "resumed"), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    history = [run_dir.read_run(tmp_path / name)["history"] for name in ("whole", "resumed")]
    assert [row["loss"] for row in history[0]] == [row["loss"] for row in history[1]]
    recorded = run_dir.read_run(tmp_path / "whole")["arguments"]
    assert {key: recorded[key] for key in EVERYTHING if key != "validation"} == {
        key: value for key, value in EVERYTHING.items() if key != "validation"
    }


def test_mixup_and_cutmix_labels_follow_the_pixels():
    """Each mixed image is lam * a + (1 - lam) * b of two batch images and its label the same
    mix of theirs; CutMix pastes a box of b into a and labels by area. One class per image
    here, so a soft label names both sources."""
    rng = np.random.default_rng(2)
    batch = rng.uniform(0, 255, size=(8, 6, 6, 1)).astype("float32")
    labels = recipe.one_hot(np.arange(8), 8)
    for kind in ("mixup", "cutmix"):
        images, soft = (np.asarray(v) for v in mixer(kind, 0.4, seed=3)(batch, labels))
        assert np.allclose(soft.sum(axis=1), 1.0, atol=1e-5), kind
        for row in range(8):
            lam = float(soft[row, row])
            rest = soft[row].copy()
            rest[row] = 0
            other = int(rest.argmax()) if rest.max() > 0 else row
            if kind == "mixup":
                expected = lam * batch[row] + (1 - lam) * batch[other]
                np.testing.assert_allclose(images[row], expected, atol=0.05)
            else:  # every pixel from a or from b at the same place; b's share is 1 - lam
                from_b = ~np.isclose(images[row], batch[row])
                assert np.allclose(images[row][from_b], batch[other][from_b])
                # Keras labels by the area of the box it drew, part of which may fall outside
                # the image: the label's share of b is at least the pasted share (a row of
                # this 6 x 6 image for rounding), never less
                assert from_b.mean() <= 1 - lam + 1 / 6


@pytest.mark.parametrize("level", ["randaugment", "augmix", "light", "strong"])
def test_digits_are_never_mirrored(level):
    """A stroke in the left third of a digit image stays left of the centre under every digit
    augmentation, on every draw (a mirror would put it at the right). Where the stroke is is
    measured on the pixels' distance from the background, so that RandAugment's solarize or
    auto-contrast, which change the grey levels, do not move it."""
    image = np.zeros((28, 28, 1), "float32")
    image[4:24, 3:8] = 255.0
    augment = augmenter(level, zoo.get_spec("mnist_convnet"), seed=0)
    out = np.asarray(augment(np.repeat(image[None], 64, axis=0)))
    assert out.shape == (64, 28, 28, 1)
    columns = np.arange(28)
    for view in out[..., 0]:
        weight = np.abs(view - np.median(view)).sum(axis=0)
        assert (weight * columns).sum() / weight.sum() < 11.0  # the mirror's would be 22.5


def test_bad_recipe_arguments_say_what_is_valid(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=3, classes=range(2))
    cases = [
        ({"label_smoothing": 1.5}, r"label_smoothing must be a number in \(0, 1\)"),
        ({"mix": "blend"}, "mix must be one of none, mixup, cutmix, both"),
        ({"mix": "mixup", "mix_alpha": 0}, "mix_alpha must be a number > 0"),
        ({"ema": 1.0}, "ema"),
        ({"layer_decay": 0}, "layer_decay must be a number in"),
        ({"warmup": -1}, "warmup must be a whole number of epochs >= 0"),
        ({"schedule": "step"}, "schedule must be one of constant, cosine"),
        ({"patience": 0}, "patience must be None or a whole number"),
        ({"augment": "heavy"}, "augment must be one of none, light, strong, randaugment, augmix"),
        ({"learning_rate": "fast"}, "learning_rate must be None .*'auto'"),
    ]
    for options, message in cases:
        with pytest.raises(zoo.InputError, match=message):
            fine_tune("mnist_convnet", data, tmp_path / "run", **{**QUICK, **options})


def test_mixing_a_class_of_one_image_is_refused_before_training(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=4, classes=range(3))
    for extra in sorted((data / "2").iterdir())[1:]:
        extra.unlink()
    with pytest.raises(zoo.InputError, match="needs at least 2 training images in every class"):
        fine_tune("mnist_convnet", data, tmp_path / "run", mix="mixup", validation=None, **QUICK)
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_the_lr_finder_lands_near_the_known_good_rate():
    """A small softmax network on a synthetic 5-class problem. The good rate is measured: Adam
    at each rate of a grid, 3 epochs from the same start; the rates whose final loss is within
    1.5x of the best form the good band (here 1e-2 and 3e-2), and the range test's valley must
    land within a factor of 3 of the band's geometric centre."""
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1024, 20)).astype("float32")
    y = (x @ rng.normal(size=(20, 5))).argmax(axis=1)

    def network(rate):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((20,)),
                keras.layers.Dense(32, activation="relu"),
                keras.layers.Dense(5, activation="softmax"),
            ]
        )
        model.compile(keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy")
        return model

    grid = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]
    final = {}
    for rate in grid:
        fit = network(rate).fit(x, y, batch_size=32, epochs=3, verbose=0, shuffle=False)
        final[rate] = fit.history["loss"][-1]
    band = [rate for rate in grid if final[rate] <= 1.5 * min(final.values())]
    good = float(np.exp(np.mean(np.log(band))))
    model = network(1e-3)
    before = [w.copy() for w in model.get_weights()]
    curve = lr_find.sweep(model, x, y, batch_size=32, seed=0)
    assert good / 3 <= curve["suggestion"] <= good * 3, (curve["suggestion"], final)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # the model is as it was
    assert curve["rates"][0] == pytest.approx(lr_find.START)
    # the falling chain is steps 0-4: the suggestion is a third and a sixth of it in (step 1)
    assert lr_find.valley([1, 2, 3, 4, 5, 6, 7], [5, 4, 3, 2, 1, 2, 3]) == 2


def test_lr_auto_records_the_chosen_rates_and_plots_them(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=6, classes=range(3))
    out = tmp_path / "run"
    constant = {"schedule": "constant", "warmup": 0}  # each phase at the rate it found
    run = fine_tune(
        "mnist_convnet", data, out, head_epochs=1, epochs=1, learning_rate="auto",
        **constant, **QUICK,
    )  # fmt: skip
    found = run_dir.read_run(out)["lr_find"]
    assert set(found) == {"head", "phase 2"}
    head_rate = [row["learning_rate"] for row in run.history if row["phase"] == 1][0]
    body_rate = [row["learning_rate"] for row in run.history if row["phase"] == 2][0]
    assert head_rate == pytest.approx(found["head"]["suggestion"], rel=1e-5)
    assert body_rate == pytest.approx(found["phase 2"]["suggestion"], rel=1e-5)
    assert (out / run_dir.LR_FIND_FILE).stat().st_size > 10_000


def test_grey_images_given_to_an_imagenet_model_are_never_mirrored(tmp_path):
    """mirror='auto': digits as RGB photos (every pixel grey) get no flips and no mirrored
    test-time views; a folder of colour images does; mirror=True says so for grey photos."""
    from PIL import Image

    from zoo.evaluation.tta import view_kind

    grey = digits_folder(tmp_path / "grey", per_class=3, classes=range(2))
    colour = tmp_path / "colour"
    for file in grey.rglob("*.png"):
        target = colour / file.relative_to(grey)
        target.parent.mkdir(parents=True, exist_ok=True)
        pixels = np.asarray(Image.open(file).convert("RGB")).copy()
        pixels[..., 0] = 255 - pixels[..., 0]  # no longer grey
        Image.fromarray(pixels).save(target)
    options = {"weights": None, "image_size": 32, "head_epochs": 1, "epochs": 0, **QUICK}
    found = {}
    for name, data, mirror in (
        ("grey", grey, "auto"),
        ("colour", colour, "auto"),
        ("said", grey, True),
    ):
        fine_tune("mobilenet_v2_0.35_96", data, tmp_path / "runs" / name, mirror=mirror, **options)
        found[name] = (
            run_dir.read_run(tmp_path / "runs" / name)["mirror"],
            view_kind(zoo.get_spec(tmp_path / "runs" / name)),
        )
    assert found == {
        "grey": (False, "unmirrored"),
        "colour": (True, "imagenet"),
        "said": (True, "imagenet"),
    }
    flips = [
        type(layer).__name__
        for layer in augmenter("light", zoo.get_spec("mobilenet_v2_0.35_96"), 0, mirror=False)
        .generators[0]
        .layers
    ]
    assert "RandomFlip" not in flips
    with pytest.raises(zoo.InputError, match="mirror must be True, False or 'auto'"):
        fine_tune("mobilenet_v2_0.35_96", grey, tmp_path / "bad", mirror="sometimes", **options)
