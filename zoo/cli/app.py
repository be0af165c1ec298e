"""The ``zoo`` command put together: every command group adds its own sub-parsers, and
``main`` turns zoo's errors into one ``zoo: error:`` line and an exit status.

Flags default to None and fall back to the model's spec. ``zoo --help``, ``zoo list`` and
``zoo info`` import neither TensorFlow nor Beam.

Example:
    $ zoo list --dataset mnist
    $ zoo predict digit.png --model mnist_convnet --top 3 --json
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence

from zoo.cli import (
    bench,
    classics,
    evaluation,
    export,
    inference,
    models,
    serve,
    training,
    tune,
    weights,
)
from zoo.cli.common import shared_flags
from zoo.errors import Preempted, ZooError, ZooWarning
from zoo.version import __version__

#: Exit status after a preemption signal stopped training with its checkpoint saved: 128 +
#: SIGTERM, as a shell reports a process SIGTERM ended (a cluster manager restarts it).
PREEMPTED_EXIT = 143

#: The command groups, in the order ``zoo --help`` lists their commands.
GROUPS = (models, inference, evaluation, training, tune, export, serve, bench, weights, classics)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo",
        description="keras-zoo: classic and pretrained Keras models behind one interface.",
    )
    parser.add_argument("--version", action="version", version=f"keras-zoo {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    shared = shared_flags()
    for group in GROUPS:
        group.add_parsers(commands, shared)
    return parser


def _format_warning(message, category, filename, lineno, line=None) -> str:
    """zoo's own warnings as one ``zoo: warning:`` line; others as Python prints them."""
    if issubclass(category, ZooWarning):
        return f"zoo: warning: {message}\n"
    return _python_format_warning(message, category, filename, lineno, line)


_python_format_warning = warnings.formatwarning


def main(argv: Sequence[str] | None = None) -> int:
    warnings.formatwarning = _format_warning
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and (
        getattr(args, "engine", None) != "beam" or any(not a.startswith("--") for a in extra)
    ):  # Beam's options are --flag or --flag=value; anything else is a mistake to say
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pipeline_options = extra  # Beam's own --flag=value options, for --engine beam
    if getattr(args, "offline", False):
        os.environ["ZOO_OFFLINE"] = "1"
    try:
        code = args.handler(args)
        sys.stdout.flush()  # inside the try: a closed pipe is reported here, not at exit
        return code
    except Preempted as error:
        print(f"zoo: {error}", file=sys.stderr)
        return PREEMPTED_EXIT
    except ZooError as error:
        print(f"zoo: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `zoo list | head`: the reader has gone; stop quietly like ls
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the exit-time flush cannot fail again
        return 141  # 128 + SIGPIPE, as a shell reports it


if __name__ == "__main__":
    sys.exit(main())
