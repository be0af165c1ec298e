"""What several ``zoo`` commands share: their common flags, defined once as argparse parent
parsers, and JSON output.

Example:
    >>> shared = shared_flags()
    >>> sub = commands.add_parser("predict", parents=[shared.offline, shared.runtime])
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

WEIGHTS_HELP = "'default' (shipped or cached, verified), 'none' (random) or a .weights.h5 path"


@dataclass(frozen=True)
class SharedFlags:
    """The parent parsers of the flags several commands take."""

    offline: argparse.ArgumentParser
    runtime: argparse.ArgumentParser
    batch: argparse.ArgumentParser
    scale: argparse.ArgumentParser


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2))


def shared_flags() -> SharedFlags:
    """Flags several commands take, each defined once (argparse parent parsers)."""
    return SharedFlags(
        offline=_offline_flags(),
        runtime=_runtime_flags(),
        batch=_batch_flags(),
        scale=_scale_flags(),
    )


def _offline_flags() -> argparse.ArgumentParser:
    offline = argparse.ArgumentParser(add_help=False)
    offline.add_argument(
        "--offline", action="store_true", help="never download (same as ZOO_OFFLINE=1)"
    )
    return offline


def _batch_flags() -> argparse.ArgumentParser:
    batch = argparse.ArgumentParser(add_help=False)
    batch.add_argument(
        "--batch-size", type=int, default=None, help="images per forward pass (default 32)"
    )
    return batch


def _runtime_flags() -> argparse.ArgumentParser:
    runtime = argparse.ArgumentParser(add_help=False)
    runtime.add_argument(
        "--runtime",
        choices=("auto", "tf", "onnx", "litert"),
        default=None,
        help="inference engine; auto (default, or $ZOO_RUNTIME) picks the fastest installed "
        "for this model on this machine, measured once",
    )
    runtime.add_argument(
        "--precision",
        choices=("float32", "int8"),
        default=None,
        help="int8: the calibrated int8 LiteRT model, checked against float32 before its first "
        "use and cached (faster on CPUs; needs the fast extra)",
    )
    runtime.add_argument(
        "--calibration",
        metavar="SRC",
        help="with --precision int8: images (a folder, glob or .txt list) to calibrate on, "
        "half of them, and check on, the other half (default: zoo's own sample images)",
    )
    return runtime


def _scale_flags() -> argparse.ArgumentParser:
    scale = argparse.ArgumentParser(add_help=False)
    scale.add_argument(
        "--engine",
        choices=("local", "beam"),
        default="local",
        help="local (default): this process; beam: an Apache Beam pipeline writing shards to "
        "--out (a folder; a rerun skips finished shards; needs the beam extra). Beam's own "
        "--flag=value pipeline options may follow",
    )
    scale.add_argument(
        "--runner",
        choices=("direct", "prism", "flink", "spark", "dataflow"),
        default="direct",
        help="with --engine beam: the Beam runner (default direct: workers on this machine, as "
        "threads; --direct_running_mode=multi_processing makes them processes)",
    )
    scale.add_argument(
        "--workers", type=int, default=None, help="with --engine beam: workers (default: cores)"
    )
    scale.add_argument(
        "--shard-size",
        type=int,
        default=None,
        help="with --engine beam: images per output shard (default: about 16 shards, 32 to 1000 "
        "images each)",
    )
    scale.add_argument(
        "--merge",
        metavar="DIR",
        help="join the shards of an --engine beam run in DIR into one --out file, in order",
    )
    return scale
