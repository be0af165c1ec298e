"""--precision int8: a calibrated int8 LiteRT model, checked against float32 before first use,
cached, refused (and remembered as refused) when it breaks the parity rule."""

from __future__ import annotations

import json
import shutil
import warnings

import h5py
import numpy as np
import pytest

import zoo
import zoo.engines.int8 as quantized
from zoo.engines.conversion import ConversionError
from zoo.engines.runtimes import artefact_dir
from zoo.errors import InputError, ZooWarning

from conftest import IMAGENET_WEIGHTS, SAMPLES, run_zoo

PHOTOS = quantized.DATA / "photos"


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras"


def int8_files():
    return sorted(artefact_dir().glob("*-int8-*.tflite"))


def test_int8_predictions_agree_with_float32_and_are_made_once(keras_home, monkeypatch):
    digits = sorted(SAMPLES.glob("*.png"))
    float32 = zoo.predict("mnist_convnet", digits)
    int8 = zoo.predict("mnist_convnet", digits, precision="int8")
    assert (int8.argmax(1) == float32.argmax(1)).all()
    assert 0 < np.max(np.abs(int8 - float32)) < 0.05  # quantized, and close
    (made,) = int8_files()
    report = (made.parent / f"{made.name}.json").read_text()
    assert '"passed": true' in report and "digit_1.png" in report  # checked on the odd half

    def no_second_conversion(*args, **kwargs):
        raise AssertionError("the cached int8 model was converted again")

    monkeypatch.setattr(quantized, "_make", no_second_conversion)
    again = zoo.predict("mnist_convnet", digits, precision="int8")
    np.testing.assert_array_equal(again, int8)


def test_other_calibration_images_make_another_model(keras_home, tmp_path):
    zoo.predict("mnist_convnet", SAMPLES / "digit_3.png", precision="int8")
    mine = tmp_path / "calibration"
    mine.mkdir()
    for path in sorted(SAMPLES.glob("*.png"))[:4]:
        shutil.copy(path, mine)
    zoo.predict("mnist_convnet", SAMPLES / "digit_3.png", precision="int8", calibration=mine)
    assert len(int8_files()) == 2


def test_an_int8_model_that_breaks_parity_is_refused_kept_nowhere_and_remembered(
    keras_home, monkeypatch
):
    models = keras_home / "models"
    models.mkdir(parents=True)
    shutil.copy(IMAGENET_WEIGHTS / "mobilenet_2_5_128_tf.h5", models)
    photos = sorted(PHOTOS.glob("*.jpg"))
    # Measured: MobileNet 0.25 @128 agrees with float32 on top-1 for 4 of zoo's 5 parity photos.
    with pytest.raises(ConversionError, match=r"parity rule top1_agreement >= 0.95.*not kept"):
        zoo.predict("mobilenet_v1_0.25_128", photos[:2], precision="int8")
    assert int8_files() == []
    (failed,) = artefact_dir().glob("*.failed.json")

    def no_second_conversion(*args, **kwargs):
        raise AssertionError("a refused int8 model was converted again")

    monkeypatch.setattr(quantized, "_make", no_second_conversion)
    with pytest.raises(ConversionError, match="parity rule"):
        zoo.predict("mobilenet_v1_0.25_128", photos[:2], precision="int8")


def test_random_weights_skip_the_check_with_a_warning(keras_home):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = zoo.extract_features(
            "mnist_convnet", SAMPLES, weights=None, precision="int8", stage="pooled"
        )
    assert result.runtime == "litert (int8)" and result.features.shape == (10, 625)
    assert any(
        issubclass(w.category, ZooWarning) and "not checked" in str(w.message) for w in caught
    )
    (made,) = int8_files()
    assert '"checked": false' in (made.parent / f"{made.name}.json").read_text()


def test_a_features_file_never_mixes_precisions(keras_home, tmp_path, monkeypatch):
    out = tmp_path / "features.h5"
    zoo.extract_features("mnist_convnet", SAMPLES, out=out, precision="int8")
    with h5py.File(out) as handle:
        assert handle.attrs["precision"] == "int8" and handle.attrs["runtime"] == "litert (int8)"

    def no_model(*args, **kwargs):
        raise AssertionError("a model was built before the file was checked")

    monkeypatch.setattr(zoo.inference.features, "features_runner", no_model)
    with pytest.raises(InputError, match="precision: the file has 'int8', this run 'float32'"):
        zoo.extract_features("mnist_convnet", SAMPLES, out=out)


def test_bad_precision_requests_are_clear_errors(keras_home):
    with pytest.raises(InputError, match="Unknown precision 'int4'; valid: float32, int8"):
        zoo.predict("mnist_convnet", SAMPLES / "digit_1.png", precision="int4")
    with pytest.raises(InputError, match="int8 runs on LiteRT; received runtime 'onnx'"):
        zoo.extract_features("mnist_convnet", SAMPLES, runtime="onnx", precision="int8")
    with pytest.raises(InputError, match="at least two images"):
        zoo.predict(
            "mnist_convnet", SAMPLES / "digit_1.png", precision="int8",
            calibration=SAMPLES / "digit_2.png",
        )  # fmt: skip


def test_cli_precision_int8(keras_home, tmp_path):
    env = {"KERAS_HOME": str(keras_home), "ZOO_RUNTIME": "auto"}
    result = run_zoo(
        "predict", SAMPLES, "--model", "mnist_convnet", "--precision", "int8", "--top", "1",
        "--json", env=env, check=True,
    )  # fmt: skip
    assert "making the int8 LiteRT model of mnist_convnet" in result.stderr
    tops = [row["top"][0]["label"] for row in json.loads(result.stdout)]
    assert tops == [str(d) for d in range(10)]
    refused = run_zoo(
        "features", SAMPLES, "--model", "mnist_convnet", "--precision", "int8", "--runtime",
        "tf", env=env,
    )  # fmt: skip
    assert refused.returncode == 2 and "int8 runs on LiteRT" in refused.stderr
