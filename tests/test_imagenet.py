"""ImageNet models with the real Keras MobileNet v1 (alpha 0.25) weights from ../shared:
right labels for real photos through the API and the CLI, from a path and from the cache,
and headless loading of the no-top files."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.labels import IMAGENET_INDEX, names, wordnet_ids

from conftest import SHARED, assert_clean_error, run_zoo

WEIGHTS = SHARED / "weights" / "imagenet"
TOP = WEIGHTS / "mobilenet_2_5_128_tf.h5"
NO_TOP_128 = WEIGHTS / "mobilenet_2_5_128_tf_no_top.h5"
NO_TOP_224 = WEIGHTS / "mobilenet_2_5_224_tf_no_top.h5"
ELEPHANT = SHARED / "data" / "photos" / "elephant.jpg"
COFFEE = SHARED / "data" / "photos" / "coffee.png"
MODEL = "mobilenet_v1_0.25_128"


def test_class_index_is_keras_own_file():
    assert (
        hashlib.md5(IMAGENET_INDEX.read_bytes()).hexdigest() == "c2c37ea517e94d9795004a39431a14cb"
    )
    assert names("imagenet")[386] == "African_elephant"
    assert wordnet_ids("imagenet")[386] == "n02504458"
    assert len(set(wordnet_ids("imagenet"))) == 1000


@pytest.fixture(scope="module")
def mobilenet():
    return zoo.load(MODEL, weights=TOP)


def test_api_predicts_elephant_and_espresso(mobilenet):
    probabilities = zoo.predict(mobilenet, [ELEPHANT, COFFEE])
    labels = names("imagenet")
    assert labels[probabilities[0].argmax()] in ("African_elephant", "tusker")
    assert labels[probabilities[1].argmax()] == "espresso"


def test_raw_pixel_arrays_give_the_same_answer(mobilenet):
    pixels = np.asarray(Image.open(ELEPHANT).convert("RGB").resize((128, 128)), np.float32)
    probabilities = zoo.predict(mobilenet, pixels[None])
    assert names("imagenet")[probabilities[0].argmax()] in ("African_elephant", "tusker")
    with pytest.raises(zoo.InputError, match=r"\(N, 128, 128, 3\)"):
        zoo.predict(mobilenet, pixels[None, :64])


def test_cli_with_weights_path_gives_labels_and_wnids():
    result = run_zoo(
        "predict",
        ELEPHANT,
        COFFEE,
        "--model",
        MODEL,
        "--weights",
        TOP,
        "--top",
        "3",
        "--json",
        check=True,
    )
    elephant, coffee = json.loads(result.stdout)
    assert elephant["top"][0]["label"] in ("African_elephant", "tusker")
    assert elephant["top"][0]["wnid"] in ("n02504458", "n01871265")
    assert coffee["top"][0]["label"] == "espresso" and coffee["top"][0]["wnid"] == "n07920052"
    assert [entry["rank"] for entry in coffee["top"]] == [1, 2, 3]


def test_cli_from_the_cache_folder_offline(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(TOP, models / TOP.name)
    env = {"KERAS_HOME": str(tmp_path), "ZOO_OFFLINE": "1"}
    result = run_zoo("predict", ELEPHANT, COFFEE, "--model", MODEL, "--json", env=env, check=True)
    elephant, coffee = json.loads(result.stdout)
    assert elephant["top"][0]["label"] in ("African_elephant", "tusker")
    assert coffee["top"][0]["label"] == "espresso"
    center = run_zoo(
        "predict", COFFEE, "--model", MODEL, "--crop", "center", "--json", env=env, check=True
    )
    assert json.loads(center.stdout)[0]["top"][0]["label"] == "espresso"


def test_cli_offline_missing_weights_lists_url_and_path(tmp_path):
    result = run_zoo(
        "predict", ELEPHANT, "--model", MODEL, "--offline", env={"KERAS_HOME": str(tmp_path)}
    )
    assert_clean_error(result, zoo.get_spec(MODEL).weights.url, str(tmp_path / "models" / TOP.name))


def test_tampered_pinned_file_is_refused_from_a_path(tmp_path):
    tampered = tmp_path / TOP.name
    data = bytearray(TOP.read_bytes())
    data[5000] ^= 0xFF
    tampered.write_bytes(bytes(data))
    with pytest.raises(zoo.WeightsHashError, match=zoo.get_spec(MODEL).weights.sha256):
        zoo.load(MODEL, weights=tampered)
    assert tampered.exists()  # a user's own file is not moved


@pytest.mark.parametrize(
    "model, path, size",
    [
        (MODEL, NO_TOP_128, 128),
        ("mobilenet_v1_0.25_224", NO_TOP_224, 224),
        ("mobilenet_v1_0.25_224", NO_TOP_224, 160),
    ],
)
def test_no_top_files_load_into_headless_models(model, path, size):
    backbone = zoo.load(
        model, weights=path, include_top=False, input_shape=(size, size, 3), pooling="avg"
    )
    features = backbone.predict(np.zeros((2, size, size, 3), np.float32), verbose=0)
    assert features.shape == (2, 256)
    random = zoo.load(
        model, weights=None, include_top=False, input_shape=(size, size, 3), pooling="avg"
    )
    pixels = np.random.default_rng(0).uniform(0, 255, (1, size, size, 3)).astype(np.float32)
    assert not np.allclose(backbone.predict(pixels, verbose=0), random.predict(pixels, verbose=0))


def test_new_head_on_pretrained_backbone():
    model = zoo.load(MODEL, weights=NO_TOP_128, num_classes=5)
    assert model.output_shape == (None, 5)
    assert model.predict(np.zeros((1, 128, 128, 3), np.float32), verbose=0).sum() == pytest.approx(
        1
    )


def test_wrong_options_are_clear_errors():
    with pytest.raises(zoo.InputError, match="include_top=False"):
        zoo.load(MODEL, weights=None, input_shape=(96, 96, 3))
    with pytest.raises(zoo.InputError, match="num_classes must be a positive integer"):
        zoo.load(MODEL, weights=None, num_classes=0)
    with pytest.raises(zoo.InputError, match="ImageNet models"):
        zoo.load("mnist_convnet", include_top=False)
    with pytest.raises(zoo.WeightsError, match="no ImageNet weights"):
        zoo.load("mnist_convnet", weights="imagenet")
