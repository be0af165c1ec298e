"""``zoo finetune`` (and its report), and run directories in ``zoo list``.

Example:
    $ zoo finetune photos/train --model mobilenet_v2_1.0_224 --out runs/flowers --epochs 5
    $ zoo predict rose.jpg --model runs/flowers
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from zoo import run_dir
from zoo.cli.text import format_params, format_table
from zoo.errors import InputError


def _validation(text: str) -> Any:
    """``--val``: a fraction, ``none``, or validation data (a folder or list)."""
    if text.lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _learning_rate(text: str) -> Any:
    """``--lr``: one rate (the head's; phase 2 takes a tenth), ``HEAD,BODY`` or ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    parts = [float(part) for part in text.split(",")]
    return parts[0] if len(parts) == 1 else tuple(parts)


def add_recipe_flags(sub: argparse.ArgumentParser) -> None:
    """The modern recipe's flags (``zoo.training.recipe``); each left out takes
    ``zoo.fine_tune``'s default (docs/finetuning.md)."""
    recipe = sub.add_argument_group("recipe (defaults: zoo.fine_tune's, docs/finetuning.md)")
    recipe.add_argument("--label-smoothing", type=float, default=None, help="e.g. 0.1; 0: none")
    recipe.add_argument(
        "--mix",
        choices=("none", "mixup", "cutmix", "both"),
        default=None,
        help="MixUp / CutMix of training batches, labels mixed alike",
    )
    recipe.add_argument("--mix-alpha", type=float, default=None, help="MixUp's alpha (0.2)")
    recipe.add_argument(
        "--ema",
        type=float,
        default=None,
        help="momentum of an average of the weights (e.g. 0.99): model.keras keeps the average",
    )
    recipe.add_argument(
        "--layer-decay",
        type=float,
        default=None,
        help="layer-wise rate decay in phase 2 (e.g. 0.9: each layer down, 0.9x the rate)",
    )
    recipe.add_argument("--warmup", type=int, default=None, help="phase-2 warmup epochs (1)")
    recipe.add_argument(
        "--schedule", choices=("constant", "cosine"), default=None, help="default cosine"
    )
    recipe.add_argument(
        "--patience",
        type=int,
        default=None,
        help="stop phase 2 after this many epochs without a better validation accuracy",
    )


def recipe_options(args) -> dict[str, Any]:
    """The recipe flags given (``add_recipe_flags``), as ``zoo.fine_tune`` keywords."""
    names = ("label_smoothing", "mix", "mix_alpha", "ema", "layer_decay", "warmup", "schedule")
    given = {name: getattr(args, name) for name in (*names, "patience")}
    return {name: value for name, value in given.items() if value is not None}


def add_finetune_parser(commands, parents: list[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser(
        "finetune",
        help="fine-tune a model on a folder of labelled images (one sub-folder per class)",
        parents=parents,
        description="Phase 1 trains a new head on the frozen backbone's cached features; "
        "phase 2 unfreezes the backbone at a tenth of the learning rate, warmed up for an "
        "epoch then a cosine, BatchNorm frozen. Run the same command again after a kill: it "
        "resumes.",
    )
    sub.add_argument(
        "data",
        metavar="DATA",
        help="a folder with one sub-folder per class, or a .txt/.csv list of 'path,label'",
    )
    sub.add_argument("--model", required=True, help="base model, e.g. mobilenet_v2_1.0_224")
    sub.add_argument("--out", required=True, help="the run directory to write (or resume)")
    sub.add_argument(
        "--val",
        type=_validation,
        default=0.2,
        help="validation: a fraction held out per class (default 0.2), a folder/list, or none",
    )
    sub.add_argument("--epochs", type=int, default=10, help="phase-2 epochs (default 10)")
    sub.add_argument("--head-epochs", type=int, default=20, help="phase-1 epochs (default 20)")
    sub.add_argument(
        "--unfreeze",
        default="all",
        help="what phase 2 trains: all (default), top:N (top:20), STAGE+ (stage4+), none",
    )
    sub.add_argument("--bn", choices=("frozen", "train"), default="frozen")
    sub.add_argument(
        "--augment",
        choices=("none", "light", "strong", "randaugment", "augmix"),
        default="none",
        help="training-batch augmentation (default none; digits are never flipped)",
    )
    sub.add_argument(
        "--mirror",
        choices=("auto", "on", "off"),
        default="auto",
        help="may photos be mirrored (flips, test-time views)? auto: unless every image is grey",
    )
    add_recipe_flags(sub)
    sub.add_argument(
        "--lr",
        type=_learning_rate,
        default=None,
        help="head learning rate (phase 2: a tenth), HEAD,BODY (default 1e-2,1e-3), or "
        "auto: a range test before each phase (lr_find.png in the run directory)",
    )
    sub.add_argument("--image-size", type=int, default=None, help="ImageNet models: input side")
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument("--class-weight", choices=("balanced",), default=None)
    sub.add_argument("--weights", default="default", help="the base model's weights file")
    sub.add_argument(
        "--strategy",
        choices=("auto", "one", "mirrored", "multiworker"),
        default="auto",
        help="one device; mirrored: every GPU here; multiworker: the TF_CONFIG cluster (the "
        "chief writes --out); auto (default): mirrored with 2+ GPUs. Learning rates are "
        "multiplied by the replicas; --batch-size is global (default 32 per replica)",
    )
    sub.add_argument(
        "--overwrite", action="store_true", help="start again in a run directory that has a run"
    )
    sub.add_argument("--quiet", action="store_true", help="no progress bars")
    sub.set_defaults(handler=cmd_finetune)


def add_probe_parser(commands, parents: list[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser(
        "probe",
        help="which backbone for my data: a linear probe on each model's pooled features",
        parents=parents,
    )
    sub.add_argument("data", metavar="DATA", help="labelled images, as zoo finetune takes them")
    sub.add_argument(
        "--models",
        nargs="+",
        required=True,
        help="registry names and shell patterns, e.g. 'mobilenet_v*' efficientnet_b0",
    )
    sub.add_argument(
        "--val",
        type=_validation,
        default=0.2,
        help="a fraction held out per class (default 0.2) or a validation folder/list",
    )
    sub.add_argument("--out", default="probe", help="folder for probe.csv and probe.png")
    sub.add_argument("--image-size", type=int, default=None, help="ImageNet models: input side")
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.set_defaults(handler=cmd_probe)


def cmd_probe(args) -> int:
    from zoo.training.probe import probe

    if args.val is None:
        raise InputError("zoo probe needs validation images: a fraction or a folder")
    rows = probe(
        args.data,
        args.models,
        validation=args.val,
        out=args.out,
        image_size=args.image_size,
        batch_size=args.batch_size or 64,
        seed=args.seed,
        progress=not args.quiet,
    )
    shown = [
        {
            "model": row["model"],
            "val accuracy": "" if row["accuracy"] is None else f"{row['accuracy']:.2%}",
            "params": "" if row["params"] is None else format_params(row["params"]),
            "features/s": "" if row["features_per_s"] is None else f"{row['features_per_s']:.0f}",
            "seconds": "" if row["seconds"] is None else f"{row['seconds']:.1f}",
            "status": row["status"],
        }
        for row in rows
    ]
    print(
        format_table(shown, ["model", "val accuracy", "params", "features/s", "seconds", "status"])
    )
    print(f"written: {Path(args.out) / 'probe.csv'}")
    return 0


def cmd_finetune(args) -> int:
    from zoo.training.finetune import fine_tune

    run = fine_tune(
        args.model,
        args.data,
        args.out,
        validation=args.val,
        epochs=args.epochs,
        head_epochs=args.head_epochs,
        unfreeze=args.unfreeze,
        bn=args.bn,
        augment=args.augment,
        learning_rate=args.lr,
        image_size=args.image_size,
        batch_size=args.batch_size,
        seed=args.seed,
        class_weight=args.class_weight,
        weights=args.weights,
        strategy=args.strategy,
        overwrite=args.overwrite,
        progress=not args.quiet,
        mirror={"auto": "auto", "on": True, "off": False}[args.mirror],
        **recipe_options(args),
    )
    if run.role != "chief":
        print(f"{run.role}: done (the chief wrote the run directory)")
        return 0
    print(summary(run))
    return 0


def summary(run) -> str:
    """What a finished run printed: classes, skipped files, the best epoch, where it is."""
    counts = ", ".join(f"{name} {count}" for name, count in run.class_counts.items())
    lines = [f"classes ({len(run.labels)}), training images: {counts}"]
    if run.bad_files:
        lines.append(f"skipped {len(run.bad_files)} unreadable files:")
        lines += [f"  {path}: {why}" for path, why in run.bad_files[:10]]
        if len(run.bad_files) > 10:
            lines.append(f"  ... all listed in {run.directory / run_dir.BAD_FILES}")
    best = run.metrics.get("best_epoch") or {}
    accuracy = run.metrics.get("accuracy")
    where = run.metrics.get("evaluated_on", "validation")
    if accuracy is not None:
        lines.append(
            f"{where} accuracy {accuracy:.2%} on {run.metrics['images']} images "
            f"(best epoch: phase {best.get('phase')}, epoch {best.get('epoch')})"
        )
    setup = run_dir.read_run(run.directory).get("distribution") or {}
    if setup.get("replicas", 1) > 1:
        workers = f", {setup['workers']} workers" if setup.get("workers") else ""
        rates = "/".join(f"{rate:g}" for rate in setup["learning_rates"])
        lines.append(
            f"trained on {setup['replicas']} replicas ({setup['strategy']}{workers}): batches "
            f"of {setup['global_batch']}, learning rates {rates} (the given ones times "
            f"{setup['replicas']})"
        )
    stopped = run.metrics.get("stopped_early")
    if stopped:
        lines.append(
            f"stopped early: no better validation accuracy in {stopped['patience']} epochs "
            f"(phase {stopped['phase']}, after epoch {stopped['epoch']})"
        )
    lines.append(f"run directory: {run.directory} (zoo predict IMAGES --model {run.directory})")
    return "\n".join(lines)


def list_runs(folder: str) -> int:
    """``zoo list FOLDER``: the run directories in FOLDER (or FOLDER itself)."""
    root = Path(folder)
    found = (
        [root]
        if run_dir.is_run_dir(root)
        else sorted(child for child in root.iterdir() if run_dir.is_run_dir(child))
    )
    if not found:
        print(f"No fine-tuning run in {folder} (a run holds a run.json).", file=sys.stderr)
        return 1
    rows = []
    for path in found:
        record = run_dir.read_run(path)
        best = record.get("best_epoch") or {}
        rows.append(
            {
                "run": str(path),
                "base": record.get("base_model", ""),
                "classes": len(record.get("spec", {}).get("labels", [])),
                "status": record.get("status", ""),
                "best val acc": f"{best['score']:.2%}" if best.get("score") is not None else "",
            }
        )
    print(format_table(rows, ["run", "base", "classes", "status", "best val acc"]))
    return 0


def add_lr_find_parser(commands, parents: list[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser(
        "lr-find",
        help="the learning-rate range test of a fine-tune, alone: the curves and suggestions",
        parents=parents,
    )
    sub.add_argument("data", metavar="DATA", help="labelled images, as zoo finetune takes them")
    sub.add_argument("--model", required=True, help="base model, e.g. mobilenet_v1_0.25_128")
    sub.add_argument("--out", default="lr_find.png", help="the plot (default lr_find.png)")
    sub.add_argument(
        "--head-epochs", type=int, default=20, help="head epochs before phase 2's test"
    )
    sub.add_argument("--unfreeze", default="all", help="what phase 2 trains (as finetune)")
    sub.add_argument("--image-size", type=int, default=None, help="ImageNet models: input side")
    sub.add_argument("--weights", default="default", help="the base model's weights file")
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument("--quiet", action="store_true", help="no progress bars")
    sub.set_defaults(handler=cmd_lr_find)


def cmd_lr_find(args) -> int:
    from zoo.training.finetune import find_rates

    curves = find_rates(
        args.model,
        args.data,
        args.out,
        head_epochs=args.head_epochs,
        unfreeze=args.unfreeze,
        image_size=args.image_size,
        batch_size=args.batch_size,
        weights=args.weights,
        seed=args.seed,
        progress=not args.quiet,
    )
    for phase, curve in curves.items():
        suggestion = curve["suggestion"]
        shown = "none (the loss never fell)" if suggestion is None else f"{suggestion:.3g}"
        print(f"{phase}: suggested learning rate {shown} ({len(curve['rates'])} steps)")
    print(f"written: {args.out}")
    return 0


def add_parsers(commands, shared) -> None:
    """``zoo finetune``, ``zoo lr-find`` and ``zoo probe``."""
    add_finetune_parser(commands, [shared.offline, shared.batch])
    add_probe_parser(commands, [shared.offline, shared.batch])
    add_lr_find_parser(commands, [shared.offline, shared.batch])
