"""``zoo evaluate``: a classifier on labelled images, with the confusion matrix, the most
confused pairs and the top-losses gallery.

Example:
    $ zoo evaluate runs/digits digits/test --out runs/digits/evaluation
    $ zoo evaluate mnist_convnet digits/ --tta 4 --json
"""

from __future__ import annotations

import argparse

from zoo.cli.common import WEIGHTS_HELP, SharedFlags, print_json
from zoo.cli.text import format_table


def add_parsers(commands, shared: SharedFlags) -> None:
    """``zoo evaluate`` and ``zoo explain``."""
    _add_evaluate(commands, shared)
    _add_explain(commands, shared)


def _add_explain(commands, shared: SharedFlags) -> None:
    sub = commands.add_parser(
        "explain",
        help="Grad-CAM: where in an image the class comes from, as a heat map PNG",
        parents=[shared.offline],
    )
    sub.add_argument("image", metavar="IMAGE", help="an image file")
    sub.add_argument("--model", required=True, help="registry name, run directory or .keras file")
    sub.add_argument("--class", dest="class_index", default=None, help="index or label (top-1)")
    sub.add_argument("--stage", default=None, help="feature stage (default: the last map)")
    sub.add_argument("--out", default="heat.png", help="the PNG to write (default heat.png)")
    sub.add_argument("--weights", default="default", help=WEIGHTS_HELP)
    sub.add_argument("--trust", action="store_true", help="load a model file that carries code")
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=cmd_explain)


def cmd_explain(args: argparse.Namespace) -> int:
    from zoo.evaluation.gradcam import explain

    result = explain(
        args.image,
        args.model,
        class_index=args.class_index,
        stage=args.stage,
        out=args.out,
        weights=args.weights,
        trust=args.trust,
    )
    result.pop("heatmap")
    if args.json:
        print_json(result)
        return 0
    print(
        f"{args.image}: class {result['label']} (p={result['probability']:.3f}), Grad-CAM on "
        f"{result['stage']}, peak at row {result['peak'][0]}, column {result['peak'][1]}"
    )
    print(f"written: {result['out']}")
    return 0


def _add_evaluate(commands, shared: SharedFlags) -> None:
    """``zoo evaluate``."""
    sub = commands.add_parser(
        "evaluate",
        help="accuracy, per-class F1, confusion matrix and top losses on labelled images",
        parents=[shared.offline],
    )
    sub.add_argument("model", metavar="MODEL", help="registry name, run directory or .keras file")
    sub.add_argument(
        "data", metavar="DATA", help="a folder with one sub-folder per class, or a path,label list"
    )
    sub.add_argument(
        "--out",
        default="evaluation",
        help="folder for evaluation.json, confusion.png, top_losses.png (default ./evaluation)",
    )
    sub.add_argument("--tta", type=int, default=0, help="test-time views to average (default 0)")
    sub.add_argument(
        "--top-losses", type=int, default=16, help="worst images kept and shown (default 16)"
    )
    sub.add_argument("--weights", default="default", help=WEIGHTS_HELP)
    sub.add_argument("--trust", action="store_true", help="load a model file that carries code")
    sub.add_argument("--json", action="store_true", help="print the whole report as JSON")
    sub.add_argument("--quiet", action="store_true", help="no progress bars")
    sub.set_defaults(handler=cmd_evaluate)


def _percent(value) -> str:
    return "" if value is None else f"{value:.1%}"


def cmd_evaluate(args: argparse.Namespace) -> int:
    from zoo.evaluation.evaluate import evaluate

    report = evaluate(
        args.model,
        args.data,
        out=args.out,
        tta=args.tta,
        top_losses=args.top_losses,
        weights=args.weights,
        trust=args.trust,
        progress=not (args.quiet or args.json),
    )
    if args.json:
        print_json(report)
        return 0
    views = f", {report['tta']} test-time views" if report["tta"] > 1 else ""
    print(
        f"{report['model']}: accuracy {report['accuracy']:.2%} on {report['images']} images{views}"
    )
    rows = [
        {
            "class": name,
            "precision": _percent(row["precision"]),
            "recall": _percent(row["recall"]),
            "f1": _percent(row["f1"]),
            "support": row["support"],
        }
        for name, row in report["per_class"].items()
    ]
    print(format_table(rows, ["class", "precision", "recall", "f1", "support"]))
    if report["most_confused"]:
        pairs = ", ".join(f"{t} as {p} ({n})" for t, p, n in report["most_confused"][:5])
        print(f"most confused: {pairs}")
    if report["bad_files"]:
        print(f"skipped {len(report['bad_files'])} unreadable files:")
        for path, why in report["bad_files"][:10]:
            print(f"  {path}: {why}")
    if report["written"]:
        print(f"written in {args.out}: {', '.join(report['written'])}")
    return 0
