"""``zoo bench --serve``: ``zoo serve`` under load, side by side in one run on the same JPEGs
and the same engine, against zoo's own end-to-end prediction in one process (the yardstick:
decoding threads and micro-batches, no HTTP) and against a naive server (a Starlette app calling
Keras' ``model.predict`` per request, ``zoo.bench.naive_server``).

The load is a bounded client on 127.0.0.1: ``concurrency`` keep-alive connections sending
``requests`` uploads of one image each (closed loop: capacity, and latency at 100 % of it); then
requests at half that rate at fixed intervals (open loop: latency at 50 %); then one request at
a time to the idle server, against the same image decoded and run on the same warm engine in
this process.

Example:
    $ zoo bench --serve --model mobilenet_v2_1.0_224 --images 64
"""

from __future__ import annotations

import http.client
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from zoo.bench.runtimes import make_jpegs


class _Load:
    """Uploads to ``path`` on 127.0.0.1:``port`` from threads, each with its own connection;
    every latency is kept."""

    def __init__(self, port: int, path: str, bodies: list[bytes], kind: str = "image/jpeg"):
        self.port, self.path, self.bodies, self.kind = port, path, bodies, kind
        self.latencies: list[float] = []
        self.failures = 0
        self._lock = threading.Lock()

    def _send(self, connection, index: int, since: float | None = None) -> None:
        started = since if since is not None else time.perf_counter()
        body = self.bodies[index % len(self.bodies)]
        connection.request("POST", self.path, body, {"Content-Type": self.kind})
        answer = connection.getresponse()
        answer.read()
        with self._lock:
            self.latencies.append(time.perf_counter() - started)
            self.failures += answer.status != 200

    def closed(self, requests: int, concurrency: int) -> float:
        """Send ``requests`` over ``concurrency`` connections as fast as answers come; the
        seconds it took."""
        counter = iter(range(requests))

        def worker():
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            for index in counter:  # next() on a shared iterator: each index once
                self._send(connection, index)
            connection.close()

        return self._threads(worker, concurrency)

    def open(self, requests: int, rate: float, concurrency: int) -> float:
        """Send ``requests`` at ``rate`` per second at fixed intervals; latency counts from each
        request's scheduled time."""
        start = time.perf_counter() + 0.05
        counter = iter(range(requests))

        def worker():
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            for index in counter:
                due = start + index / rate
                time.sleep(max(0.0, due - time.perf_counter()))
                self._send(connection, index, since=due)
            connection.close()

        return self._threads(worker, concurrency)

    @staticmethod
    def _threads(worker, count: int) -> float:
        threads = [threading.Thread(target=worker) for _ in range(count)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started


def _wait_ready(port: int, path: str, process: subprocess.Popen, within: float = 300) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server on port {port} was not ready within {within} s")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentiles(latencies: list[float]) -> str:
    p50, p99 = np.percentile(np.array(latencies) * 1000, [50, 99])
    return f"{p50:.0f} / {p99:.0f}"


def _in_process(model: str, runtime: str, paths: list[Path], total: int) -> tuple[float, float]:
    """(images/s of zoo's end-to-end prediction over ``total`` files, the median seconds of one
    image decoded and run on the warm engine)."""
    from zoo import registry
    from zoo.inference.prediction import predict_files, predictions_runner
    from zoo.inputs.sources import prepare_file

    files = [str(paths[i % len(paths)]) for i in range(total)]
    predict_files(model, files[:8], weights="none", runtime=runtime)  # warm: export, cache
    started = time.perf_counter()
    predict_files(model, files, weights="none", runtime=runtime)
    rate = total / (time.perf_counter() - started)
    spec = registry.get_spec(model)
    runner = predictions_runner(spec, "none", runtime)
    one = []
    for path in files[:21]:
        started = time.perf_counter()
        runner.run(prepare_file(spec, path)[np.newaxis])
        one.append(time.perf_counter() - started)
    return rate, float(np.median(one[1:]))


def _server(command: list[str], port: int, ready_path: str, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_ready(port, ready_path, process)
    except RuntimeError:
        process.kill()
        raise
    return process


def _measure_served(model: str, runtime: str, bodies, requests: int, concurrency: int) -> dict:
    """zoo serve's capacity, and its latencies at 100 % and 50 % of it and idle."""
    port = _free_port()
    command = [sys.executable, "-m", "zoo", "serve", model, "--weights", "none",
               "--runtime", runtime, "--port", str(port), "--max-queue", "4096"]  # fmt: skip
    process = _server(command, port, "/v2/health/ready", dict(os.environ))
    try:
        path = f"/v1/models/{model}:predict-image"
        _Load(port, path, bodies).closed(concurrency * 2, concurrency)  # warm the connections
        full = _Load(port, path, bodies)
        rate = requests / full.closed(requests, concurrency)
        half = _Load(port, path, bodies)
        half.open(requests // 2, rate / 2, concurrency)
        idle = _Load(port, path, bodies)
        idle.closed(21, 1)
    finally:
        process.terminate()
        process.wait(60)
    return {
        "rate": rate,
        "full": full.latencies,
        "half": half.latencies,
        "idle": float(np.median(idle.latencies[1:])),
        "failures": full.failures + half.failures + idle.failures,
    }


def _measure_naive(model: str, bodies, requests: int, concurrency: int) -> float:
    """The naive server's images/s under the same load (a quarter of the requests: it is slow)."""
    port = _free_port()
    command = [sys.executable, "-m", "zoo.bench.naive_server", str(port), model]
    process = _server(command, port, "/ready", dict(os.environ))
    try:
        _Load(port, "/predict", bodies).closed(concurrency, concurrency)  # warm
        count = max(concurrency * 2, requests // 4)
        return count / _Load(port, "/predict", bodies).closed(count, concurrency)
    finally:
        process.terminate()
        process.wait(60)


def _measure_v1_json(
    command: list[str], port: int, path: str, bodies, requests: int, concurrency: int
) -> float:
    """Images/s of a server started by ``command`` under the same load, as TF Serving JSON
    bodies (one ``{"b64"}`` instance each): how zoo serve and KServe's server compare."""
    import base64
    import json

    process = _server(command, port, "/v2/health/ready", dict(os.environ))
    try:
        payloads = [
            json.dumps({"instances": [{"b64": base64.b64encode(b).decode()}]}).encode()
            for b in bodies
        ]
        _Load(port, path, payloads, "application/json").closed(concurrency * 2, concurrency)
        load = _Load(port, path, payloads, "application/json")
        rate = requests / load.closed(requests, concurrency)
        if load.failures:
            raise RuntimeError(f"{load.failures} requests failed on {command[:4]}")
        return rate
    finally:
        process.terminate()
        process.wait(60)


def _kserve_rows(model, runtime, bodies, requests, concurrency) -> list[tuple[str, float]]:
    """zoo serve and zoo's KServe predictor, both on V1 JSON: the 15 % question."""
    path = f"/v1/models/{model}:predict"
    rows = []
    for what, command in (
        ("zoo serve, V1 JSON b64", [sys.executable, "-m", "zoo", "serve", model, "--weights",
                                    "none", "--runtime", runtime, "--max-queue", "4096",
                                    "--port"]),
        ("KServe ModelServer with zoo's predictor, V1 JSON b64",
         [sys.executable, "-m", "zoo.serving.kserve_predictor", model, "--weights", "none",
          "--runtime", runtime, "--max-queue", "4096", "--http-port"]),
    ):  # fmt: skip
        port = _free_port()
        rows.append(
            (what, _measure_v1_json([*command, str(port)], port, path, bodies, requests,
                                    concurrency))
        )  # fmt: skip
    return rows


def serve_bench(
    model: str = "mobilenet_v2_1.0_224",
    *,
    images: int = 64,
    requests: int = 256,
    concurrency: int = 16,
    runtime: str | None = None,
    naive: bool = True,
    kserve: bool | None = None,
) -> str:
    """A markdown report of served throughput and latency against the yardsticks.

    Example:
        >>> print(serve_bench("mnist_convnet", images=16, requests=64))
    """
    from zoo import registry
    from zoo.engines.runtimes import default_runtime
    from zoo.inference.prediction import predictions_runner

    spec = registry.get_spec(model)
    runtime = runtime or default_runtime()
    if runtime == "auto":  # name the engine auto picks, so that every side runs that one
        runtime = predictions_runner(spec, "none", "auto").name
    paths = make_jpegs(Path(tempfile.mkdtemp(prefix="zoo-serve-bench-")), images)
    bodies = [path.read_bytes() for path in paths]
    yardstick, one_in_process = _in_process(model, runtime, paths, requests)
    served = _measure_served(model, runtime, bodies, requests, concurrency)
    rows = [
        ("zoo predict end to end, in one process (decoding threads, micro-batches)", yardstick),
        (f"zoo serve, {concurrency} connections, one image per request", served["rate"]),
    ]
    if naive:
        naive_rate = _measure_naive(model, bodies, requests, concurrency)
        rows.append((f"naive server (model.predict per request), {concurrency} connections",
                     naive_rate))  # fmt: skip
    if kserve is None:
        import importlib.util

        kserve = importlib.util.find_spec("kserve") is not None
    if kserve:
        rows += _kserve_rows(model, runtime, bodies, requests, concurrency)
    lines = [
        f"Model `{spec.name}` (random weights), engine `{runtime}`, {images} JPEGs of 640x480 "
        f"sent as {requests} uploads, {platform.machine()}, {os.cpu_count()} cores; failed "
        f"requests: {served['failures']}.",
        "",
        "| what | images/s | × zoo predict in one process |",
        "|---|---|---|",
        *(f"| {what} | {rate:.1f} | {rate / yardstick:.2f} |" for what, rate in rows),
    ]
    if naive:
        lines += ["", f"- zoo serve against the naive server: {served['rate'] / naive_rate:.1f}×"]
    if kserve:
        ours, theirs = rows[-2][1], rows[-1][1]
        lines += [f"- KServe's server against zoo serve, same predictor and load: "
                  f"{theirs / ours:.2f}× ({100 * (1 - theirs / ours):+.0f} % cost)"]  # fmt: skip
    rate = served["rate"]
    lines += [
        "",
        "| latency (ms) | p50 / p99 |",
        "|---|---|",
        f"| at 100 % of capacity ({rate:.0f}/s, closed loop) | {_percentiles(served['full'])} |",
        f"| at 50 % ({rate / 2:.0f}/s, fixed intervals) | {_percentiles(served['half'])} |",
        f"| one request to the idle server (median of 20) | {served['idle'] * 1000:.1f} |",
        f"| the same image decoded and run on the warm engine in one process | "
        f"{one_in_process * 1000:.1f} (idle server: × {served['idle'] / one_in_process:.2f}) |",
    ]
    return "\n".join(lines)
