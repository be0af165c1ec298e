"""Measure fine-tuning recipes on every real data set we have: the table behind zoo.fine_tune's
defaults (docs/finetuning.md, "Choosing the defaults").

Each cell is ``zoo.fine_tune`` from the real MobileNet v1 0.25 128 ImageNet weights
(``../shared/weights/imagenet``) on one data set and one seed, scored on held-out test images
through ``zoo.evaluate`` (the run directory as a user has it). Results are appended to a JSON
lines file, one line a cell, so a killed run goes on where it stopped; the table printed at the
end is the mean over seeds of each (data set, recipe), with its wall time against today's
defaults measured in the same run.

Data sets (written once under ``--work``): the 1,797 optdigits scans at 8×8 and upscaled to
32×32 (two thirds of each class to train, a third to test), and MNIST subsets of 300, 600 and
3,000 training digits as RGB PNG class folders, tested on the first 1,000 test digits.

Example:
    $ python scripts/finetune_recipes.py --recipes today default --seeds 0 1 2
    $ python scripts/finetune_recipes.py --datasets mnist_600 --recipes today ls --seeds 0
    $ python scripts/finetune_recipes.py --recipes today default --seeds 0 --tta 2 6
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
WEIGHTS = SHARED / "weights" / "imagenet" / "mobilenet_2_5_128_tf_no_top.h5"
MODEL = "mobilenet_v1_0.25_128"

#: zoo 0.1's defaults, pinned: the yardstick every candidate is compared with.
TODAY = {
    "epochs": 10,
    "head_epochs": 3,
    "unfreeze": "top:20",
    "augment": "light",
    "learning_rate": (1e-2, 1e-4),
    "label_smoothing": 0.0,
    "mix": "none",
    "ema": None,
    "layer_decay": None,
    "warmup": 0,
    "schedule": "constant",
    "mirror": True,  # zoo 0.1 flipped every photo, digits given to an ImageNet model too
}
#: zoo.fine_tune's defaults since issue 28, spelt out (the ``default`` recipe takes them as they
#: are), for candidates that change one of them.
NEW_DEFAULTS = {
    "head_epochs": 20,
    "unfreeze": "all",
    "augment": "none",
    "schedule": "cosine",
    "warmup": 1,
    "learning_rate": (1e-2, 1e-3),
    "mirror": "auto",
}
RECIPES = {
    "today": {},
    "all": {"unfreeze": "all"},
    "all_ls": {"unfreeze": "all", "label_smoothing": 0.1},
    "all_cos": {"unfreeze": "all", "schedule": "cosine", "warmup": 1},
    "all_ls_cos": {"unfreeze": "all", "label_smoothing": 0.1, "schedule": "cosine", "warmup": 1},
    "all_ls_cos_ema": {
        "unfreeze": "all",
        "label_smoothing": 0.1,
        "schedule": "cosine",
        "warmup": 1,
        "ema": 0.99,
    },
    "all_ls_cos_1e3": {
        "unfreeze": "all",
        "label_smoothing": 0.1,
        "schedule": "cosine",
        "warmup": 1,
        "learning_rate": (1e-2, 1e-3),
    },
    "all_ls_cos_decay": {
        "unfreeze": "all",
        "label_smoothing": 0.1,
        "schedule": "cosine",
        "warmup": 1,
        "learning_rate": (1e-2, 1e-3),
        "layer_decay": 0.9,
    },
    "all_cos_1e3": {
        "unfreeze": "all",
        "schedule": "cosine",
        "warmup": 1,
        "learning_rate": (1e-2, 1e-3),
    },
    "all_cos_3e4": {
        "unfreeze": "all",
        "schedule": "cosine",
        "warmup": 1,
        "learning_rate": (1e-2, 3e-4),
    },
    "all_noaug_cos_1e3": {
        "unfreeze": "all",
        "augment": "none",
        "schedule": "cosine",
        "warmup": 1,
        "learning_rate": (1e-2, 1e-3),
    },
    "h20": {"head_epochs": 20},
    "h20_all_noaug_cos_1e3": {
        "head_epochs": 20,
        "unfreeze": "all",
        "augment": "none",
        "schedule": "cosine",
        "warmup": 1,
        "learning_rate": (1e-2, 1e-3),
    },
    "h20_all_cos_3e4": {
        "head_epochs": 20,
        "unfreeze": "all",
        "schedule": "cosine",
        "warmup": 1,
        "learning_rate": (1e-2, 3e-4),
    },
    "h20_all_noaug_cos_3e4_ls": {
        "head_epochs": 20,
        "unfreeze": "all",
        "augment": "none",
        "schedule": "cosine",
        "warmup": 1,
        "learning_rate": (1e-2, 3e-4),
        "label_smoothing": 0.1,
    },
    "default_ls": {**NEW_DEFAULTS, "label_smoothing": 0.1},
    "default_light": {**NEW_DEFAULTS, "augment": "light"},
    "default_mixup": {**NEW_DEFAULTS, "mix": "mixup"},
    "val10": {"validation": 0.1},
    "noval": {"validation": None},
    "keras_guide": {  # the Keras transfer-learning guide's recipe, as issue 28 ran it by hand
        "head_epochs": 20,
        "epochs": 10,
        "learning_rate": (1e-3, 1e-5),
        "unfreeze": "all",
        "augment": "none",
        "head_dropout": 0.2,
        "validation": None,
    },
    "all_mixup": {"unfreeze": "all", "mix": "mixup", "schedule": "cosine", "warmup": 1},
    "all_randaug": {"unfreeze": "all", "augment": "randaugment", "schedule": "cosine", "warmup": 1},
    "default": None,  # whatever zoo.fine_tune does with no recipe argument (the new defaults)
}


def write_png_folders(images, labels, folder: Path, size: int | None = None) -> None:
    from PIL import Image

    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        target = folder / str(int(label))
        target.mkdir(parents=True, exist_ok=True)
        picture = Image.fromarray(np.asarray(image, dtype=np.uint8)).convert("RGB")
        if size is not None:
            picture = picture.resize((size, size), Image.BICUBIC)
        picture.save(target / f"{index:05d}.png")


def read_optdigits() -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    images, labels = [], []
    for folder in sorted((SHARED / "data" / "optdigits").iterdir()):
        for path in sorted(folder.glob("*.png")):
            images.append(np.asarray(Image.open(path).convert("L")))
            labels.append(int(folder.name))
    return np.stack(images), np.array(labels)


def prepare(work: Path) -> dict[str, tuple[Path, Path]]:
    """(training folder, test folder) per data set, written once."""
    sets = {}
    x, y = read_optdigits()
    test = np.arange(len(y)) % 3 == 0
    for name, size in (("optdigits_8", None), ("optdigits_32", 32)):
        train_dir, test_dir = work / name / "train", work / name / "test"
        if not (work / name / "done").exists():
            write_png_folders(x[~test], y[~test], train_dir, size)
            write_png_folders(x[test], y[test], test_dir, size)
            (work / name / "done").touch()
        sets[name] = (train_dir, test_dir)
    with np.load(SHARED / "data" / "mnist" / "mnist.npz") as mnist:
        x_train, y_train = mnist["x_train"], mnist["y_train"]
        x_test, y_test = mnist["x_test"][:1000], mnist["y_test"][:1000]
    test_dir = work / "mnist_test"
    if not (work / "mnist_test_done").exists():
        write_png_folders(x_test, y_test, test_dir)
        (work / "mnist_test_done").touch()
    for count in (300, 600, 3000):
        name = f"mnist_{count}"
        if not (work / name / "done").exists():
            write_png_folders(x_train[:count], y_train[:count], work / name / "train")
            (work / name / "done").touch()
        sets[name] = (work / name / "train", test_dir)
    return sets


def run_cell(dataset, recipe, seed, folders, work: Path) -> dict:
    import zoo

    train_dir, test_dir = folders
    out = work / "runs" / f"{dataset}-{recipe}-{seed}"
    arguments = {} if RECIPES[recipe] is None else {**TODAY, **RECIPES[recipe]}
    started = time.perf_counter()
    zoo.fine_tune(
        MODEL,
        str(train_dir),
        out,
        weights=str(WEIGHTS),
        seed=seed,
        progress=False,
        overwrite=True,
        **arguments,
    )
    seconds = time.perf_counter() - started
    report = zoo.evaluate(out, str(test_dir), progress=False, out=None)
    return {
        "dataset": dataset,
        "recipe": recipe,
        "seed": seed,
        "accuracy": report["accuracy"],
        "seconds": seconds,
    }


def tta_rows(rows: list[dict], views: list[int], folders, work: Path, done: list[dict]) -> list:
    """Each finished cell's run scored again with each count of test-time views (rows not yet
    in ``done``); appended to ``work/tta.jsonl``."""
    import zoo

    measured = {(r["dataset"], r["recipe"], r["seed"], r["tta"]) for r in done}
    new = []
    for row in rows:
        out = work / "runs" / f"{row['dataset']}-{row['recipe']}-{row['seed']}"
        for count in views:
            key = (row["dataset"], row["recipe"], row["seed"], count)
            if key in measured or not out.exists():
                continue
            test_dir = folders[row["dataset"]][1]
            report = zoo.evaluate(out, str(test_dir), tta=count, progress=False, out=None)
            result = dict(zip(("dataset", "recipe", "seed", "tta"), key, strict=True))
            result["accuracy"] = report["accuracy"]
            new.append(result)
            with (work / "tta.jsonl").open("a") as file:
                file.write(json.dumps(result) + "\n")
            print(json.dumps(result), flush=True)
    return new


def tta_table(rows: list[dict], plain: list[dict]) -> str:
    """Accuracy with no test-time views and with each count measured, per (data set, recipe)."""
    base = {(r["dataset"], r["recipe"], r["seed"]): r["accuracy"] for r in plain}
    counts = sorted({r["tta"] for r in rows})
    cells: dict = {}
    for row in rows:
        cells.setdefault((row["dataset"], row["recipe"]), {}).setdefault(row["tta"], []).append(row)
    lines = [
        "| data set | recipe | seeds | no TTA | " + " | ".join(f"tta={c}" for c in counts) + " |",
        "|---" * (4 + len(counts)) + "|",
    ]
    for (dataset, recipe), by_count in sorted(cells.items()):
        seeds = sorted({r["seed"] for found in by_count.values() for r in found})
        plain_mean = np.mean([base[(dataset, recipe, s)] for s in seeds]) * 100
        parts = [
            f"{np.mean([r['accuracy'] for r in by_count.get(c, [])]) * 100:.1f} %"
            if c in by_count
            else ""
            for c in counts
        ]
        lines.append(
            f"| {dataset} | {recipe} | {len(seeds)} | {plain_mean:.1f} % | "
            + " | ".join(parts)
            + " |"
        )
    return "\n".join(lines)


def table(rows: list[dict], recipes: list[str]) -> str:
    cells: dict = {}
    for row in rows:
        cells.setdefault((row["dataset"], row["recipe"]), []).append(row)
    datasets = sorted({row["dataset"] for row in rows}, key=lambda n: (n[0], len(n), n))
    lines = ["| recipe | " + " | ".join(datasets) + " |", "|---" * (len(datasets) + 1) + "|"]
    for recipe in recipes:
        parts = []
        for dataset in datasets:
            found = cells.get((dataset, recipe), [])
            today = cells.get((dataset, "today"), [])
            if not found:
                parts.append("")
                continue
            accuracy = np.mean([r["accuracy"] for r in found]) * 100
            seconds = np.mean([r["seconds"] for r in found])
            ratio = seconds / np.mean([r["seconds"] for r in today]) if today else float("nan")
            parts.append(f"{accuracy:.1f} % ({len(found)}), {seconds:.0f} s, {ratio:.2f}×")
        lines.append(f"| {recipe} | " + " | ".join(parts) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="/tmp/zoo-recipes", help="data sets, runs, results")
    parser.add_argument("--datasets", nargs="+", default=None, help="default: all five")
    parser.add_argument("--recipes", nargs="+", default=["today", "default"], choices=RECIPES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--table-only", action="store_true", help="print the table and stop")
    parser.add_argument(
        "--tta",
        nargs="+",
        type=int,
        default=None,
        help="instead: score the finished runs of --recipes and --seeds again with these "
        "counts of test-time views (tta.jsonl) and print the gain",
    )
    args = parser.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    results = work / "results.jsonl"
    rows = (
        [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    )
    if args.tta:
        chosen = [r for r in rows if r["recipe"] in args.recipes and r["seed"] in args.seeds]
        if args.datasets:
            chosen = [r for r in chosen if r["dataset"] in args.datasets]
        measured = work / "tta.jsonl"
        done = (
            [json.loads(line) for line in measured.read_text().splitlines()]
            if measured.exists()
            else []
        )
        if not args.table_only:
            done += tta_rows(chosen, args.tta, prepare(work), work, done)
        print(tta_table(done, rows))
        return 0
    if not args.table_only:
        sets = prepare(work)
        chosen = args.datasets or list(sets)
        done = {(r["dataset"], r["recipe"], r["seed"]) for r in rows}
        for seed in args.seeds:  # seeds outermost: recipes side by side under the same load
            for dataset in chosen:
                for recipe in args.recipes:
                    if (dataset, recipe, seed) in done:
                        continue
                    row = run_cell(dataset, recipe, seed, sets[dataset], work)
                    rows.append(row)
                    with results.open("a") as file:
                        file.write(json.dumps(row) + "\n")
                    print(json.dumps(row), flush=True)
    recipes = [r for r in RECIPES if any(row["recipe"] == r for row in rows)]
    print(table(rows, recipes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
