"""zoo's models as a KServe custom predictor under KServe's own ModelServer (a real process on
127.0.0.1): its V1 :predict and V2 /infer give what zoo serve gives, bad images are named, and
KServe's health and readiness routes answer."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import MNIST_PATH, SAMPLES
from server_process import ServerProcess

pytestmark = pytest.mark.xdist_group("serve_kserve")
MODEL = "mnist_convnet"


@pytest.fixture(scope="module")
def kserve_server(tmp_path_factory):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "KERAS_HOME": str(tmp_path_factory.mktemp("keras")),
           "ZOO_RUNTIME": "onnx"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "zoo.serving.kserve_predictor", MODEL, "--http-port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    client = ServerProcess([], env)
    client.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while client.request("GET", "/v2/health/ready")[0] != 200:
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "KServe's server was not ready"
        time.sleep(0.3)
    yield client
    process.terminate()
    process.wait(30)


def test_kserve_v1_and_v2_answer_as_zoo_serve(kserve_server):
    import zoo

    with np.load(MNIST_PATH) as data:
        x = data["x_test"][:4]
    expected = zoo.predict(MODEL, x)
    status, _, answer = kserve_server.request(
        "POST", f"/v1/models/{MODEL}:predict", {"instances": x.tolist()}
    )
    assert status == 200, answer
    np.testing.assert_allclose(np.array(answer["predictions"]), expected, atol=1e-4)
    png = base64.b64encode((SAMPLES / "digit_7.png").read_bytes()).decode()
    body = {
        "inputs": [{"name": "image_bytes", "shape": [1], "datatype": "BYTES", "data": [png]}],
        "outputs": [{"name": "probabilities", "parameters": {"classification": 1}}],
    }
    status, _, answer = kserve_server.request("POST", f"/v2/models/{MODEL}/infer", body)
    assert status == 200, answer
    (output,) = answer["outputs"]
    assert output["datatype"] == "BYTES" and output["data"][0].split(":")[1:] == ["7", "7"]
    pixels = {"inputs": [{"name": "images", "shape": [4, 28, 28, 1], "datatype": "UINT8",
                          "data": x.reshape(-1).tolist()}]}  # fmt: skip
    status, _, answer = kserve_server.request("POST", f"/v2/models/{MODEL}/infer", pixels)
    got = np.array(answer["outputs"][0]["data"]).reshape(4, 10)
    assert status == 200
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_kserve_names_a_bad_image_and_answers_its_health_routes(kserve_server):
    status, _, answer = kserve_server.request(
        "POST", f"/v1/models/{MODEL}:predict", {"instances": [{"b64": "bm90IGFuIGltYWdl"}]}
    )
    assert status == 400 and "instance 0" in answer["error"] and "not an image" in answer["error"]
    assert kserve_server.request("GET", "/v2/health/live")[0] == 200
    assert kserve_server.request("GET", f"/v2/models/{MODEL}/ready")[0] == 200
