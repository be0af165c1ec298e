"""zoo serve serves what zoo export wrote: an .onnx or .tflite file in its own runtime (answers
equal zoo.predict's, no TensorFlow in the server), named by its file or NAME=SOURCE; what it
cannot serve (no export report, a SavedModel without --trust, flags the artefact cannot honour,
two models under one name) refused in one line."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

from conftest import MNIST_PATH, SAMPLES, ZOO_COMMAND
from server_process import ServerProcess, multipart

pytestmark = pytest.mark.xdist_group("serve_artefacts")
MODEL = "mnist_convnet"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """mnist_convnet exported as .onnx and .tflite by zoo.export, in one folder."""
    import zoo

    folder = tmp_path_factory.mktemp("exports")
    for fmt, name in (("onnx", "convnet.onnx"), ("litert", "convnet.tflite")):
        zoo.export(MODEL, folder / name, format=fmt)
    return folder


@pytest.fixture(scope="module")
def digits():
    with np.load(MNIST_PATH) as data:
        return data["x_test"][:16], data["y_test"][:16]


@pytest.fixture(scope="module")
def server(exported, tmp_path_factory):
    env = {**os.environ, "KERAS_HOME": str(tmp_path_factory.mktemp("keras_home"))}
    env.pop("ZOO_RUNTIME", None)
    args = [str(exported / "convnet.onnx"), f"lite={exported / 'convnet.tflite'}"]
    with ServerProcess(args, env) as running:
        yield running


def infer(server, name: str, pixels: np.ndarray) -> np.ndarray:
    body = {"inputs": [{"name": "images", "shape": list(pixels.shape), "datatype": "UINT8",
                        "data": pixels.reshape(-1).tolist()}]}  # fmt: skip
    status, _, answer = server.request("POST", f"/v2/models/{name}/infer", body)
    assert status == 200, answer
    output = answer["outputs"][0]
    return np.asarray(output["data"], np.float32).reshape(output["shape"])


def test_each_artefact_answers_what_zoo_predict_answers_in_its_own_runtime(server, digits):
    import zoo

    expected = zoo.predict(MODEL, digits[0])
    for name, runtime in (("convnet", "onnx"), ("lite", "litert")):
        status, _, metadata = server.request("GET", f"/v2/models/{name}")
        assert status == 200 and metadata["platform"] == f"zoo_{runtime}"
        assert metadata["inputs"][0]["shape"] == [-1, 28, 28, 1]
        probabilities = infer(server, name, digits[0])
        np.testing.assert_allclose(probabilities, expected, atol=1e-5)
        assert (probabilities.argmax(1) == digits[1]).mean() >= 0.9


def test_an_uploaded_digit_gets_zoo_s_digit_recipe_and_the_export_s_labels(server):
    body, content_type = multipart([("digit_7.png", (SAMPLES / "digit_7.png").read_bytes())])
    status, _, answer = server.request(
        "POST", "/v1/models/lite:predict-image?top=2", body, {"Content-Type": content_type}
    )
    assert status == 200, answer
    assert answer["predictions"][0]["top"][0]["label"] == "7"


def test_a_server_of_onnx_and_tflite_artefacts_never_imports_tensorflow(server):
    maps = open(f"/proc/{server.process.pid}/maps").read()
    assert "libtensorflow" not in maps and "_pywrap_tensorflow" not in maps
    assert "onnxruntime" in maps


def test_grad_cam_of_an_artefact_is_a_400_naming_what_to_serve_instead(server):
    body, content_type = multipart([("digit_3.png", (SAMPLES / "digit_3.png").read_bytes())])
    status, _, answer = server.request(
        "POST", "/v1/models/convnet:explain", body, {"Content-Type": content_type}
    )
    assert status == 400 and "exported artefact" in answer["error"]
    assert "Traceback" not in json.dumps(answer)


def serve_fails(*args: str) -> str:
    """zoo serve ARGS, which must exit 2 with one line on stderr and no traceback."""
    done = subprocess.run([str(ZOO_COMMAND), "serve", *args, "--port", "0"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    return done.stderr


def test_what_zoo_serve_cannot_serve_is_refused_in_one_line(exported, tmp_path):
    stem = exported / "convnet"
    assert "two models would be served as convnet" in serve_fails(f"{stem}.onnx", f"{stem}.tflite")
    assert "runs on onnx; received --runtime tf" in serve_fails(f"{stem}.onnx", "--runtime", "tf")
    assert "--calibration apply" in serve_fails(f"{stem}.tflite", "--precision", "int8")
    assert "NAME=SOURCE" in serve_fails(f"bad name!={stem}.onnx")

    bare = tmp_path / "bare.onnx"
    bare.write_bytes((exported / "convnet.onnx").read_bytes())  # no report, no labels
    assert "not a finished `zoo export`" in serve_fails(str(bare))

    savedmodel = tmp_path / "graph"
    savedmodel.mkdir()
    (savedmodel / "saved_model.pbtxt").write_text("canary")  # TensorFlow loads this as one
    assert "only with --trust" in serve_fails(str(savedmodel))


def test_damaged_export_reports_and_labels_are_refused_before_anything_loads(exported, tmp_path):
    from zoo.errors import InputError
    from zoo.serving.artefacts import LARGEST_SIDECAR, artefact_spec

    artefact = tmp_path / "copy.onnx"
    artefact.write_bytes((exported / "convnet.onnx").read_bytes())
    report = json.loads((exported / "convnet.onnx.parity.json").read_text())
    labels = tmp_path / "copy.onnx.labels.txt"
    labels.write_text((exported / "convnet.onnx.labels.txt").read_text())
    sidecar = tmp_path / "copy.onnx.parity.json"
    cases = [
        ({**report, "base_model": "copy", "model": "copy"}, "names no registry model"),
        ({**report, "input_shape": [12000, 12000, 1]}, "is not an image shape"),
        ({**report, "input_shape": "28"}, "is not an image shape"),
        ([1, 2], "not a zoo export report"),
    ]
    for content, message in cases:
        sidecar.write_text(json.dumps(content))
        with pytest.raises(InputError, match=message):
            artefact_spec(artefact)
    sidecar.write_text("{" * 3)
    with pytest.raises(InputError, match="unreadable report"):
        artefact_spec(artefact)
    sidecar.write_text(json.dumps(report))
    assert artefact_spec(artefact).labels == "mnist"  # the same names: the model's own set
    labels.write_text("".join(f"digit {d}\n" for d in range(10)))
    assert artefact_spec(artefact).labels == tuple(f"digit {d}" for d in range(10))
    with open(labels, "wb") as handle:
        handle.truncate(LARGEST_SIDECAR + 1)
    with pytest.raises(InputError, match="not a file zoo export wrote"):
        artefact_spec(artefact)


def test_an_imagenet_export_keeps_its_wordnet_ids(tmp_path):
    from zoo import labels as labels_lib
    from zoo.serving.artefacts import artefact_spec

    artefact = tmp_path / "mobile.tflite"
    artefact.write_bytes(b"not opened to read the spec")
    report = {"model": "mobilenet_v1_0.25_128", "input_shape": [160, 160, 3]}  # --input-size
    (tmp_path / "mobile.tflite.parity.json").write_text(json.dumps(report))
    names = labels_lib.names("imagenet")
    (tmp_path / "mobile.tflite.labels.txt").write_text("".join(f"{n}\n" for n in names))
    spec = artefact_spec(artefact)
    assert spec.name == "mobile" and spec.labels == "imagenet" and spec.num_classes == 1000
    assert spec.input_shape == (160, 160, 3)


def test_a_mismatched_labels_file_stops_the_model_at_warm_up(exported, tmp_path):
    from zoo.errors import InputError
    from zoo.serving.served import ServedModel

    for suffix in (".onnx", ".onnx.parity.json"):
        (tmp_path / f"short{suffix}").write_bytes((exported / f"convnet{suffix}").read_bytes())
    (tmp_path / "short.onnx.labels.txt").write_text("zero\none\n")
    served = ServedModel.open(str(tmp_path / "short.onnx"))
    with pytest.raises(InputError, match="gives 10 outputs for 2 classes"):
        served.start(max_batch=4, timeout=0.001, max_queue=8)
