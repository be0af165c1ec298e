"""Transfer learning on the embedded default: the MNIST convnet, fine-tuned on a few hundred
real optdigits digits, next to the same convnet trained from scratch on the same images.

``zoo classics transfer`` (part of ``make demo``) runs it in well under a minute on 2 cores and
writes a few held-out digits as PNGs for ``zoo predict --model RUN_DIR``.

Example:
    >>> rows = run_transfer(Path("runs/optdigits"))
    >>> [(row["model"], round(row["accuracy"], 3)) for row in rows]
    [('mnist_convnet fine-tuned', 0.968), ('mnist_convnet from scratch', 0.816)]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zoo.weights.shipped import PACKAGE_WEIGHTS_DIR

OPTDIGITS_FILE = "optdigits.npz"
#: Training images per class: few, as in a real small fine-tuning job; the rest is held out.
TRAIN_PER_CLASS = 30
SEED = 0
#: Both models get the same number of epochs over the same images.
EPOCHS = 10


def optdigits() -> tuple[np.ndarray, np.ndarray]:
    """The embedded optdigits: x (1797, 8, 8) uint8 0..255, y (1797,) digit labels."""
    with np.load(PACKAGE_WEIGHTS_DIR.parent / OPTDIGITS_FILE) as archive:
        return archive["x"], archive["y"].astype(np.int64)


def split(
    x: np.ndarray, y: np.ndarray, per_class: int, seed: int
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(train, held out): ``per_class`` images of each digit chosen by ``seed``, and the rest."""
    rng = np.random.default_rng(seed)
    chosen = np.concatenate(
        [rng.permutation(np.flatnonzero(y == digit))[:per_class] for digit in range(10)]
    )
    mask = np.zeros(len(y), dtype=bool)
    mask[chosen] = True
    return (x[mask], y[mask]), (x[~mask], y[~mask])


def write_samples(folder: Path, x: np.ndarray, y: np.ndarray, count: int = 5) -> list[Path]:
    """``count`` held-out digits (different classes) as PNGs, upscaled for the eye."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for digit in range(count):
        index = int(np.flatnonzero(y == (digit * 2 + 1) % 10)[0])
        path = folder / f"held_out_{index:04d}_digit{y[index]}.png"
        Image.fromarray(x[index]).resize((64, 64), Image.Resampling.NEAREST).save(path)
        written.append(path)
    return written


def run_transfer(out: Path, progress: bool = False) -> list[dict[str, Any]]:
    """Fine-tune ``mnist_convnet`` (shipped MNIST weights, new 10-way head) and train it from
    random weights, each on the same 300 optdigits images for ``EPOCHS`` epochs; return the
    held-out accuracy of both. Runs finished before are read back, not retrained."""
    from zoo.training.finetune import fine_tune

    train, held = split(*optdigits(), TRAIN_PER_CLASS, SEED)
    common = {
        "validation": held,
        "augment": "none",
        "schedule": "constant",  # the recipe the deck's comparison was measured with
        "warmup": 0,
        "seed": SEED,
        "progress": progress,
    }
    tuned = fine_tune(
        "mnist_convnet",
        train,
        out / "fine-tuned",
        head_epochs=5,
        epochs=EPOCHS - 5,
        unfreeze="all",
        learning_rate=(1e-2, 1e-4),
        **common,
    )
    scratch = fine_tune(
        "mnist_convnet",
        train,
        out / "from-scratch",
        weights=None,
        head_epochs=0,
        epochs=EPOCHS,
        unfreeze="all",
        learning_rate=(1e-3, 1e-3),
        **common,
    )
    write_samples(out / "held-out", *held)
    return [
        {
            "model": f"mnist_convnet {how}",
            "weights": weights,
            "train images": len(train[1]),
            "held-out images": run.metrics["images"],
            "accuracy": run.metrics["accuracy"],
            "run": str(run.directory),
        }
        for how, weights, run in (
            ("fine-tuned", "MNIST (shipped), new head", tuned),
            ("from scratch", "random", scratch),
        )
    ]
