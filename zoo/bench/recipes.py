"""``zoo bench --recipes``: the phase-2 speed of each fine-tuning recipe on the same images and
model, and the share of each epoch spent augmenting and mixing the batches (is training
input-bound?).

Each row is zoo's own phase-2 epoch loop (``zoo.training.fit_loop.train_epoch``) with that
recipe's unfrozen layers, augmentation and mixing, as ``zoo.fine_tune`` runs it; the rate is the
best of ``repeats`` epochs after a warm-up epoch, and the augmentation share is the time inside
the augmentation and mixing calls over that epoch's time.

Example:
    $ zoo bench --recipes --model mobilenet_v1_0.25_128 --image-size 128 --images 256
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from typing import Any

from zoo.bench.finetune import bench_model

#: (what, unfreeze, augment, mix) per row; the first is zoo 0.1's default, the second today's.
RECIPES = (
    ("zoo 0.1's default: top:20, light augmentation", "top:20", "light", "none"),
    ("today's default: all layers, no augmentation", "all", "none", "none"),
    ("all layers, light", "all", "light", "none"),
    ("all layers, strong", "all", "strong", "none"),
    ("all layers, randaugment", "all", "randaugment", "none"),
    ("all layers, augmix", "all", "augmix", "none"),
    ("all layers, no augmentation, MixUp / CutMix (both)", "all", "none", "both"),
)


class _Timed:
    """``function`` with the seconds spent inside it added up in ``seconds``."""

    def __init__(self, function: Callable[..., Any]):
        self.function, self.seconds = function, 0.0

    def __call__(self, *args):
        started = time.perf_counter()
        result = self.function(*args)
        self.seconds += time.perf_counter() - started
        return result


def _epoch_seconds(network, spec, x, y, batch_size, recipe, repeats) -> tuple[float, float]:
    """The best epoch's (seconds, seconds augmenting and mixing) for one recipe row."""
    from zoo.training import recipe as recipes
    from zoo.training.augmentation import augmenter, mixer
    from zoo.training.fit_loop import epoch_order, train_epoch
    from zoo.training.head import compile_model, phase2_layers, set_trainable

    _, unfreeze, level, mix = recipe
    set_trainable(network, phase2_layers(network, spec, unfreeze, "frozen"))
    soft = mix != "none"
    compile_model(network, 1e-4, loss=recipes.loss(0.0, soft))
    labels = recipes.one_hot(y, network.output_shape[-1]) if soft else y
    augment, mixing = augmenter(level, spec, seed=0), mixer(mix, 0.2, seed=0)
    wrapped = {
        "augment": augment and _Timed(augment),
        "mix": mixing and _Timed(mixing),
    }
    timers = [timer for timer in wrapped.values() if timer is not None]
    order = epoch_order(len(x), 0, 2, 0)
    best = (float("inf"), 0.0)
    for attempt in range(repeats + 1):  # the first is the warm-up (traces the step)
        for timer in timers:
            timer.seconds = 0.0
        started = time.perf_counter()
        train_epoch(network, x, labels, order, batch_size, **wrapped)
        seconds = time.perf_counter() - started
        if attempt and seconds < best[0]:
            best = (seconds, sum(timer.seconds for timer in timers))
    return best


def recipe_bench(
    model: str = "mobilenet_v1_0.25_128",
    *,
    images: int = 256,
    image_size: int | None = 128,
    batch_size: int = 32,
    weights: Any = None,
    repeats: int = 2,
) -> str:
    """A markdown table of phase-2 images/s per recipe, against today's default, with the share
    of time spent augmenting.

    Example:
        >>> print(recipe_bench("mnist_convnet", images=64, repeats=1))
    """
    spec, network, x, y = bench_model(model, images, image_size, weights)
    measured = [
        (recipe[0], *_epoch_seconds(network, spec, x, y, batch_size, recipe, repeats))
        for recipe in RECIPES
    ]
    default_seconds = measured[1][1]
    lines = [
        f"Model `{spec.name}` at {x.shape[1]}x{x.shape[2]}, {images} images, batch {batch_size}, "
        f"BatchNorm frozen, {platform.machine()}, phase 2 only, best of {repeats} epochs after a "
        "warm-up.",
        "",
        "| recipe | images/s | × today's default | share of the epoch augmenting / mixing |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {what} | {images / seconds:.1f} | {default_seconds / seconds:.2f} | "
        f"{100 * augmenting / seconds:.1f} % |"
        for what, seconds, augmenting in measured
    ]
    return "\n".join(lines)
