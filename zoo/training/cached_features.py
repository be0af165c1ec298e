"""Phase 1's input when it trains on cached features: the frozen backbone's pooled features of
the training and validation images, computed once on the engine ``zoo.predict`` would use, and
kept in memory for the next run of this process on the same backbone and data (``zoo.tune``'s
trials share them).

Example:
    >>> features = cached_features.pooled_features(trainer, trainer.train.x, "training")
    >>> features.shape
    (1437, 625)
"""

from __future__ import annotations

import numpy as np

from zoo.training.head import keras_features

#: Pooled features of the last data sets computed in this process, by backbone and data.
SHARED_FEATURES: dict[tuple, np.ndarray] = {}
SHARED_FEATURES_KEPT = 4


def pooled_features(trainer, x: np.ndarray, which: str) -> np.ndarray:
    """The frozen backbone's pooled features of ``x`` (the head's input), computed once,
    on the runtime the prediction path picks when it computes the same thing. Kept in
    memory for the next run of this process on the same backbone and data (the trials of
    ``zoo.tune`` share them)."""
    record = trainer.record
    key = (
        trainer.spec.name,
        record["base_weights_sha256"],
        tuple(trainer.input_shape),
        record["data_sha256"],
        which,
        trainer.placement.replicated,
        trainer.seed if record["base_weights_sha256"] == "none" else None,  # random weights
    )
    if key not in SHARED_FEATURES:
        while len(SHARED_FEATURES) >= SHARED_FEATURES_KEPT:
            SHARED_FEATURES.pop(next(iter(SHARED_FEATURES)))
        SHARED_FEATURES[key] = compute_features(trainer, x, which)
    return SHARED_FEATURES[key]


def compute_features(trainer, x: np.ndarray, which: str) -> np.ndarray:
    from tqdm import tqdm

    if trainer.runner is None:
        trainer.runner = feature_runner(trainer)
    chunks = []
    step = max(trainer.batch_size * 2, 64)
    with tqdm(
        total=len(x), desc=f"pooled features ({which})", unit="img", disable=not trainer.progress
    ) as bar:
        for start in range(0, len(x), step):
            chunks.append(trainer.runner(x[start : start + step]))
            bar.update(min(step, len(x) - start))
    return np.concatenate(chunks).astype("float32")


def feature_runner(trainer):
    """A function of a batch giving pooled features. The registry's pooled stage is the
    head's input except for ConvNeXt (whose classifier normalises after pooling), and a
    runtime artefact is keyed by the weights file, so random weights run in Keras."""
    if trainer.placement.replicated:  # Keras' predict would shard batches across workers
        from zoo.training.train_steps import inference

        return inference(trainer.extractor)
    if trainer.spec.family == "convnext" or trainer.weights in (None, "none"):
        return lambda batch: keras_features(trainer.extractor, batch, len(batch))
    from zoo.engines.runtimes import get_runner
    from zoo.models import feature_model

    runner = get_runner(
        trainer.spec,
        output="pooled",
        weights=trainer.weights,
        input_shape=trainer.input_shape if trainer.spec.dataset == "imagenet" else None,
        model_factory=lambda: feature_model(trainer.model, trainer.spec, ["pooled"]),
    )
    return runner.run
