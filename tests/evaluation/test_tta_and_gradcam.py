"""Test-time augmentation (deterministic views, never a mirrored digit, the mean over views in
zoo.predict / zoo predict) and Grad-CAM (its maximum where the class is decided, with a real
ImageNet model; every family in make test-all)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.evaluation import tta
from zoo.evaluation.gradcam import last_conv_stage, overlay

from conftest import IMAGENET_WEIGHTS, ROOT, run_zoo

SAMPLES = sorted((ROOT / "zoo" / "data" / "samples").glob("*.png"))


def test_views_are_deterministic_and_digits_are_never_mirrored():
    rng = np.random.default_rng(0)
    batch = rng.uniform(0, 255, size=(3, 28, 28, 1)).astype("float32")
    first, again = tta.views(batch, "mnist", 6), tta.views(batch, "mnist", 6)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first[0], batch)  # the image itself comes first
    for view in first[1:]:
        assert not np.array_equal(view, batch[:, :, ::-1])
    np.testing.assert_array_equal(first[1][:, :, 1:], batch[:, :, :-1])  # one pixel right
    photos = rng.uniform(0, 255, size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_array_equal(tta.views(photos, "imagenet", 2)[1], photos[:, :, ::-1])


def test_predict_with_tta_is_the_mean_over_the_views(mnist):
    x = mnist[2][:16]
    model = zoo.load("mnist_convnet")
    views = tta.views(x[..., None], "mnist", 4)
    expected = np.mean([model.predict(v, verbose=0) for v in views], axis=0)
    np.testing.assert_allclose(zoo.predict("mnist_convnet", x, tta=4), expected, atol=1e-6)
    np.testing.assert_allclose(
        zoo.predict("mnist_convnet", x, tta=0), model.predict(x[..., None], verbose=0), atol=1e-6
    )
    with pytest.raises(zoo.InputError, match="at most 6 views"):
        zoo.predict("mnist_convnet", x, tta=7)
    with pytest.raises(zoo.InputError, match="tta needs a model with image input"):
        zoo.predict("perceptron", np.zeros((1, 2)), tta=2)


def test_zoo_predict_tta_on_files_matches_the_library():
    shown = json.loads(
        run_zoo(
            "predict", *SAMPLES[:3], "--model", "mnist_convnet", "--tta", "3", "--json", check=True
        ).stdout
    )
    from zoo.inference.prediction import predict_files

    same = predict_files("mnist_convnet", [str(p) for p in SAMPLES[:3]], tta=3)
    for cli, library in zip(shown, same, strict=True):
        assert cli["top"][0]["label"] == library["top"][0]["label"]
        assert cli["top"][0]["score"] == pytest.approx(library["top"][0]["score"], abs=1e-6)


PHOTOS = ROOT / "zoo" / "data" / "photos"


@pytest.mark.parametrize("background", ["grass", "gravel", "brick"])
def test_grad_cam_peaks_in_the_region_that_decides_the_class(background, tmp_path):
    """The shipped cat photo, shrunk to a quarter, pasted into each corner of a texture photo
    in turn: the real MobileNet's Grad-CAM for 'Egyptian_cat' peaks in that corner."""
    weights = IMAGENET_WEIGHTS / "mobilenet_2_5_128_tf.h5"
    cat = Image.open(PHOTOS / "cat.jpg").convert("RGB").resize((64, 64))
    texture = Image.open(PHOTOS / f"{background}.jpg").convert("RGB").resize((128, 128))
    for row, column in ((0, 0), (0, 64), (64, 0), (64, 64)):
        picture = texture.copy()
        picture.paste(cat, (column, row))
        picture.save(tmp_path / "pasted.png")
        result = zoo.explain(
            tmp_path / "pasted.png",
            "mobilenet_v1_0.25_128",
            weights=weights,
            class_index="Egyptian_cat",
            out=tmp_path / "heat.png",
        )
        peak_row, peak_column = result["peak"]
        assert row <= peak_row < row + 64 and column <= peak_column < column + 64, (
            (row, column),
            result["peak"],
        )
        assert result["heatmap"].shape == (128, 128) and result["heatmap"].max() == 1.0
    written = np.asarray(Image.open(tmp_path / "heat.png"))
    assert written.shape == (128, 256, 3)  # the photo and its heat map side by side


def test_grad_cam_on_real_imagenet_weights_and_the_cli(tmp_path):
    weights = IMAGENET_WEIGHTS / "mobilenet_2_5_128_tf.h5"
    cat = PHOTOS / "cat.jpg"
    result = zoo.explain(cat, "mobilenet_v1_0.25_128", weights=weights)
    assert result["stage"] == last_conv_stage(zoo.get_spec("mobilenet_v1_0.25_128"))
    assert result["heatmap"].shape == (128, 128)
    assert result["label"] in {"tabby", "tiger_cat", "Egyptian_cat"}
    shown = run_zoo(
        "explain", cat, "--model", "mobilenet_v1_0.25_128", "--weights", weights,
        "--class", "tabby", "--out", tmp_path / "heat.png", "--json", check=True,
    )  # fmt: skip
    answer = json.loads(shown.stdout)
    assert answer["label"] == "tabby" and (tmp_path / "heat.png").stat().st_size > 5_000
    with pytest.raises(zoo.InputError, match="no convolutional feature map"):
        zoo.explain(SAMPLES[0], "modern_mlp")
    with pytest.raises(zoo.InputError, match="has no class 'dog'"):
        zoo.explain(SAMPLES[0], "mnist_convnet", class_index="dog")


@pytest.mark.slow  # make test-all: one model of every ImageNet family, random weights
@pytest.mark.parametrize(
    "name",
    [
        "mobilenet_v2_0.35_96",
        "mobilenet_v3_small",
        "efficientnet_b0",
        "efficientnet_v2_b0",
        "densenet121",
        "resnet50",
        "vgg16",
        "inception_v3",
        "xception",
        "nasnet_mobile",
        "convnext_tiny",
    ],
)
def test_grad_cam_runs_on_every_imagenet_family(name):
    cat = PHOTOS / "cat.jpg"
    result = zoo.explain(cat, name, weights=None)
    spec = zoo.get_spec(name)
    assert result["heatmap"].shape == tuple(spec.input_shape[:2])
    assert np.isfinite(result["heatmap"]).all()


def test_overlay_keeps_the_image_where_there_is_no_heat():
    image = np.full((4, 4, 1), 200.0)
    plain = overlay(image, np.zeros((4, 4)), alpha=0.0)
    assert plain.shape == (4, 4, 3) and (plain == 200).all()
