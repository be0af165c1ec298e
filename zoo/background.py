"""Prepare a model's fast runtime in a detached process, so that a first call is not slower
than TensorFlow.

``runtime="auto"`` exports a model for ONNX Runtime and LiteRT, checks and times each engine,
and remembers the fastest (``zoo.runtimes``); that costs seconds the first time. For a small job
(fewer than ``FOREGROUND_FROM`` images) a call with nothing remembered yet answers with
TensorFlow and, as it exits, starts ``python -m zoo.background REQUEST`` in a new session, as
git starts its auto-gc: that process does the exporting and timing while the user goes on, and
the next call runs the engine it chose without importing TensorFlow. A lock per request makes
a second preparer of the same thing exit at once; failures go to ``background.log`` beside the
artefacts. ``ZOO_BACKGROUND=0`` turns it off (prepare in the foreground, as before).

Example:
    $ zoo predict cat.jpg --model mobilenet_v2_1.0_224   # TensorFlow; prepares in background
    $ zoo predict cat.jpg --model mobilenet_v2_1.0_224   # the fastest engine, no TensorFlow
"""

from __future__ import annotations

import atexit
import datetime
import hashlib
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

from zoo.files import LockedError, file_lock

ENV = "ZOO_BACKGROUND"
#: Jobs of at least this many images prepare the fast engine first (it pays for itself).
FOREGROUND_FROM = 1000
_scheduled: dict[str, dict[str, Any]] = {}


def enabled() -> bool:
    """Whether small first calls may prepare in the background (``$ZOO_BACKGROUND``, on
    unless ``0``, ``false``, ``no`` or ``off``)."""
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def use_background(request: dict[str, Any] | None, images: int | None) -> bool:
    """True when a call of ``images`` images should answer now and prepare later."""
    return request is not None and enabled() and (images or 0) < FOREGROUND_FROM


def request_key(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:16]


def schedule(request: dict[str, Any]) -> None:
    """Start the preparation of ``request`` when this process exits (once per request)."""
    if not _scheduled:
        atexit.register(_spawn_all)
    _scheduled[request_key(request)] = request


def _spawn_all() -> None:
    for request in _scheduled.values():
        spawn(request)
    _scheduled.clear()


def spawn(request: dict[str, Any]) -> subprocess.Popen:
    """Start ``python -m zoo.background REQUEST``, detached from this process and terminal."""
    return subprocess.Popen(
        [sys.executable, "-m", "zoo.background", json.dumps(request)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
        env={**os.environ, ENV: "0"},  # the preparer itself works in the foreground
    )


def prepare(request: dict[str, Any]) -> str:
    """Export, check and time the engines for ``request`` and remember the fastest; return
    its name. ``request``: ``source`` (a name or run directory), ``output`` (``predictions``
    or a feature stage), ``weights``, and ``input_shape`` / ``trust`` where given."""
    from zoo import registry

    spec = registry.get_spec(request["source"])
    if request["output"] == "predictions":
        from zoo.prediction import predictions_runner

        runner = predictions_runner(
            spec, request["weights"], "auto", trust=request.get("trust", False)
        )
    else:
        from zoo.features import _runner

        shape = request.get("input_shape")
        runner = _runner(
            request["source"], spec, request["output"], request["weights"], "auto",
            tuple(shape) if shape else None, "float32", None, trust=request.get("trust", False),
        )  # fmt: skip
    return runner.name


def log_path() -> Path:
    from zoo.exporter import artefact_dir

    return artefact_dir() / "background.log"


def main(argv: list[str]) -> int:
    from zoo.exporter import artefact_dir

    request = json.loads(argv[0])
    lock = artefact_dir() / f"prepare-{request_key(request)}.lock"
    try:
        with file_lock(lock, wait=False):
            prepare(request)
    except LockedError:
        return 0  # another process is preparing the same thing
    except Exception:  # noqa: BLE001 - nobody is watching: keep the reason for `zoo cache`
        try:
            with open(log_path(), "a") as log:
                stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
                log.write(f"{stamp} {json.dumps(request)}\n{traceback.format_exc()}\n")
        except OSError:
            pass
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
