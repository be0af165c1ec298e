"""Prepare a model's fast runtime in a detached process, so that a first call is not slower
than TensorFlow.

``runtime="auto"`` exports a model for ONNX Runtime and LiteRT, checks and times each engine, and
remembers the fastest (``zoo.engines.runtimes``); that costs seconds the first time. For a small job
(fewer than ``FOREGROUND_FROM`` images) a call with nothing remembered yet answers with TensorFlow
and, as it exits, starts ``python -m zoo.inference.preparer REQUEST`` in a new session, as git
starts its auto-gc: that process does the exporting and timing while the user goes on, and the next
call runs the engine it chose without importing TensorFlow (``zoo.inference.preparer`` is that
process). A lock per request makes a second preparer of the same thing exit at once; failures go to
``background.log`` beside the artefacts. ``ZOO_BACKGROUND=0`` turns it off (prepare in the
foreground, as before).

Example:
    $ zoo predict cat.jpg --model mobilenet_v2_1.0_224   # TensorFlow; prepares in background
    $ zoo predict cat.jpg --model mobilenet_v2_1.0_224   # the fastest engine, no TensorFlow
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def request(
    source: Any, output: str, weights: Any, input_shape=None, trust: bool = False
) -> dict[str, Any]:
    """What a detached process needs to rebuild a model output: the name or path the user
    gave, the output, the weights (a path as text), and the input shape and trust when set."""
    found = {
        "source": str(source),
        "output": output,
        "weights": str(weights) if isinstance(weights, Path) else weights,
    }
    found |= {"input_shape": list(input_shape)} if input_shape else {}
    return found | ({"trust": True} if trust else {})


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
    """Start ``python -m zoo.inference.preparer REQUEST``, detached from this process and its
    terminal."""
    return subprocess.Popen(
        [sys.executable, "-m", "zoo.inference.preparer", json.dumps(request)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
        env={**os.environ, ENV: "0"},  # the preparer itself works in the foreground
    )


def log_path() -> Path:
    """Where a preparer that failed writes why."""
    from zoo.engines.conversion import artefact_dir

    return artefact_dir() / "background.log"


def lock_path(request: dict[str, Any]) -> Path:
    """The lock a preparer of ``request`` holds while it works."""
    from zoo.engines.conversion import artefact_dir

    return artefact_dir() / f"prepare-{request_key(request)}.lock"
