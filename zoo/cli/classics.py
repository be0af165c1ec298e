"""``zoo classics``: the deck's classic models (the MNIST table, retraining the shipped
weights, the optimizers compared, the backpropagation example, Prewitt, transfer learning on
optdigits, and the search of ``zoo classics tune``).

Example:
    $ zoo classics table --data ../shared/data/mnist/mnist.npz
    $ zoo classics backprop --json
"""

from __future__ import annotations

from pathlib import Path

from zoo.cli.common import SharedFlags, print_json
from zoo.cli.text import format_table
from zoo.cli.tune import add_classics_tune_parser


def add_parsers(commands, shared: SharedFlags) -> None:
    """``zoo classics`` and its sub-commands."""
    classics = commands.add_parser("classics", help="the deck's classic models")
    classic_commands = classics.add_subparsers(
        dest="classics_command", metavar="COMMAND", required=True
    )
    sub = classic_commands.add_parser("table", help="the deck's MNIST table next to ours")
    sub.add_argument(
        "names", nargs="*", metavar="NAME",
        help="the rows to show (default: every MNIST model; measuring mnist_committee takes "
        "the longest)",
    )  # fmt: skip
    sub.add_argument("--data", help="mnist.npz (default: Keras' cache)")
    sub.add_argument(
        "--recorded",
        action="store_true",
        help="show the figures recorded at training instead of measuring",
    )
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=cmd_classics_table)
    _add_training(classic_commands)
    add_classics_tune_parser(classic_commands)
    _add_demonstrations(classic_commands)


def _add_training(classic_commands) -> None:
    """``zoo classics train`` and ``zoo classics optimizers``."""
    sub = classic_commands.add_parser("train", help="retrain the shipped weights from MNIST")
    sub.add_argument(
        "names", nargs="*", metavar="NAME",
        help="default: all trainable classics but mnist_committee (hours on a CPU: name it)",
    )  # fmt: skip
    sub.add_argument("--data", help="mnist.npz (default: Keras' cache)")
    sub.add_argument("--out", default="classics-weights", help="output folder")
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument("--epochs", type=int, help="override each recipe's epochs")
    sub.add_argument("--limit", type=int, help="train on the first N training images only")
    sub.add_argument(
        "--jobs", type=int, default=1,
        help="mnist_committee: members trained at once, in worker processes (default 1; "
        "more on a GPU or a many-core machine)",
    )  # fmt: skip
    sub.add_argument("--verbose", action="store_true", help="one line per epoch")
    sub.set_defaults(handler=cmd_classics_train)

    sub = classic_commands.add_parser(
        "optimizers", help="the deck's optimization methods on one classic model, compared"
    )
    sub.add_argument("--model", default="modern_mlp", help="default modern_mlp")
    sub.add_argument("--epochs", type=int, default=10, help="epochs per optimizer (default 10)")
    sub.add_argument("--limit", type=int, help="train on the first N training images only")
    sub.add_argument(
        "--optimizers",
        help="comma-separated subset of sgd,momentum,nesterov,adagrad,adadelta,rmsprop,adam,"
        "adamw,lion (default: all)",
    )
    sub.add_argument("--data", help="mnist.npz (default: Keras' cache)")
    sub.add_argument("--out", default="runs/optimizers", help="output folder")
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument(
        "--overwrite", action="store_true", help="replace a comparison with other settings in --out"
    )
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=cmd_classics_optimizers)


def _add_demonstrations(classic_commands) -> None:
    """``zoo classics backprop``, ``transfer`` and ``prewitt``."""
    sub = classic_commands.add_parser("backprop", help="the step-by-step backpropagation example")
    sub.add_argument("--steps", type=int, default=1, help="SGD updates to run (default 1)")
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=cmd_classics_backprop)

    sub = classic_commands.add_parser(
        "transfer",
        help="fine-tune the MNIST convnet on the embedded optdigits vs training it from scratch",
    )
    sub.add_argument("--out", default="runs/optdigits", help="folder of the two run directories")
    sub.add_argument("--quiet", action="store_true", help="no progress bars")
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=cmd_classics_transfer)

    sub = classic_commands.add_parser("prewitt", help="Prewitt edge detection of an image")
    sub.add_argument("image")
    sub.add_argument("--out", help="output PNG (default: IMAGE_edges.png)")
    sub.set_defaults(handler=cmd_classics_prewitt)


def cmd_classics_table(args) -> int:
    from zoo.classics.table import format_markdown, rows

    table, source = rows(args.data, measure=not args.recorded, names=args.names)
    if args.json:
        print_json({"source": source, "rows": table})
    else:
        print(format_markdown(table, source))
    return 0


def cmd_classics_train(args) -> int:
    from zoo.classics.train import train

    train(
        args.names,
        out_dir=args.out,
        data_path=args.data,
        seed=args.seed,
        epochs=args.epochs,
        limit=args.limit,
        jobs=args.jobs,
        verbose=2 if args.verbose else 0,
    )
    print(f"weights and results.json written to {args.out}")
    return 0


def cmd_classics_optimizers(args) -> int:
    from zoo.classics import mnist_data
    from zoo.classics.optimizers import check_arguments, compare, format_markdown

    names = [name.strip() for name in args.optimizers.split(",")] if args.optimizers else None
    check_arguments(args.model, args.epochs, args.limit, names)  # before reading MNIST
    rows = compare(
        args.model,
        mnist_data.load(args.data),
        args.out,
        epochs=args.epochs,
        limit=args.limit,
        names=names,
        seed=args.seed,
        overwrite=args.overwrite,
        log=(lambda line: None) if args.json else print,
    )
    if args.json:
        print_json(rows)
    else:
        print(format_markdown(rows))
        print(f"curves: {Path(args.out) / 'optimizers.png'}, table: optimizers.csv")
    return 0


def cmd_classics_backprop(args) -> int:
    from zoo.classics.backprop import format_report, run

    report = run(args.steps)
    if args.json:
        print_json(report)
    else:
        print(format_report(report))
    return 0


def cmd_classics_transfer(args) -> int:
    from zoo.classics.transfer import run_transfer

    rows = run_transfer(Path(args.out), progress=not args.quiet)
    if args.json:
        print_json(rows)
        return 0
    shown = [{**row, "accuracy": f"{row['accuracy']:.2%}"} for row in rows]
    print(
        "Transfer learning on 300 real handwritten digits (optdigits, 8x8 scans, 30 per "
        f"class), {rows[0]['held-out images']} held out:"
    )
    print(format_table(shown, ["model", "weights", "train images", "accuracy", "run"]))
    print(f"held-out samples: {Path(args.out) / 'held-out'}")
    return 0


def cmd_classics_prewitt(args) -> int:
    from zoo.classics.prewitt import write_edges

    out = args.out or Path(args.image).with_name(Path(args.image).stem + "_edges.png")
    stats = write_edges(args.image, out)
    print(
        f"edges of {args.image} written to {out} ({stats['width']}x{stats['height']}, "
        f"strongest response {stats['max_response']:.1f})"
    )
    return 0
