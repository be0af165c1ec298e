"""A real ``zoo serve`` process on 127.0.0.1 (an ephemeral port) for the serving tests, and
plain HTTP requests to it (urllib: what any client sends)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from conftest import ZOO_COMMAND

LISTENING = re.compile(r"on http://127\.0\.0\.1:(\d+) ")


class ServerProcess:
    """``zoo serve ARGS --port 0``, ready (``/v2/health/ready`` answers 200) on entry;
    SIGTERM on exit. ``log`` holds its stderr lines."""

    def __init__(self, args: list[str], env: dict[str, str], ready_within: float = 180):
        self.args, self.env, self.ready_within = args, env, ready_within
        self.log: list[str] = []
        self.process: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> ServerProcess:
        self.process = subprocess.Popen(
            [str(ZOO_COMMAND), "serve", *self.args, "--port", "0"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=self.env,
        )  # fmt: skip
        port = threading.Event()

        def read() -> None:
            for line in self.process.stderr:
                self.log.append(line)
                if (found := LISTENING.search(line)) and not self.url:
                    self.url = f"http://127.0.0.1:{found.group(1)}"
                    port.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + self.ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"zoo serve exited {self.process.returncode}: {self.log}")
            if port.is_set() and self.request("GET", "/v2/health/ready")[0] == 200:
                return self
            time.sleep(0.2)
        self.__exit__()
        raise AssertionError(f"zoo serve was not ready within {self.ready_within} s: {self.log}")

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def request(
        self,
        method: str,
        path: str,
        body: bytes | dict | list | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> tuple[int, dict[str, str], Any]:
        """(status, headers, the JSON answer, or the raw bytes when it is not JSON)."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        request = urllib.request.Request(
            self.url + path, data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                status, answer_headers, raw = answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            status, answer_headers, raw = error.code, dict(error.headers), error.read()
        except (urllib.error.URLError, ConnectionError):
            return 0, {}, b""
        try:
            return status, answer_headers, json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return status, answer_headers, raw


def multipart(files: list[tuple[str, bytes]], field: str = "image") -> tuple[bytes, str]:
    """A multipart/form-data body holding ``files`` (name, bytes), as ``curl -F`` sends it."""
    boundary = "zoo-test-boundary-7d1f"
    parts = []
    for name, data in files:
        parts.append(
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
            + data + b"\r\n"
        )  # fmt: skip
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )
