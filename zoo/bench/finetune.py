"""``zoo bench --finetune``: the speed of fine-tuning's two phases, side by side in one run.

On the same in-memory images and the same model: a head epoch through the frozen backbone
against a head epoch on cached pooled features (and the one-off cost of computing them), and
zoo's phase-2 epoch loop (``train_on_batch`` in an order drawn from (seed, epoch), so that a
resumed epoch replays) against plain ``model.fit`` on in-memory tensors, the best this
machine's Keras does. Each rate is the best of ``repeats`` epochs after a warm-up epoch.

Example:
    $ zoo bench --finetune --model mobilenet_v2_1.0_224 --image-size 160 --images 256
"""

from __future__ import annotations

import platform
import time
from typing import Any

import numpy as np

from zoo import registry
from zoo.backend import quiet_tensorflow

CLASSES = 5


def _best_rate(run_epoch, images: int, repeats: int) -> float:
    run_epoch()  # warm-up: traces the train function
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run_epoch()
        best = min(best, time.perf_counter() - started)
    return images / best


def finetune_bench(
    model: str = "mobilenet_v2_1.0_224",
    *,
    images: int = 256,
    image_size: int | None = 160,
    batch_size: int = 32,
    weights: Any = None,
    repeats: int = 3,
) -> str:
    """A markdown table of images/s for each way of running the two phases, with the ratios
    the targets are about.

    Example:
        >>> print(finetune_bench("mnist_convnet", images=128, repeats=1))
    """
    spec, network, x, y = bench_model(model, images, image_size, weights)
    shape = x.shape[1:]
    through_rate, cached_rate, extract_rate = _head_rates(network, x, y, batch_size, repeats)
    ours_rate, fit_rate = _phase2_rates(network, spec, x, y, batch_size, repeats)
    rows = [
        ("head epoch through the frozen backbone", through_rate, "1.0"),
        ("head epoch on cached pooled features", cached_rate, f"{cached_rate / through_rate:.1f}"),
        ("pooled features computed once, Keras (the cached path's one-off cost)", extract_rate, ""),
        ("phase 2, plain model.fit on in-memory tf tensors", fit_rate, "1.0"),
        ("phase 2, zoo's epoch loop (replayable order)", ours_rate, f"{ours_rate / fit_rate:.2f}"),
    ]
    lines = [
        f"Model `{spec.name}` at {shape[0]}x{shape[1]}, {images} images, batch {batch_size}, "
        f"unfreeze all (BatchNorm frozen), {platform.machine()}, best of {repeats} epochs "
        "after a warm-up.",
        "",
        "| what | images/s | ratio (head rows: × through the backbone; phase 2: × model.fit) |",
        "|---|---|---|",
    ]
    lines += [f"| {what} | {rate:.1f} | {ratio} |" for what, rate, ratio in rows]
    lines += [
        "",
        f"- head phase on cached features: {cached_rate / through_rate:.1f}× a head epoch "
        "through the frozen backbone (target ≥ 20×)",
        f"- phase 2: {ours_rate / fit_rate:.2f}× plain model.fit (target ≥ 0.9×)",
    ]
    return "\n".join(lines)


def bench_model(
    model: str, images: int, image_size: int | None, weights: Any
) -> tuple[Any, Any, np.ndarray, np.ndarray]:
    """(spec, the model with a new CLASSES-way head, random uint8 images, random labels): what
    the fine-tuning benches train on."""
    quiet_tensorflow()
    import keras

    from zoo.models import load

    spec = registry.get_spec(model)
    shape = tuple(spec.input_shape)
    options = {}
    if spec.dataset == "imagenet" and image_size:
        shape = (image_size, image_size, 3)
        options["input_shape"] = shape
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (images, *shape), dtype=np.uint8)
    y = rng.integers(0, CLASSES, images)
    keras.utils.set_random_seed(0)
    return spec, load(spec, weights=weights, num_classes=CLASSES, **options), x, y


def _head_rates(network, x, y, batch_size: int, repeats: int) -> tuple[float, float, float]:
    """Images/s of a head epoch through the frozen backbone, of one on cached pooled features,
    and of computing those features once."""
    from zoo.training.fit_loop import epoch_order, train_epoch
    from zoo.training.head import (
        compile_model,
        head_models,
        keras_features,
        set_trainable,
        through_backbone,
    )

    images = len(x)
    extractor, head_model = head_models(network)
    order = epoch_order(images, 0, 1, 0)
    set_trainable(network, [])
    through = through_backbone(network, extractor, head_model)
    compile_model(through, 1e-3)
    through_rate = _best_rate(
        lambda: train_epoch(through, x, y, order, batch_size), images, repeats
    )

    def extract():
        return keras_features(extractor, x, 64)

    features = extract()
    extract_rate = _best_rate(extract, images, repeats)
    compile_model(head_model, 1e-3)
    cached_rate = _best_rate(
        lambda: train_epoch(head_model, features, y, order, batch_size), images, repeats
    )
    return through_rate, cached_rate, extract_rate


def _phase2_rates(network, spec, x, y, batch_size: int, repeats: int) -> tuple[float, float]:
    """Images/s of zoo's phase-2 epoch loop and of plain ``model.fit``, alternated so that
    drift hits both alike."""
    import tensorflow as tf

    from zoo.training.fit_loop import epoch_order, train_epoch
    from zoo.training.head import compile_model, phase2_layers, set_trainable

    images = len(x)
    order = epoch_order(images, 0, 1, 0)
    set_trainable(network, phase2_layers(network, spec, "all", "frozen"))
    compile_model(network, 1e-4)
    # model.fit's fastest input here: tensors (numpy arrays and a tf.data pipeline measured
    # ~40 % slower on 2 cores: the pipeline's threads compete with the step for the cores)
    tensors, labels = tf.constant(x.astype("float32")), tf.constant(y)

    def ours():
        train_epoch(network, x, y, order, batch_size)

    def plain_fit():
        network.fit(tensors, labels, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)

    ours()
    plain_fit()  # warm-ups, then the two alternate
    ours_best = fit_best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        ours()
        ours_best = min(ours_best, time.perf_counter() - started)
        started = time.perf_counter()
        plain_fit()
        fit_best = min(fit_best, time.perf_counter() - started)
    return images / ours_best, images / fit_best
