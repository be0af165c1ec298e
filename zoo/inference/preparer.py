"""``python -m zoo.inference.preparer REQUEST``: the detached process that
``zoo.engines.background`` starts.

It exports, checks and times the engines for one model output and remembers the fastest
(``runtime="auto"`` in the foreground), under a lock per request: a second preparer of the same
thing exits at once. Nobody watches it, so a failure is written to ``background.log``.

Example:
    $ python -m zoo.inference.preparer \
        '{"source": "mnist_convnet", "output": "pooled", "weights": null}'
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

from zoo.engines.background import lock_path, log_path
from zoo.files import LockedError, file_lock, utc_now


def prepare(request: dict[str, Any]) -> str:
    """Export, check and time the engines for ``request`` and remember the fastest; return
    its name. ``request``: ``source`` (a name or run directory), ``output`` (``predictions``
    or a feature stage), ``weights``, and ``input_shape`` / ``trust`` where given."""
    from zoo import registry

    spec = registry.get_spec(request["source"])
    if request["output"] == "predictions":
        from zoo.inference.prediction import predictions_runner

        runner = predictions_runner(
            spec, request["weights"], "auto", trust=request.get("trust", False)
        )
    else:
        from zoo.inference.features import features_runner

        shape = request.get("input_shape")
        runner = features_runner(
            request["source"], spec, request["output"], request["weights"], "auto",
            tuple(shape) if shape else None, "float32", None, trust=request.get("trust", False),
        )  # fmt: skip
    return runner.name


def main(argv: list[str]) -> int:
    request = json.loads(argv[0])
    try:
        with file_lock(lock_path(request), wait=False):
            prepare(request)
    except LockedError:
        return 0  # another process is preparing the same thing
    except Exception:  # noqa: BLE001 - nobody is watching: keep the reason for `zoo cache`
        try:
            with open(log_path(), "a") as log:
                stamp = utc_now()
                log.write(f"{stamp} {json.dumps(request)}\n{traceback.format_exc()}\n")
        except OSError:
            pass
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
