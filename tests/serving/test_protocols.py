"""zoo serve speaks TF Serving's REST API and the Open Inference Protocol to the letter: every
endpoint of both with real requests to a real server process, answers equal zoo.predict's,
batching observed, and each kind of bad input answered in the protocol's error shape."""

from __future__ import annotations

import base64
import io
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from conftest import MNIST_PATH, SAMPLES
from server_process import ServerProcess, multipart

pytestmark = pytest.mark.xdist_group("serve_protocols")
MODEL = "mnist_convnet"


@pytest.fixture(scope="module")
def digits():
    with np.load(MNIST_PATH) as data:
        return data["x_test"][:24], data["y_test"][:24]


@pytest.fixture(scope="module")
def expected(digits):
    """zoo.predict's probabilities for the digits, in this process."""
    import zoo

    return zoo.predict(MODEL, digits[0])


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("keras_home")


@pytest.fixture(scope="module")
def server(cache):
    env = {**os.environ, "KERAS_HOME": str(cache), "ZOO_RUNTIME": "onnx"}
    args = [MODEL, "--max-batch", "64", "--batch-timeout-ms", "30"]
    with ServerProcess(args, env) as running:
        yield running


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(out, format="PNG")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_v2_health_metadata_and_readiness(server):
    assert server.request("GET", "/v2/health/live")[:1] == (200,)
    assert server.request("GET", "/v2/health/ready")[0] == 200
    status, _, meta = server.request("GET", "/v2")
    assert status == 200 and meta["name"] == "zoo" and "classification" in meta["extensions"]
    for path in (f"/v2/models/{MODEL}", f"/v2/models/{MODEL}/versions/1"):
        status, _, model = server.request("GET", path)
        assert status == 200 and model["name"] == MODEL and model["versions"] == ["1"]
        assert {"name": "images", "datatype": "UINT8", "shape": [-1, 28, 28, 1]} in model["inputs"]
        assert model["outputs"] == [
            {"name": "probabilities", "datatype": "FP32", "shape": [-1, 10]}
        ]
        assert server.request("GET", f"{path}/ready")[0] == 200
    assert server.request("GET", f"/v2/models/{MODEL}/versions/2")[0] == 404
    status, _, answer = server.request("GET", "/v2/models/resnet50/ready")
    assert status == 404 and "not served here" in answer["error"]


def test_v2_infer_pixels_flat_and_nested_uint8_and_fp32(server, digits, expected):
    x, _ = digits
    for datatype, data in (("UINT8", x.reshape(-1).tolist()), ("FP32", x.astype(float).tolist())):
        body = {
            "id": "req-7",
            "inputs": [{"name": "images", "shape": [len(x), 28, 28, 1], "datatype": datatype,
                        "data": data}],
        }  # fmt: skip
        status, _, answer = server.request("POST", f"/v2/models/{MODEL}/infer", body)
        assert status == 200, answer
        assert answer["model_name"] == MODEL and answer["id"] == "req-7"
        (output,) = answer["outputs"]
        assert output["name"] == "probabilities" and output["datatype"] == "FP32"
        assert output["shape"] == [len(x), 10]
        got = np.array(output["data"]).reshape(output["shape"])
        np.testing.assert_allclose(got, expected, atol=1e-4)


def test_v2_bytes_and_triton_classification(server, digits, expected):
    x, _ = digits
    body = {
        "inputs": [{"name": "image_bytes", "shape": [3], "datatype": "BYTES",
                    "data": [b64(png(image)) for image in x[:3]]}],
        "outputs": [{"name": "probabilities", "parameters": {"classification": 2}}],
    }  # fmt: skip
    status, _, answer = server.request("POST", f"/v2/models/{MODEL}/versions/1/infer", body)
    assert status == 200, answer
    (output,) = answer["outputs"]
    assert output["datatype"] == "BYTES" and output["shape"] == [3, 2]
    for row, probabilities in zip(
        np.array(output["data"]).reshape(3, 2), expected[:3], strict=True
    ):
        score, index, label = row[0].split(":")
        assert int(index) == probabilities.argmax() and label == str(index)
        assert abs(float(score) - probabilities.max()) < 1e-4
        assert float(row[1].split(":")[0]) <= float(score)


def test_v1_status_metadata_predict_and_classify(server, digits, expected):
    x, _ = digits
    status, _, answer = server.request("GET", f"/v1/models/{MODEL}")
    assert status == 200
    assert answer["model_version_status"][0] == {
        "version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}
    }  # fmt: skip
    status, _, meta = server.request("GET", f"/v1/models/{MODEL}/versions/1/metadata")
    signature = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert status == 200 and set(signature["inputs"]) == {"images", "image_bytes"}
    row = {
        "signature_name": "serving_default",
        "instances": [x[0].tolist(), {"b64": b64(png(x[1]))}, {"images": x[2].tolist()}],
    }
    status, _, answer = server.request("POST", f"/v1/models/{MODEL}:predict", row)
    assert status == 200, answer
    np.testing.assert_allclose(np.array(answer["predictions"]), expected[:3], atol=1e-4)
    columnar = {"inputs": {"images": x[:4].tolist()}}
    status, _, answer = server.request("POST", f"/v1/models/{MODEL}/versions/1:predict", columnar)
    assert status == 200
    np.testing.assert_allclose(np.array(answer["outputs"]), expected[:4], atol=1e-4)
    classify = {"examples": [{"image": {"b64": b64(png(image))}} for image in x[:2]]}
    status, _, answer = server.request("POST", f"/v1/models/{MODEL}:classify?top=3", classify)
    assert status == 200 and len(answer["result"]) == 2
    for pairs, probabilities in zip(answer["result"], expected[:2], strict=True):
        assert len(pairs) == 3 and pairs[0][0] == str(probabilities.argmax())
    status, _, answer = server.request("POST", f"/v1/models/{MODEL}:predict",
                                       {"signature_name": "other", "instances": []})  # fmt: skip
    assert status == 400 and "other" in answer["error"]


def test_predict_image_upload_equals_zoo_predict(server):
    import zoo

    files = [(f"digit_{d}.png", (SAMPLES / f"digit_{d}.png").read_bytes()) for d in (3, 7)]
    body, content_type = multipart(files)
    status, _, answer = server.request(
        "POST", f"/v1/models/{MODEL}:predict-image?top=2", body, {"Content-Type": content_type}
    )
    assert status == 200, answer
    expected = zoo.predict(MODEL, [str(SAMPLES / name) for name, _ in files])
    for entry, probabilities, (name, _) in zip(answer["predictions"], expected, files, strict=True):
        assert entry["file"] == name and len(entry["top"]) == 2
        assert entry["top"][0]["index"] == probabilities.argmax()
        assert abs(entry["top"][0]["score"] - probabilities.max()) < 1e-4
    raw = (SAMPLES / "digit_7.png").read_bytes()  # a bare body: one image
    status, _, answer = server.request("POST", f"/v1/models/{MODEL}:predict-image", raw,
                                       {"Content-Type": "image/png"})  # fmt: skip
    assert status == 200 and answer["predictions"][0]["top"][0]["label"] == "7"


def test_concurrent_requests_are_batched_and_each_gets_its_own_answer(server, digits, expected):
    x, _ = digits

    def engine_calls() -> float:
        text = server.request("GET", "/metrics")[2].decode()
        found = re.search(r'zoo_batch_size_count\{model="mnist_convnet"\} (\S+)', text)
        return float(found.group(1))

    before = engine_calls()

    def one(index: int):
        body = {"instances": [{"b64": b64(png(x[index]))}]}
        return index, server.request("POST", f"/v1/models/{MODEL}:predict", body)

    with ThreadPoolExecutor(len(x)) as pool:
        answers = list(pool.map(one, range(len(x))))
    for index, (status, _, answer) in answers:
        assert status == 200
        np.testing.assert_allclose(answer["predictions"][0], expected[index], atol=1e-4)
    calls = engine_calls() - before
    assert 1 <= calls < len(x), f"{len(x)} concurrent requests took {calls} engine calls"


def test_one_bad_image_among_good_ones_is_named_and_the_others_answered(server, digits, expected):
    x, _ = digits
    good, truncated = png(x[0]), png(x[1])[:60]
    bomb = io.BytesIO()
    Image.new("L", (30000, 30000)).save(bomb, format="PNG")  # 900 megapixels, a few hundred KB
    cases = [good, truncated, b"", b"not an image at all", bomb.getvalue(), png(x[2])]
    body = {"instances": [{"b64": b64(data)} for data in cases]}
    status, _, answer = server.request("POST", f"/v1/models/{MODEL}:predict", body)
    assert status == 400
    assert "4 of 6 instances failed" in answer["error"]
    for index in (1, 2, 3, 4):
        assert f"instance {index}" in answer["error"]
    assert "too many pixels" in answer["error"] and "empty" in answer["error"]
    predictions = answer["predictions"]
    assert [p is None for p in predictions] == [False, True, True, True, True, False]
    np.testing.assert_allclose(predictions[0], expected[0], atol=1e-4)
    np.testing.assert_allclose(predictions[5], expected[2], atol=1e-4)
    v2 = {"inputs": [{"name": "image_bytes", "shape": [2], "datatype": "BYTES",
                      "data": [b64(good), "%%% not base64"]}]}  # fmt: skip
    status, _, answer = server.request("POST", f"/v2/models/{MODEL}/infer", v2)
    assert status == 400 and "instance 1" in answer["error"] and "base64" in answer["error"]
    assert answer["parameters"] == {"failed": [1]} and answer["outputs"][0]["shape"] == [1, 10]


@pytest.mark.parametrize(
    "path, body, status, words",
    [
        ("/v2/models/mnist_convnet/infer", b"{not json", 400, "malformed JSON"),
        ("/v1/models/mnist_convnet:predict", b"[1, 2", 400, "malformed JSON"),
        ("/v2/models/mnist_convnet/infer",
         {"inputs": [{"name": "images", "shape": [1, 28, 27, 1], "datatype": "UINT8",
                      "data": [0] * 756}]}, 400, "shape [N, 28, 28, 1]"),
        ("/v2/models/mnist_convnet/infer",
         {"inputs": [{"name": "images", "shape": [1, 28, 28, 1], "datatype": "UINT8",
                      "data": [0] * 700}]}, 400, "holds 784 numbers, data has 700"),
        ("/v2/models/mnist_convnet/infer",
         {"inputs": [{"name": "images", "shape": [1, 28, 28, 1], "datatype": "BOOL",
                      "data": [True] * 784}]}, 400, "datatype 'BOOL'"),
        ("/v2/models/mnist_convnet/infer",
         {"inputs": [{"name": "images", "shape": [1, 28, 28, 1], "datatype": "UINT8",
                      "data": [300] * 784}]}, 400, "0..255"),
        ("/v2/models/mnist_convnet/infer",
         {"inputs": [{"name": "x", "shape": [1], "datatype": "BYTES", "data": ["a"]}]},
         400, "unknown input 'x'"),
        ("/v2/models/mnist_convnet/infer",
         {"inputs": [{"name": "images", "shape": [1, 28, 28, 1], "datatype": "UINT8",
                      "data": [0] * 784}], "outputs": [{"name": "logits"}]}, 400,
         "unknown output 'logits'"),
        ("/v1/models/mnist_convnet:predict", {"instances": [[[1, 2]]]}, 400, "received shape"),
        ("/v1/models/mnist_convnet:predict", {"instances": ["abc"]}, 400, "expected pixels"),
        ("/v1/models/mnist_convnet:predict", {"instances": []}, 400, "no instances"),
        ("/v1/models/mnist_convnet:explode", {"instances": []}, 404, "unknown method"),
        ("/v1/models/resnet50:predict", {"instances": []}, 404,
         "Servable not found for request: Latest(resnet50)"),
        ("/v1/models/mnist_convnet/versions/3:predict", {"instances": []}, 404,
         "Specific(mnist_convnet, 3)"),
        # a URL names a served model, never a file: no route, or no such model
        ("/v2/models/..%2F..%2Fetc%2Fpasswd/infer", {"inputs": []}, 404, "Not Found"),
        ("/v1/models/%2Fetc%2Fpasswd:predict", {"instances": []}, 404, "Not Found"),
        ("/v1/models/..:predict", {"instances": []}, 404, "Latest(..)"),
        ("/v2/models/zoo%2Fdata%2Fsamples/infer", {"inputs": []}, 404, "Not Found"),
        ("/v3/anything", {}, 404, "Not Found"),
    ],
)  # fmt: skip
def test_bad_requests_get_the_protocols_error_shape_and_no_trace(server, path, body, status, words):
    headers = {"Content-Type": "application/json"}
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    got, _, answer = server.request("POST", path, raw, headers)
    assert got == status, answer
    assert isinstance(answer, dict) and set(answer) == {"error"}, answer
    assert words in answer["error"]
    assert "Traceback" not in answer["error"] and ".py" not in answer["error"]


def test_metrics_count_requests_latency_batches_queue_and_errors(server):
    server.request("POST", "/v1/models/mnist_convnet:predict", b"{bad", {})
    status, headers, text = server.request("GET", "/metrics")
    text = text.decode()
    assert status == 200 and headers["content-type"].startswith("text/plain")
    for name in ("zoo_requests_total", "zoo_request_seconds_bucket", "zoo_batch_size_bucket",
                 "zoo_batch_seconds_count", 'zoo_queue_depth{model="mnist_convnet"}'):  # fmt: skip
        assert name in text, name
    errors = re.search(r'zoo_errors_total\{kind="bad_request"\} (\S+)', text)
    assert errors and float(errors.group(1)) >= 1
    assert re.search(r'zoo_requests_total\{code="200",protocol="v2"\} [1-9]', text)


def test_one_access_log_line_per_request(server):
    before = len(server.log)
    server.request("GET", "/v2/health/live?probe=1")
    server.request("GET", f"/v1/models/{MODEL}")
    import time

    time.sleep(0.3)
    lines = [line for line in server.log[before:] if '"GET ' in line]
    assert len(lines) == 2
    assert '"GET /v2/health/live" 200' in lines[0] and "127.0.0.1" in lines[0]
    assert f'"GET /v1/models/{MODEL}" 200' in lines[1] and " ms" in lines[1]


def test_a_warm_server_with_a_cached_engine_never_imports_tensorflow(server, cache):
    env = {**os.environ, "KERAS_HOME": str(cache), "ZOO_RUNTIME": "onnx"}
    with ServerProcess([MODEL], env) as warm:
        status, _, answer = warm.request(
            "POST", f"/v1/models/{MODEL}:predict-image", (SAMPLES / "digit_4.png").read_bytes()
        )
        assert status == 200 and answer["predictions"][0]["top"][0]["label"] == "4"
        maps = open(f"/proc/{warm.process.pid}/maps").read()
        assert "libtensorflow" not in maps and "_pywrap_tensorflow" not in maps


def test_explain_answers_the_grad_cam_of_the_top_class_as_a_png(server):
    body, content_type = multipart([("digit_3.png", (SAMPLES / "digit_3.png").read_bytes())])
    status, _, answer = server.request(
        "POST", f"/v1/models/{MODEL}:explain", body, {"Content-Type": content_type}
    )
    assert status == 200, answer
    assert answer["label"] == "3" and answer["file"] == "digit_3.png"
    assert answer["stage"] and 0 < answer["probability"] <= 1
    picture = Image.open(io.BytesIO(base64.b64decode(answer["overlay_png"])))
    assert picture.size == (224, 224) and picture.mode == "RGB"  # 28 x 28, shown 8x larger
    assert all(0 <= v < 28 for v in answer["peak"])
    status, _, answer = server.request("POST", f"/v1/models/{MODEL}:explain", b"not an image",
                                       {"Content-Type": "image/png"})  # fmt: skip
    assert status == 400 and "not an image" in answer["error"]
