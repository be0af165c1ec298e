"""The ASGI middleware in front of every route: the API key, the body limit, the access log and
the metrics, each request's one log line.

Example:
    >>> app = Guards(router, metrics, api_key="secret", max_body=20 * 2**20)
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from typing import Any

from zoo.serving.instances import RequestError

log = logging.getLogger("zoo.serve")

#: Paths answered without the API key: health probes (a cluster's kubelet has no key) and the
#: web page itself (it asks for the key before it calls the API).
OPEN_PATHS = ("/v2/health/live", "/v2/health/ready", "/")


class BodyTooLarge(RequestError):
    """The body streamed past the limit (the app answers it in its protocol's error shape)."""


def protocol_of(path: str) -> str:
    return "v1" if path.startswith("/v1/") else "v2" if path.startswith("/v2") else "other"


async def send_json(send, status: int, body: dict[str, Any], headers: dict | None = None) -> None:
    payload = json.dumps(body).encode()
    extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _key_given(headers: dict[bytes, bytes]) -> bytes:
    authorization = headers.get(b"authorization", b"")
    if authorization[:7].lower() == b"bearer ":
        return authorization[7:].strip()
    return headers.get(b"x-api-key", b"")


class Guards:
    """Wraps the app: a missing or wrong API key is a 401 (compared in constant time), a body
    over ``max_body`` bytes a 413 before it is read whole (by its Content-Length, or as it
    streams in), and every request gets one access-log line and its metrics."""

    def __init__(self, app, metrics, *, api_key: str | None, max_body: int):
        self.app, self.metrics, self.max_body = app, metrics, max_body
        self.api_key = api_key.encode() if api_key else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        path = scope["path"]
        status = {"code": 500}

        async def sending(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self._guarded(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            self.metrics.request(protocol_of(path), status["code"], seconds)
            client = (scope.get("client") or ("-", 0))[0]
            log.info(
                '%s "%s %s" %d %.1f ms', client, scope["method"], path, status["code"],
                seconds * 1000,
            )  # fmt: skip

    async def _guarded(self, scope, receive, send):
        headers = dict(scope["headers"])
        if self.api_key is not None and scope["path"] not in OPEN_PATHS:
            if not hmac.compare_digest(_key_given(headers), self.api_key):
                return await send_json(
                    send,
                    401,
                    {
                        "error": "a valid API key is needed (Authorization: Bearer KEY "
                        "or X-API-Key: KEY)"
                    },  # fmt: skip
                    {"WWW-Authenticate": "Bearer"},
                )
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await send_json(send, 413, {"error": self._too_large(length.decode())})
        received = 0
        started = {"response": False}

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge(413, self._too_large(f"over {received}"))
            return message

        async def tracking_send(message):
            if message["type"] == "http.response.start":
                started["response"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started["response"]:
                await send_json(send, 413, {"error": self._too_large(f"over {received}")})

    def _too_large(self, length: str) -> str:
        return (
            f"the body ({length} bytes) is over the server's limit of {self.max_body} bytes "
            "(zoo serve --max-body-mb)"
        )
