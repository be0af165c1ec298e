"""A real HTTP server on 127.0.0.1 serving weight files, well and badly, for download tests.

Paths: ``/MODE/FILE`` where FILE is in the served folder and MODE is one of
    good       the file, with HTTP Range support (206 Partial Content)
    flipped    the file with one byte flipped
    truncated  the first half of the file (an honest, short Content-Length)
    drop       the first request promises the whole file but the connection drops halfway;
               later requests are served properly (with Range), so a resume can finish it
    flaky      the first request answers 500, later ones serve the file
    html       "200 OK" with an HTML page instead of the file (a captive portal, a login page)
    short      the first half of the file with no Content-Length, then the connection closes
    slow       the whole file promised, the first half sent, then nothing until
               ``server.release`` is set (for killing a client in the middle of a download)
    404 / 500  that HTTP status, always
Every request is recorded as (path, Range header) in ``server.requests``.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class WeightsServer:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.requests: list[tuple[str, str | None]] = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self.release = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def first_time(self, path: str) -> bool:
        with self._lock:
            first = path not in self._seen
            self._seen.add(path)
            return first

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                with server._lock:
                    server.requests.append((self.path, self.headers.get("Range")))
                match = re.fullmatch(r"/([^/]+)/([^/]+)", self.path)
                if not match:
                    return self.send_error(404)
                mode, name = match.groups()
                if mode in ("404", "500"):
                    return self.send_error(int(mode))
                if mode == "flaky" and server.first_time(self.path):
                    return self.send_error(500)
                source = server.folder / name
                if not source.is_file():
                    return self.send_error(404)
                data = source.read_bytes()
                if mode == "flipped":
                    data = bytearray(data)
                    data[len(data) // 2] ^= 0xFF
                    data = bytes(data)
                elif mode == "truncated":
                    data = data[: len(data) // 2]
                elif mode == "html":
                    data = b"<!DOCTYPE html><html><body>Please sign in</body></html>"
                if mode == "short":
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.close_connection = True
                    return
                if mode == "slow":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    server.release.wait(60)
                    self.close_connection = True
                    return
                if mode == "drop" and server.first_time(self.path):
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self._send_with_range(data)

            def _send_with_range(self, data: bytes):
                header = self.headers.get("Range")
                match = re.fullmatch(r"bytes=(\d+)-", header or "")
                if match:
                    start = int(match.group(1))
                    if start >= len(data):
                        return self.send_error(416)
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                    data = data[start:]
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                self.wfile.write(data)

        return Handler
