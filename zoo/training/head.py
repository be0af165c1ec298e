"""The model a fine-tune trains: a new head (with optional dropout) on a registered backbone,
the head alone on cached pooled features, which backbone layers phase 2 unfreezes, and how a
best epoch is saved.

Example:
    >>> extractor, head_model = head.head_models(zoo.load("mnist_convnet", num_classes=3))
    >>> head_model.input_shape
    (None, 625)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zoo import run_dir
from zoo.backend import gpu_available
from zoo.files import (
    atomic_path,
)
from zoo.models import model_inputs, stage_names, stage_tensor
from zoo.spec import ModelSpec
from zoo.training.settings import parse_unfreeze


def weighted_layers(model) -> list[Any]:
    return [layer for layer in model.layers if layer.name != "predictions" and layer.weights]


def is_batch_norm(layer) -> bool:
    import keras

    return isinstance(layer, keras.layers.BatchNormalization)


def phase2_layers(model, spec: ModelSpec, unfreeze: str, bn: str) -> list[Any]:
    """The backbone layers phase 2 trains."""
    kind, value = parse_unfreeze(unfreeze, spec)
    layers = [
        layer for layer in weighted_layers(model) if not (bn == "frozen" and is_batch_norm(layer))
    ]
    if kind == "none":
        return []
    if kind == "all":
        return layers
    if kind == "top":
        return layers[-value:]
    stages = [s for s in stage_names(spec) if s not in ("pooled", "logits")]
    position = stages.index(value)
    if position == 0:
        return layers
    boundary = stage_tensor(model, spec, stages[position - 1])._keras_history.operation
    after = model.layers.index(boundary)
    return [layer for layer in layers if model.layers.index(layer) > after]


def set_trainable(model, trained: list[Any]) -> None:
    """Train the head and ``trained`` only; every other layer is frozen (a frozen
    BatchNormalization layer also runs in inference mode, as Keras 3 does)."""
    chosen = {id(layer) for layer in trained}
    for layer in model.layers:
        layer.trainable = layer.name == "predictions" or id(layer) in chosen


def compile_model(
    model,
    learning_rate: Any,
    *,
    optimizer: Any = None,
    loss: Any = "sparse_categorical_crossentropy",
) -> Any:
    """Compile ``model`` for ``train_on_batch``: ``optimizer`` (default Adam at
    ``learning_rate``), ``loss``, accuracy; returns the optimizer."""
    import keras

    optimizer = optimizer or keras.optimizers.Adam(learning_rate)
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=["accuracy"],
        jit_compile=gpu_available(),  # never XLA on a CPU: slower there
    )
    return optimizer


#: The name of the dropout layer before the classifier (``head_dropout``).
HEAD_DROPOUT = "head_dropout"


def with_head_dropout(model, rate: float, classes: int) -> Any:
    """``model`` with dropout at ``rate`` between its pooled features and a new classifier."""
    import keras

    from zoo.models import with_new_head

    pooled = model.get_layer("predictions").input
    dropped = keras.layers.Dropout(rate, name=HEAD_DROPOUT)(pooled)
    return with_new_head(model, classes, model.name, dropped)


def head_models(model) -> tuple[Any, Any]:
    """(extractor, head_model): the backbone up to the head's input (before the head's
    dropout), and the head alone on those features (sharing the model's head layers)."""
    import keras

    head = model.get_layer("predictions")
    names = [layer.name for layer in model.layers]
    dropout = model.get_layer(HEAD_DROPOUT) if HEAD_DROPOUT in names else None
    pooled = (dropout or head).input
    extractor = keras.Model(model_inputs(model), pooled, name="extractor")
    features = keras.Input(tuple(pooled.shape[1:]), name="pooled_features")
    outputs = head(features if dropout is None else dropout(features))
    return extractor, keras.Model(features, outputs, name="head")


def keras_features(extractor, x: np.ndarray, step: int) -> np.ndarray:
    """``extractor``'s outputs for ``x``, ``step`` images per compiled call (each chunk cast
    to float32 on its own: a uint8 data set is never copied whole)."""
    return np.concatenate(
        [
            np.asarray(extractor.predict_on_batch(x[start : start + step].astype("float32")))
            for start in range(0, len(x), step)
        ]
    )


def through_backbone(model, extractor, head_model) -> Any:
    """The head (``head_model``: its dropout, then its classifier) trained through the frozen
    backbone, which runs in inference mode (dropout off), as the cached features are computed.
    (A functional call's ``training=False`` is overridden by the outer ``training=True``; a
    layer that calls it is not.)"""
    import keras

    class InferenceOnly(keras.layers.Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

        def call(self, x, training=None):
            return self.inner(x, training=False)

    inputs = keras.Input(tuple(model.inputs[0].shape[1:]), dtype=model.inputs[0].dtype)
    features = InferenceOnly(extractor, name="frozen_backbone")(inputs)
    return keras.Model(inputs, head_model(features), name="head_through_backbone")


def save_model(out: Path, model, name: str) -> None:
    import keras

    inference = keras.Model(model_inputs(model), model.outputs[0], name=name)
    with atomic_path(out / run_dir.MODEL_FILE) as temp:
        inference.save(temp)


def predict_probabilities(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    return np.asarray(model.predict(x, batch_size=batch_size * 2, verbose=0), dtype=np.float64)
