"""``zoo export``: a model or a run directory as a file a runtime loads, with its parity report.

Example:
    $ zoo export runs/flowers --format litert --quantize int8 --calibration photos/ --out f.tflite
"""

from __future__ import annotations

import argparse

from zoo.cli.common import WEIGHTS_HELP
from zoo.cli.text import format_table

#: the --weights help of every command that loads a registry model


def add_export_parser(commands, parents: list[argparse.ArgumentParser]) -> None:
    from zoo.exporting.formats import FORMATS, QUANTIZATIONS

    sub = commands.add_parser(
        "export",
        help="export a model or a run directory (keras, savedmodel, litert, onnx), checked",
        parents=parents,
        description="The artefact takes raw pixels and returns probabilities; it is compared "
        "with the Keras model on sample images and kept only if they agree.",
    )
    sub.add_argument(
        "source", metavar="SRC", help="a registry name, a run directory or a .keras file"
    )
    sub.add_argument("--format", choices=FORMATS, required=True)
    sub.add_argument("--out", required=True, help="the artefact's path (a folder: savedmodel)")
    sub.add_argument("--quantize", choices=QUANTIZATIONS, default=None, help="LiteRT only")
    sub.add_argument("--calibration", default=None, help="images int8 calibrates on")
    sub.add_argument("--samples", default=None, help="images the parity check runs on")
    sub.add_argument(
        "--min-agreement",
        type=float,
        default=None,
        help="least top-1 agreement with Keras to keep it (default 0.99; int8 0.95)",
    )
    sub.add_argument("--weights", default="default", help=WEIGHTS_HELP)
    sub.add_argument(
        "--input-size",
        type=_size,
        default=None,
        metavar="N|HxW",
        help="photo models: the artefact takes pixels of this size and resizes them in-graph",
    )
    sub.add_argument(
        "--trust", action="store_true", help="load a .keras file that carries code (Lambda)"
    )
    sub.set_defaults(handler=cmd_export)


def _size(text: str) -> int | tuple[int, int]:
    """``224`` -> 224, ``192x256`` -> (192, 256)."""
    try:
        parts = [int(part) for part in text.lower().split("x")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or HxW, received {text!r}") from None
    if len(parts) not in (1, 2) or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"expected N or HxW, received {text!r}")
    return parts[0] if len(parts) == 1 else (parts[0], parts[1])


def cmd_export(args) -> int:
    from zoo.exporting.artefact import export

    result = export(
        args.source,
        args.out,
        format=args.format,
        quantize=args.quantize,
        calibration=args.calibration,
        samples=args.samples,
        min_agreement=args.min_agreement,
        weights=args.weights,
        trust=args.trust,
        input_size=args.input_size,
    )
    parity = result.parity
    for warning in parity["warnings"]:
        print(f"warning: {warning}")
    row = {
        "artefact": str(result.path),
        "images": parity["images"],
        "top-1": f"{parity['top1_agreement']:.1%}",
        "top-5": f"{parity['top5_agreement']:.1%}",
        "max abs diff": f"{parity['max_abs_difference']:.2g}",
        "MB": f"{parity['bytes'] / 2**20:.2f}",
        "latency ms": f"{parity['latency_ms']:.2f}",
    }
    print(format_table([row], list(row)))
    print(f"parity report: {result.path}.parity.json; labels: {result.path}.labels.txt")
    return 0


def add_parsers(commands, shared) -> None:
    """``zoo export``."""
    add_export_parser(commands, [shared.offline])
