"""zoo serve's limits, each against a real server process: the API key, the body limit before
the body is read, a full queue answered 503 at once, SIGTERM draining the requests in flight,
and a server whose model cannot start saying why."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import SAMPLES, ZOO_COMMAND
from server_process import ServerProcess

pytestmark = pytest.mark.xdist_group("serve_limits")
MODEL = "mnist_convnet"
SLOW_MODEL = "vgg16"
KEY = "s3cret-key"
PREDICT = f"/v1/models/{SLOW_MODEL}:predict"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return {**os.environ, "KERAS_HOME": str(tmp_path_factory.mktemp("keras_home")),
            "ZOO_RUNTIME": "onnx"}  # fmt: skip


@pytest.fixture(scope="module")
def guarded(env):
    """A server with a key, a 50 KB body limit, and a slow engine (VGG-16, random weights, on
    TensorFlow, one image per engine call: a few tenths of a second each on 2 cores) behind a
    queue of 4 images, so that requests really wait."""
    args = [SLOW_MODEL, "--weights", "none", "--runtime", "tf", "--api-key", KEY,
            "--max-queue", "4", "--max-batch", "1", "--max-body-mb", "0.05"]  # fmt: skip
    with ServerProcess(args, env) as running:
        yield running


def digit_body(count: int = 1) -> dict:
    image = base64.b64encode((SAMPLES / "digit_7.png").read_bytes()).decode()
    return {"instances": [{"b64": image}] * count}


def bearer(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_the_api_key_is_required_except_for_health_probes(guarded):
    status, headers, answer = guarded.request("POST", PREDICT, digit_body())
    assert status == 401 and headers["www-authenticate"] == "Bearer" and set(answer) == {"error"}
    assert guarded.request("POST", PREDICT, digit_body(), bearer("wrong"))[0] == 401
    assert guarded.request("POST", PREDICT, digit_body(), bearer(KEY[:-1]))[0] == 401
    assert guarded.request("GET", "/metrics")[0] == 401
    assert guarded.request("GET", f"/v2/models/{SLOW_MODEL}")[0] == 401
    status, _, answer = guarded.request("POST", PREDICT, digit_body(), bearer())
    assert status == 200 and len(answer["predictions"]) == 1
    assert guarded.request("POST", PREDICT, digit_body(), {"X-API-Key": KEY})[0] == 200
    for path in ("/v2/health/live", "/v2/health/ready", "/"):
        assert guarded.request("GET", path)[0] == 200


def raw_exchange(port: int, head: bytes, chunks, wait: float = 10) -> bytes:
    """Send ``head`` then each of ``chunks`` until the server answers; its answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as connection:
        connection.sendall(head)
        connection.settimeout(0.05)
        answer = b""
        deadline = time.monotonic() + wait
        for chunk in chunks:
            try:
                connection.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                answer += connection.recv(65536)
            except TimeoutError:
                pass
            if b"\r\n\r\n" in answer or time.monotonic() > deadline:
                break
        connection.settimeout(1)
        while True:  # the rest of the answer, until the server closes or goes quiet
            try:
                part = connection.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not part:
                break
            answer += part
        return answer


def test_a_body_over_the_limit_is_refused_before_it_is_read_whole(guarded):
    port = int(guarded.url.rsplit(":", 1)[1])
    request_line = b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nHost: x\r\n"
    head = request_line + f"Authorization: Bearer {KEY}\r\n".encode()
    head += b"Content-Type: application/json\r\n"
    started = time.monotonic()
    declared = head + b"Content-Length: 10000000\r\n\r\n"
    answer = raw_exchange(port, declared, [b"{" + b" " * 1000])  # 1 KB of the declared 10 MB
    assert answer.startswith(b"HTTP/1.1 413") and time.monotonic() - started < 5
    chunked = head + b"Transfer-Encoding: chunked\r\n\r\n"
    piece = b" " * 8192
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    answer = raw_exchange(port, chunked, [chunk] * 200)  # up to 1.6 MB, never a length
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"over the server's limit" in answer
    status, _, _ = guarded.request("POST", PREDICT, digit_body(), bearer())
    assert status == 200  # the server is still serving


def test_a_full_queue_answers_503_with_retry_after_at_once(guarded):
    def one(_):
        started = time.monotonic()
        status, headers, answer = guarded.request("POST", PREDICT, digit_body(), bearer())
        return status, headers, answer, time.monotonic() - started

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(one, range(12)))
    statuses = sorted(status for status, *_ in results)
    assert set(statuses) == {200, 503}, statuses
    assert statuses.count(200) >= 5  # one on the engine, four waiting
    refused = [seconds for status, _, _, seconds in results if status == 503]
    answered = [seconds for status, _, _, seconds in results if status == 200]
    assert max(refused) < max(answered)  # refused at once, not after waiting its turn
    for status, headers, answer, _ in results:
        if status == 503:
            assert headers["retry-after"] == "1" and "busy" in answer["error"]


def test_an_unknown_model_fails_at_once_and_one_that_cannot_start_says_why(env, tmp_path):
    unknown = subprocess.run(
        [str(ZOO_COMMAND), "serve", "mnist_convnett", "--port", "0"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert unknown.returncode == 2 and "Did you mean 'mnist_convnet'" in unknown.stderr
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not an HDF5 file")
    failing = subprocess.run(
        [str(ZOO_COMMAND), "serve", MODEL, "--weights", str(broken), "--port", "0"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert failing.returncode == 1
    assert "cannot start the models" in failing.stderr and "Traceback" not in failing.stderr


def test_sigterm_finishes_the_requests_in_flight_then_exits_0(guarded):
    """Last in this module: it stops the module's server."""
    server = guarded
    results = []

    def one():
        results.append(server.request("POST", PREDICT, digit_body(), bearer(), timeout=60)[:1])

    threads = [threading.Thread(target=one) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # the first on the engine, the others waiting
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    after = server.request("GET", "/v2/health/live", timeout=2)[0]
    for thread in threads:
        thread.join(60)
    assert server.process.wait(60) == 0
    assert results == [(200,)] * 3
    assert after in (0, 503)  # no longer taking requests


def _children(pid: int) -> list[int]:
    found = []
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                fields = open(f"/proc/{stat}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(stat))
    return found


def test_workers_share_the_port_each_with_its_own_engine_and_all_drain_on_sigterm(env):
    with ServerProcess([MODEL, "--workers", "2"], env) as served:
        deadline = time.monotonic() + 120  # both workers ready: new connections land on either
        while sum(served.request("GET", "/v2/health/ready")[0] == 200 for _ in range(12)) < 12:
            assert time.monotonic() < deadline, served.log
        workers = [pid for pid in _children(served.process.pid)
                   if "onnxruntime" in open(f"/proc/{pid}/maps").read()]  # fmt: skip
        assert len(workers) == 2, served.log
        path = f"/v1/models/{MODEL}:predict-image"
        image = (SAMPLES / "digit_7.png").read_bytes()
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: served.request("POST", path, image), range(24)))
        assert all(s == 200 and a["predictions"][0]["top"][0]["label"] == "7"
                   for s, _, a in answers), answers  # fmt: skip
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(60) == 0
        logged = time.monotonic() + 5  # the log reader may still be a line behind
        while sum(f'"POST {path}" 200' in line for line in served.log) < 24:
            assert time.monotonic() < logged, served.log  # each worker logs its requests
            time.sleep(0.1)
        assert not [pid for pid in workers if os.path.exists(f"/proc/{pid}")]
