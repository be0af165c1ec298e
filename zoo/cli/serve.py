"""``zoo serve``: models behind HTTP, TF Serving's REST API and the Open Inference Protocol
(``zoo.serving``, docs/serving.md).

Example:
    $ zoo serve mnist_convnet runs/flowers --port 8080
    $ curl -F image=@seven.png localhost:8080/v1/models/mnist_convnet:predict-image
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading

from zoo.cli.common import SharedFlags
from zoo.errors import InputError

#: Where the settings of a multi-process server travel to its worker processes.
CONFIG_VARIABLE = "ZOO_SERVE_CONFIG"


def add_parsers(commands, shared: SharedFlags) -> None:
    """``zoo serve``."""
    sub = commands.add_parser(
        "serve",
        help="serve models over HTTP: TF Serving's REST API, KServe V2, a web page at /",
        parents=[shared.runtime],
        description="Serve each MODEL (a registry name, a fine-tune run directory, a .keras "
        "file, or an artefact of zoo export: .onnx, .tflite, a SavedModel with --trust; in URLs "
        "by its name, a run directory by its folder name, an artefact by its file name without "
        "the suffix, NAME=MODEL as NAME) with dynamic batching on the engine zoo picks (an "
        "artefact on its own). Needs the serve extra: pip install 'keras-zoo[serve]'.",
    )
    sub.add_argument(
        "models",
        nargs="+",
        metavar="MODEL",
        help="registry names, run directories, artefacts; NAME=MODEL to name one",
    )
    sub.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sub.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free)")
    sub.add_argument("--max-batch", type=int, default=32, help="images per engine call (32)")
    sub.add_argument(
        "--batch-timeout-ms",
        type=float,
        default=5.0,
        help="longest wait for a batch to fill, in ms (default 5)",
    )
    sub.add_argument(
        "--max-queue",
        type=int,
        default=256,
        help="images waiting per model before requests get 503 (default 256)",
    )
    sub.add_argument("--max-body-mb", type=float, default=20.0, help="largest body (20 MB)")
    sub.add_argument(
        "--api-key",
        default=os.environ.get("ZOO_API_KEY"),
        help="require this key (Authorization: Bearer KEY or X-API-Key); default $ZOO_API_KEY",
    )
    sub.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    sub.add_argument("--weights", default="default", help="the models' weights (as predict)")
    sub.add_argument("--trust", action="store_true", help="load model files that carry code")
    sub.set_defaults(handler=cmd_serve)


def _settings(args) -> dict:
    for flag, value in (("--max-batch", args.max_batch), ("--max-queue", args.max_queue),
                        ("--workers", args.workers)):  # fmt: skip
        if value < 1:
            raise InputError(f"{flag} must be at least 1, received {value}")
    if args.batch_timeout_ms < 0 or args.max_body_mb <= 0:
        raise InputError("--batch-timeout-ms must be at least 0 and --max-body-mb above 0")
    if not 0 <= args.port <= 65535:
        raise InputError(f"--port must be in 0..65535, received {args.port}")
    return {
        "models": args.models,
        "runtime": args.runtime,
        "precision": args.precision,
        "calibration": args.calibration,
        "weights": args.weights,
        "trust": args.trust,
        "options": {
            "max_batch": args.max_batch,
            "batch_timeout_ms": args.batch_timeout_ms,
            "max_queue": args.max_queue,
            "max_body_mb": args.max_body_mb,
            "api_key": args.api_key,
        },
    }


def _dependencies() -> None:
    import importlib.util

    missing = [p for p in ("starlette", "uvicorn", "prometheus_client", "multipart")
               if importlib.util.find_spec(p) is None]  # fmt: skip
    if missing:
        raise InputError(f"zoo serve needs {', '.join(missing)}: pip install 'keras-zoo[serve]'")


def cmd_serve(args) -> int:
    _dependencies()
    import uvicorn

    from zoo.serving.app import app_from_settings, configure_logging

    settings = _settings(args)
    configure_logging()
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as error:
        raise InputError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    port = sock.getsockname()[1]
    app = app_from_settings(settings)  # opens the models: an unknown name fails here
    server_state = app.server
    if args.workers > 1:  # each worker opens its own (its own engines); this one only checked
        os.environ[CONFIG_VARIABLE] = json.dumps(settings)
        app = "zoo.serving.app:app_from_environment"
    names = ", ".join(settings["models"])
    print(
        f"zoo serve: {names} on http://{args.host}:{port} (web page /, TF Serving "
        "/v1/models/NAME:predict, KServe V2 /v2/models/NAME/infer, /metrics)",
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(
        app, factory=args.workers > 1, workers=args.workers, log_level="warning",
        access_log=False, lifespan="on", timeout_graceful_shutdown=30,
    )  # fmt: skip
    if args.workers > 1:
        sock.listen(2048)
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[sock]).run()  # SIGTERM: each worker drains, then exit
        return 0
    server = uvicorn.Server(config)
    failed = threading.Event()

    def watch() -> None:  # a server whose models cannot start stops, with the reason logged
        while not server_state.ready.wait(0.2):
            if server_state.failed:
                failed.set()
                server.should_exit = True
                return

    threading.Thread(target=watch, daemon=True).start()
    # uvicorn drains on SIGTERM / SIGINT, then raises the signal again under the handler that
    # was there before it: this one, so that a drained server exits 0 instead of dying by it.
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: None)
    server.run(sockets=[sock])
    return 1 if failed.is_set() else 0
