"""ONNX Runtime and LiteRT: exports checked against TensorFlow, cached, picked by `auto`, and a
warm prediction that never imports TensorFlow."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import zoo
from zoo import runtimes
from zoo.prediction import predict_files

from conftest import ROOT, SAMPLES, SHARED

TOP = SHARED / "weights" / "imagenet" / "mobilenet_2_5_128_tf.h5"
PHOTOS = [SHARED / "data" / "photos" / "elephant.jpg", SHARED / "data" / "photos" / "coffee.png"]
MODEL = "mobilenet_v1_0.25_128"


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras" / "models" / "zoo-runtimes"


def test_fast_runtimes_are_installed_for_ci():
    assert set(runtimes.installed()) == {"tf", "onnx", "litert"}


@pytest.mark.parametrize("runtime", ["onnx", "litert"])
def test_exports_agree_with_tensorflow_and_are_cached(runtime, private_cache):
    reference = predict_files(MODEL, PHOTOS, weights=TOP, top=3, runtime="tf")
    results = predict_files(MODEL, PHOTOS, weights=TOP, top=3, runtime=runtime)
    for ours, theirs in zip(results, reference):
        assert [e["index"] for e in ours["top"]] == [e["index"] for e in theirs["top"]]
        np.testing.assert_allclose([e["score"] for e in ours["top"]],
                                   [e["score"] for e in theirs["top"]], atol=1e-4)
    artefacts = sorted(private_cache.glob(f"{MODEL}-predictions-*{runtimes.SUFFIX[runtime]}"))
    assert len(artefacts) == 1
    report = json.loads(artefacts[0].with_name(artefacts[0].name + ".json").read_text())
    assert report["top1_agreement"] == 1.0 and report["max_abs_difference"] < 1e-3
    stamp = artefacts[0].stat().st_mtime_ns
    predict_files(MODEL, PHOTOS, weights=TOP, runtime=runtime)
    assert artefacts[0].stat().st_mtime_ns == stamp  # reused, not exported again


def test_disagreeing_export_is_refused(private_cache, monkeypatch):
    monkeypatch.setattr(runtimes, "TOLERANCE", -1.0)
    with pytest.raises(runtimes.ConversionError, match="disagrees with TensorFlow"):
        predict_files(MODEL, PHOTOS, weights=TOP, runtime="onnx")
    assert list(private_cache.glob("*.onnx")) == []


def test_warm_predict_never_imports_tensorflow(private_cache):
    predict_files(MODEL, PHOTOS[:1], weights=TOP, runtime="litert")  # export once
    probe = (
        "import sys\nfrom zoo.cli import main\n"
        f"code = main(['predict', {str(PHOTOS[0])!r}, '--model', {MODEL!r}, '--weights', "
        f"{str(TOP)!r}, '--runtime', 'litert', '--json'])\n"
        "assert code == 0\nassert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, env={**__import__("os").environ})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["top"][0]["label"] in ("African_elephant", "tusker")


def test_auto_measures_once_and_remembers(private_cache):
    runner = runtimes.get_runner(zoo.get_spec("mnist_convnet"), runtime="auto",
                                 model_factory=lambda: zoo.load("mnist_convnet"))
    choices = json.loads((private_cache / "choices.json").read_text())
    assert list(choices.values()) == [runner.name] and runner.name in runtimes.installed()
    again = runtimes.get_runner(zoo.get_spec("mnist_convnet"), runtime="auto",
                                model_factory=lambda: zoo.load("mnist_convnet"))
    assert again.name == runner.name
    assert json.loads((private_cache / "choices.json").read_text()) == choices


def test_features_on_onnx_match_tensorflow():
    tf_result = zoo.extract_features("mnist_convnet", SAMPLES, stage="pooled", runtime="tf")
    onnx_result = zoo.extract_features("mnist_convnet", SAMPLES, stage="pooled", runtime="onnx")
    assert onnx_result.paths == tf_result.paths
    np.testing.assert_allclose(onnx_result.features, tf_result.features, atol=1e-3)


def test_unknown_runtime_is_a_clear_error():
    with pytest.raises(zoo.InputError, match="Unknown runtime 'tpu'"):
        runtimes.get_runner(zoo.get_spec("mnist_convnet"), runtime="tpu")
