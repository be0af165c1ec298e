"""``zoo tune`` (hyperparameter search for a fine-tune) and ``zoo classics tune`` (for a
classic MNIST model), on keras-tuner (``pip install 'keras-zoo[tune]'``).

    $ zoo tune photos/ --model mobilenet_v2_1.0_224 --search bayesian --trials 12 --out runs/s
    $ zoo classics tune mlp_625 --search grid --trials 36 --epochs 3 --out runs/tune-mlp
"""

from __future__ import annotations

import argparse

from zoo.cli.training import add_recipe_flags, recipe_options

SEARCH_HELP = (
    "grid (every combination, in order), random, bayesian (a Gaussian process; needs "
    "scikit-learn) or hyperband (many short trials, the best trained longer); default random"
)


def _common(sub: argparse.ArgumentParser, out: str, epochs_help: str) -> None:
    sub.add_argument("--search", default="random", help=SEARCH_HELP)
    sub.add_argument("--trials", type=int, default=10, help="the most trials (default 10)")
    sub.add_argument("--epochs", type=int, default=3, help=epochs_help)
    sub.add_argument("--out", default=out, help=f"the search folder (default {out}; resumable)")
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument(
        "--overwrite", action="store_true", help="start again where --out holds another search"
    )


def add_tune_parser(commands, parents: list[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser(
        "tune",
        help="search a fine-tune's learning rates, head dropout, unfreeze depth, augmentation",
        parents=parents,
        description="Each trial is a zoo finetune run in OUT/trials/; the best is copied to "
        "OUT/best. The backbone's features are computed once and shared by every trial. Run "
        "the same command again after a kill: finished trials are kept.",
    )
    sub.add_argument("data", metavar="DATA", help="labelled images, as zoo finetune takes them")
    sub.add_argument("--model", required=True, help="base model, e.g. mobilenet_v2_1.0_224")
    _common(sub, "runs/tune", "phase-2 epochs per trial (head-only: head epochs); default 3")
    sub.add_argument("--head-epochs", type=int, default=3, help="head epochs per trial (3)")
    sub.add_argument(
        "--head-only",
        action="store_true",
        help="search the head's learning rate and dropout only, backbone frozen (fast)",
    )
    sub.add_argument("--val", default=0.2, type=float, help="validation fraction (default 0.2)")
    sub.add_argument("--image-size", type=int, default=None, help="ImageNet models: input side")
    sub.add_argument("--weights", default="default", help="the base model's weights file")
    add_recipe_flags(sub)
    sub.set_defaults(handler=cmd_tune)


def add_classics_tune_parser(classic_commands) -> None:
    sub = classic_commands.add_parser(
        "tune", help="search a classic MNIST model's hidden width, dropout and learning rate"
    )
    sub.add_argument("model", metavar="NAME", help="mlp_625, modern_mlp, mnist_convnet, ...")
    _common(sub, "runs/tune-classic", "epochs per trial (default 3)")
    sub.add_argument("--limit", type=int, help="train on the first N training images only")
    sub.add_argument("--data", help="mnist.npz (default: Keras' cache)")
    sub.set_defaults(handler=cmd_classics_tune)


def cmd_tune(args) -> int:
    from zoo.training.tune import tune

    result = tune(
        args.model,
        args.data,
        args.out,
        head_epochs=args.head_epochs,
        head_only=args.head_only,
        validation=args.val,
        image_size=args.image_size,
        batch_size=args.batch_size,
        weights=args.weights,
        recipe=recipe_options(args) or None,
        **_search_options(args),
    )
    print(report(result))
    return 0


def cmd_classics_tune(args) -> int:
    from zoo.classics import mnist_data
    from zoo.classics.tune import check_arguments, tune_classic

    check_arguments(args.model, args.search, args.trials, args.epochs, args.limit)
    data = mnist_data.load(args.data)
    result = tune_classic(args.model, data, args.out, limit=args.limit, **_search_options(args))
    print(report(result))
    return 0


def _search_options(args) -> dict:
    """The options both commands take, as ``zoo.tune`` and ``tune_classic`` name them."""
    return {
        "search": args.search,
        "trials": args.trials,
        "epochs": args.epochs,
        "seed": args.seed,
        "overwrite": args.overwrite,
    }


def report(result) -> str:
    """The trials as a table, best first, and where the files are."""
    from zoo.cli.text import format_table

    rows = sorted(result.trials, key=lambda r: -1.0 if r["score"] is None else -r["score"])
    shown = [
        {
            "trial": row["trial"],
            **{name: str(value) for name, value in row["values"].items()},
            "epochs": row["epochs"],
            "score": "" if row["score"] is None else f"{row['score']:.4f}",
            "seconds": row["seconds"],
        }
        for row in rows
    ]
    columns = ["trial", *(rows[0]["values"] if rows else []), "epochs", "score", "seconds"]
    lines = [format_table(shown, columns)]
    lines.append("files: " + ", ".join(str(path) for path in result.search.files))
    if result.best_run is not None:
        lines.append(
            f"best: trial {result.best['trial']} (validation accuracy {result.best['score']:.2%})"
            f", run directory {result.best_run} (zoo predict IMAGES --model {result.best_run})"
        )
    return "\n".join(lines)


def add_parsers(commands, shared) -> None:
    """``zoo tune`` (``zoo classics tune`` is added by ``zoo.cli.classics``)."""
    add_tune_parser(commands, [shared.offline, shared.batch])
