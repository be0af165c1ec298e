"""Golden self-checks: `zoo verify NAME` predicts a fixed input and names what drifted."""

from __future__ import annotations

import json
import shutil

import zoo.exporting.golden as golden

from conftest import IMAGENET_WEIGHTS, run_zoo


def test_the_shipped_records_hold_for_the_classic_models_and_mobilenet(tmp_path):
    (tmp_path / "models").mkdir()
    shutil.copy(IMAGENET_WEIGHTS / "mobilenet_2_5_128_tf.h5", tmp_path / "models")
    names = ["mnist_convnet", "perceptron", "prewitt", "mnist_rnn", "mobilenet_v1_0.25_128"]
    result = run_zoo("verify", *names, "--json", env={"KERAS_HOME": str(tmp_path)}, check=True)
    rows = json.loads(result.stdout)
    top = {row["model"]: row for row in rows if row["weights"] == "top"}
    assert {row["golden"] for row in top.values()} == {"ok"}, rows
    assert set(top) == set(names)
    headless = [row for row in rows if row["weights"] == "no top"]
    assert [(row["model"], row["status"]) for row in headless] == [
        ("mobilenet_v1_0.25_128", "missing")
    ]


def test_preprocessing_drift_is_named(monkeypatch):
    real = golden.reference_input

    def dimmed(spec):  # as if pixels now arrived in 0..1 where the model expects 0..255
        return real(spec) / 255.0

    monkeypatch.setattr(golden, "reference_input", dimmed)
    verdict = golden.check("mnist_convnet")
    assert verdict["golden"] == "drift" and "preprocessing or backend drift" in verdict["detail"]


def test_record_writes_the_users_file_and_other_weights_are_named(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    result = run_zoo("verify", "--record", "softmax_regression", env={"KERAS_HOME": str(tmp_path)})
    assert result.returncode == 0 and "recorded top-5" in result.stdout
    stored = json.loads((tmp_path / "models" / "zoo-golden.json").read_text())
    assert golden.check("softmax_regression")["golden"] == "ok"
    stored["softmax_regression"]["weights_sha256"] = "0" * 64
    (tmp_path / "models" / "zoo-golden.json").write_text(json.dumps(stored))
    verdict = golden.check("softmax_regression")
    assert (
        verdict["golden"] == "weights"
        and "differ from the recorded 000000000000" in verdict["detail"]
    )
    failing = run_zoo("verify", "softmax_regression", env={"KERAS_HOME": str(tmp_path)})
    assert failing.returncode == 1 and "weights" in failing.stdout


def test_an_exported_artefact_is_checked_against_the_record(tmp_path):
    import zoo

    good = zoo.export("mnist_convnet", tmp_path / "convnet.onnx", format="onnx").path
    result = run_zoo("verify", "mnist_convnet", "--artefact", good, check=True)
    assert " ok " in result.stdout
    other = zoo.export("modern_mlp", tmp_path / "mlp.onnx", format="onnx").path
    wrong = run_zoo("verify", "mnist_convnet", "--artefact", other)
    assert wrong.returncode == 1 and "drift" in wrong.stdout


def test_an_artefact_that_is_code_or_damaged_is_refused_with_its_reason(tmp_path):
    import zoo

    served = zoo.export("mnist_convnet", tmp_path / "served", format="savedmodel").path
    refused = run_zoo("verify", "mnist_convnet", "--artefact", served)
    assert refused.returncode == 2 and "A SavedModel is code as much as data" in refused.stderr
    trusted = run_zoo("verify", "--artefact", served, "--model", "mnist_convnet", "--trust")
    assert trusted.returncode == 0, trusted.stderr
    assert " ok " in trusted.stdout
    flat = zoo.export("mnist_convnet", tmp_path / "convnet.tflite", format="litert").path
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(flat.read_bytes()[:1000])
    damaged = run_zoo("verify", "mnist_convnet", "--artefact", truncated)
    assert damaged.returncode == 2 and "Traceback" not in damaged.stderr
    assert f"The litert artefact {truncated} does not load: ValueError" in damaged.stderr
