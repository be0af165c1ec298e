"""Feature stages and `zoo features`: stage shapes, class-folder labels, HDF5 layout, bad files
and resuming (kills at every write point: test_feature_integrity.py)."""

from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

import zoo
from zoo.models import stage_names

from conftest import SAMPLES, SHARED, assert_clean_error, make_digit_folders, run_zoo

CLASSIC_WITH_STAGES = [n for n in zoo.list_models(dataset="mnist")]


@pytest.mark.parametrize("name", CLASSIC_WITH_STAGES)
def test_classic_stage_shapes_match_the_spec(name):
    spec = zoo.get_spec(name)
    model = zoo.load(name, features=stage_names(spec))
    outputs = model.predict(np.zeros((2, 28, 28), np.uint8), verbose=0)
    assert set(outputs) == set(stage_names(spec))
    for stage in spec.feature_stages:
        shape = outputs[stage.name].shape
        assert shape[0] == 2 and shape[-1] == stage.channels, (stage, shape)
        if stage.stride:
            assert shape[1] == 28 // stage.stride


def test_imagenet_stages_at_default_size():
    spec = zoo.get_spec("mobilenet_v1_0.25_128")
    model = zoo.load(spec.name, weights=None, features=["stem", "stage3", "pooled", "logits"])
    outputs = model.predict(np.zeros((1, 128, 128, 3), np.float32), verbose=0)
    assert outputs["stem"].shape == (1, 64, 64, 16)
    assert outputs["stage3"].shape == (1, 16, 16, 64)
    assert outputs["pooled"].shape == (1, 256)
    assert outputs["logits"].shape == (1, 1000)


def test_unknown_stage_is_a_clear_error():
    with pytest.raises(zoo.InputError, match="no feature stage 'stage9'.*valid: stage1"):
        zoo.load("mnist_convnet", features=["stage9"])


@pytest.fixture
def class_folder(tmp_path):
    root = make_digit_folders(tmp_path / "digits", copies=3)
    (root / "class_7" / "broken.png").write_text("not a png")
    return root


def test_extract_to_memory_with_labels_and_errors(class_folder):
    result = zoo.extract_features("mnist_convnet", class_folder, stage="pooled")
    assert result.features.shape == (6, 625)
    assert result.label_names == ["class_1", "class_7"]
    assert result.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert [path.endswith("broken.png") for path, _ in result.errors] == [True]
    logits = zoo.extract_features("mnist_convnet", class_folder, stage="logits")
    assert logits.features.argmax(axis=1).tolist() == [1, 1, 1, 7, 7, 7]


def test_h5_layout_and_resume(class_folder, tmp_path):
    out = tmp_path / "feats.h5"
    first = zoo.extract_features(
        "mnist_convnet", sorted(class_folder.rglob("0.png")), out=out, dtype="float16"
    )
    assert len(first.paths) == 2
    with h5py.File(out) as handle:
        assert handle["features"].dtype == np.float16
        assert handle.attrs["model"] == "mnist_convnet" and handle.attrs["stage"] == "pooled"
        assert handle.attrs["weights_sha256"] == zoo.get_spec("mnist_convnet").weights.sha256
        assert {"preprocessing", "runtime", "zoo_version", "date"} <= set(handle.attrs)
    again = zoo.extract_features(
        "mnist_convnet", sorted(class_folder.rglob("*.png")), out=out, dtype="float16"
    )
    assert len(again.paths) == 6 and len(set(again.paths)) == 6
    assert [os.path.basename(p) for p, _ in again.errors] == ["broken.png"]
    with pytest.raises(zoo.InputError, match="holds features of model 'mnist_convnet'"):
        zoo.extract_features("mlp_625", class_folder, out=out)


def test_cli_features_on_real_photos(tmp_path):
    out = tmp_path / "photos.npy"
    result = run_zoo(
        "features",
        SHARED / "data" / "photos",
        "--model",
        "mobilenet_v1_0.25_128",
        "--weights",
        SHARED / "weights" / "imagenet" / "mobilenet_2_5_128_tf_no_top.h5",
        "--out",
        out,
        check=True,
    )
    assert "2 images -> pooled features (256)" in result.stdout
    assert np.load(out).shape == (2, 256)
    assert_clean_error(
        run_zoo("features", tmp_path / "nothing", "--model", "mnist_convnet"),
        "no such file or folder",
    )
    (tmp_path / "empty").mkdir()
    assert_clean_error(
        run_zoo("features", tmp_path / "empty", "--model", "mnist_convnet"), "No image files"
    )
    assert_clean_error(
        run_zoo("features", SAMPLES, "--model", "mnist_convnet", "--stage", "stage7"),
        "no feature stage",
    )


def test_stages_at_a_small_input_are_found_by_stride():
    """At 75 px Inception's unpadded convolutions trim every map (stride 16 is 3x3, not 5x5):
    stages come from the layers' strides, not from rounding output sizes."""
    model = zoo.load(
        "inception_v3",
        weights=None,
        input_shape=(75, 75, 3),
        features=["stage4", "stage5", "pooled"],
    )
    shapes = {name: tuple(output.shape) for name, output in model.output.items()}
    assert shapes == {
        "stage4": (None, 3, 3, 192),
        "stage5": (None, 1, 1, 2048),
        "pooled": (None, 2048),
    }
