"""The ASGI app of ``zoo serve``: TF Serving's REST API and the Open Inference Protocol over the
same served models, ``POST /v1/models/NAME:predict-image`` for a plain upload, ``/metrics`` and
the web page at ``/``, behind ``zoo.serving.guards``.

The models are opened before the server starts (an unknown name fails at once) and warmed in a
thread once it listens: liveness answers from the start, readiness only once every engine has
run a batch. Shutting down (SIGTERM) finishes the requests in flight and the queued batches.

Example:
    >>> app = build_app([ServedModel.open("mnist_convnet")], ServeOptions())
    >>> uvicorn.run(app, host="127.0.0.1", port=8080)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from zoo.errors import InputError
from zoo.serving import v1, v2
from zoo.serving.guards import Guards
from zoo.serving.instances import Instance, RequestError, error_text, run_instances
from zoo.serving.metrics import ServerMetrics
from zoo.serving.served import VERSION, ServedModel

log = logging.getLogger("zoo.serve")
#: Classes in a predict-image or classify answer unless ``?top=`` says otherwise.
DEFAULT_TOP = 5


@dataclass
class ServeOptions:
    """``zoo serve``'s settings (see its flags)."""

    max_batch: int = 32
    batch_timeout_ms: float = 5.0
    max_queue: int = 256
    max_body_mb: float = 20.0
    api_key: str | None = None
    decode_threads: int = 0  # 0: one per core


class Server:
    """The served models and what every route needs: lookups, the decoding pool, readiness."""

    def __init__(self, models: list[ServedModel], options: ServeOptions):
        names = [m.name for m in models]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise InputError(
                f"two models would be served as {', '.join(doubled)}; name them: "
                f"zoo serve NAME=SOURCE ... (e.g. {doubled[0]}_onnx=model.onnx)"
            )
        self.models = {m.name: m for m in models}
        self.options = options
        self.metrics = ServerMetrics()
        self.pool = ThreadPoolExecutor(
            options.decode_threads or os.cpu_count() or 1, thread_name_prefix="decode"
        )
        self.ready = threading.Event()
        self.failed: str | None = None

    def warm(self) -> None:
        """Start every model's engine and batcher; then the server is ready."""
        try:
            for served in self.models.values():
                served.start(
                    max_batch=self.options.max_batch,
                    timeout=self.options.batch_timeout_ms / 1000,
                    max_queue=self.options.max_queue,
                    on_batch=self.metrics.batch_observer(served.name),
                )
                self.metrics.watch_queue(served.name, lambda s=served: s.batcher.depth)
                log.info("%s ready on %s", served.name, served.runner.description)
        except Exception as error:  # noqa: BLE001 - a server that can never be ready says why
            self.failed = f"{type(error).__name__}: {error}"
            log.error("zoo serve: cannot start the models: %s", self.failed)
            return
        self.ready.set()

    def stop(self) -> None:
        for served in self.models.values():
            served.stop()
        self.pool.shutdown(wait=True)

    def model(self, name: str, version: str | None, protocol: str) -> ServedModel:
        """The served model of a URL; 404 in the protocol's words for an unknown one."""
        served = self.models.get(name)
        if served is None or (version is not None and version != VERSION):
            if protocol == "v1":
                wanted = f"Specific({name}, {version})" if version else f"Latest({name})"
                raise RequestError(404, f"Servable not found for request: {wanted}")
            known = ", ".join(sorted(self.models))
            what = f"model {name!r}" + (f" version {version!r}" if version else "")
            raise RequestError(404, f"{what} is not served here; models: {known}")
        return served

    def running(self, served: ServedModel) -> ServedModel:
        if not served.ready:
            raise RequestError(503, f"{served.name} is still loading", {"Retry-After": "1"})
        return served


def _answered(answer: dict[str, Any], errors: dict[int, str], count: int):
    """The answer of a request of ``count`` instances: a 400 naming the failed ones, with the
    answers of the others beside it when there are any."""
    if not errors:
        return _json(answer)
    message = {"error": error_text(errors, count)}
    return _json(message if len(errors) == count else {**message, **answer}, 400)


async def _json_body(request) -> Any:
    body = await request.body()
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RequestError(400, f"malformed JSON: {error}") from None


def _json(body: Any, status: int = 200, headers: dict | None = None):
    from starlette.responses import JSONResponse

    return JSONResponse(body, status_code=status, headers=headers)


def _empty(ok: bool):
    from starlette.responses import Response

    return Response(status_code=200 if ok else 400)


def _top(request) -> int:
    text = request.query_params.get("top", str(DEFAULT_TOP))
    if not text.isdigit() or int(text) < 1:
        raise RequestError(400, f"top must be a positive integer, received {text!r}")
    return int(text)


def _split_verb(target: str, verbs: tuple[str, ...]) -> tuple[str, str]:
    name, _, verb = target.rpartition(":")
    if not name or verb not in verbs:
        raise RequestError(
            404, f"unknown method {target!r}: POST /v1/models/NAME:" + "|".join(verbs)
        )
    return name, verb


def _v2_routes(server: Server) -> list:
    """The Open Inference Protocol's routes."""
    from starlette.routing import Route

    async def v2_server(request):
        return _json(v2.server_metadata())

    async def v2_live(request):
        return _empty(True)

    async def v2_ready(request):
        return _empty(server.ready.is_set())

    async def v2_model(request):
        p = request.path_params
        return _json(v2.model_metadata(server.model(p["name"], p.get("version"), "v2")))

    async def v2_model_ready(request):
        p = request.path_params
        return _empty(server.model(p["name"], p.get("version"), "v2").ready)

    async def v2_infer(request):
        p = request.path_params
        served = server.running(server.model(p["name"], p.get("version"), "v2"))
        body = await _json_body(request)
        found = v2.instances(body)
        k = v2.classification(body)
        results, errors = await run_instances(served, found, server.pool)
        return _answered(v2.infer_answer(served, body, results, k), errors, len(found))

    models, versions = "/v2/models/{name}", "/v2/models/{name}/versions/{version}"
    return [
        Route("/v2", v2_server),
        Route("/v2/health/live", v2_live),
        Route("/v2/health/ready", v2_ready),
        *(Route(m, v2_model) for m in (models, versions)),
        *(Route(f"{m}/ready", v2_model_ready) for m in (models, versions)),
        *(Route(f"{m}/infer", v2_infer, methods=["POST"]) for m in (models, versions)),
    ]


def _v1_routes(server: Server) -> list:
    """TF Serving's REST routes, and predict-image."""
    from starlette.routing import Route

    async def v1_status(request):
        p = request.path_params
        return _json(v1.status(server.model(p["name"], p.get("version"), "v1"), p.get("version")))

    async def v1_metadata(request):
        p = request.path_params
        return _json(v1.metadata(server.model(p["name"], p.get("version"), "v1")))

    async def v1_post(request):
        p = request.path_params
        verbs = ("predict", "classify", "predict-image", "explain")
        if "version_target" in p:
            name, (version, verb) = p["name"], _split_verb(p["version_target"], verbs)
        else:
            (name, verb), version = _split_verb(p["target"], verbs), None
        served = server.running(server.model(name, version, "v1"))
        if verb == "predict-image":
            return await _predict_image(server, served, request)
        if verb == "explain":
            return await _explain(server, served, request)
        body = await _json_body(request)
        if verb == "classify":
            found = v1.examples(body)
            results, errors = await run_instances(served, found, server.pool)
            answer = v1.classify_answer(served, results, _top(request))
        else:
            found, kind = v1.instances(body)
            results, errors = await run_instances(served, found, server.pool)
            answer = v1.predict_answer(results, kind)
        return _answered(answer, errors, len(found))

    models, versions = "/v1/models/{name}", "/v1/models/{name}/versions/{version}"
    return [
        Route("/v1/models/{target}", v1_post, methods=["POST"]),
        Route("/v1/models/{name}/versions/{version_target}", v1_post, methods=["POST"]),
        *(Route(m, v1_status, methods=["GET"]) for m in (models, versions)),
        *(Route(f"{m}/metadata", v1_metadata) for m in (models, versions)),
    ]


async def _predict_image(server: Server, served: ServedModel, request):
    top = _top(request)
    files = await _uploaded(request)
    results, errors = await run_instances(served, [i for _, i in files], server.pool)
    answers = [
        {"file": name, "error": errors[index]}
        if index in errors
        else {"file": name, "top": served.ranked(results[index], top)}
        for index, (name, _) in enumerate(files)
    ]
    return _answered({"model": served.name, "predictions": answers}, errors, len(files))


async def _explain(server: Server, served: ServedModel, request):
    """Grad-CAM of the first uploaded image's top-1 class (``ServedModel.explain``)."""
    import asyncio

    name, instance = (await _uploaded(request))[0]
    loop = asyncio.get_running_loop()
    try:
        pixels = await loop.run_in_executor(server.pool, served.decode, instance.encoded, name)
        answer = await loop.run_in_executor(server.pool, served.explain, pixels)
    except InputError as error:  # not an image, or a model without Grad-CAM (an artefact)
        raise RequestError(400, str(error)) from None
    return _json({"model": served.name, "file": name, **answer})


def routes(server: Server) -> list:
    """Every route: the web page, metrics, both protocols."""
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    async def metrics(request):
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(server.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    async def page(request):
        from zoo.serving.page import page_html

        return HTMLResponse(page_html(sorted(server.models)))

    pages = [Route("/", page), Route("/metrics", metrics)]
    return pages + _v2_routes(server) + _v1_routes(server)


async def _uploaded(request) -> list[tuple[str, Instance]]:
    """The images of a predict-image request: every file of a multipart form, or the raw body
    as one image."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=256, max_fields=256)
        files = [
            (getattr(v, "filename", None) or key, Instance(encoded=await v.read()))
            for key, v in form.multi_items()
            if hasattr(v, "read")
        ]
        if not files:
            raise RequestError(400, "the form holds no file (curl -F image=@cat.jpg)")
        return files
    body = await request.body()
    return [("body", Instance(encoded=body))]


def build_app(models: list[ServedModel], options: ServeOptions):
    """The ASGI app serving ``models`` (opened, not yet started: the app warms them)."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException

    server = Server(models, options)

    async def request_error(request, error: RequestError):
        return _json({"error": error.message}, error.status, error.headers)

    async def http_error(request, error: HTTPException):
        return _json({"error": f"{error.detail}: {request.method} {request.url.path}"},
                     error.status_code)  # fmt: skip

    async def internal_error(request, error: Exception):
        log.exception("internal error on %s %s", request.method, request.url.path)
        return _json({"error": f"internal error ({type(error).__name__}); see the server's log"},
                     500)  # fmt: skip

    @contextlib.asynccontextmanager
    async def lifespan(app):
        threading.Thread(target=server.warm, name="warm", daemon=True).start()
        yield
        server.stop()

    app = Starlette(
        routes=routes(server),
        exception_handlers={
            RequestError: request_error,
            HTTPException: http_error,
            Exception: internal_error,
        },
        lifespan=lifespan,
    )
    app.state.server = server
    guarded = Guards(
        app, server.metrics, api_key=options.api_key,
        max_body=int(options.max_body_mb * 1024 * 1024),
    )  # fmt: skip
    guarded.server = server
    return guarded


def app_from_settings(settings: dict[str, Any]):
    """The app for ``zoo serve``'s settings (``zoo.cli.serve``): opens each model."""
    models = [
        ServedModel.open(
            source, runtime=settings["runtime"], precision=settings["precision"],
            calibration=settings.get("calibration"), weights=settings["weights"],
            trust=settings["trust"],
        )
        for source in settings["models"]
    ]  # fmt: skip
    return build_app(models, ServeOptions(**settings["options"]))


def configure_logging() -> None:
    """zoo serve's log on stderr: one line per request and per model ready, uvicorn's own
    lines only for warnings."""
    import sys

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    for noisy in ("uvicorn.error", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def app_from_environment():
    """The app of one worker process of ``zoo serve --workers N`` (its settings in
    ``$ZOO_SERVE_CONFIG``; a worker is a new process, so it sets up its own log)."""
    configure_logging()
    return app_from_settings(json.loads(os.environ["ZOO_SERVE_CONFIG"]))
