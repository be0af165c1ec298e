"""Training-batch augmentation as Keras preprocessing layers, on raw 0..255 pixels, never part
of a saved model.

``light``: rotation up to ±11°, zoom ±10 %, shift ±5 %, and a horizontal flip for photos;
``strong``: rotation ±29°, zoom ±20 %, shift ±10 % and contrast ±20 %. Digits (the MNIST
models) are never flipped, and what comes in at the borders is their black background.

Example:
    >>> augment = augmenter("light", zoo.get_spec("mobilenet_v2_1.0_224"), seed=0)
    >>> augment(batch).shape == batch.shape
    True
"""

from __future__ import annotations

from typing import Any

from zoo.errors import InputError
from zoo.spec import ModelSpec

LEVELS = ("none", "light", "strong")
#: (rotation as a fraction of a full turn, zoom, translation, contrast) per level.
STRENGTH = {"light": (0.03, 0.1, 0.05, 0.0), "strong": (0.08, 0.2, 0.1, 0.2)}


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise InputError(f"augment must be one of {', '.join(LEVELS)}; received {level!r}")
    return level


def augmenter(level: str, spec: ModelSpec, seed: int) -> Any:
    """A ``keras.Sequential`` of random layers for ``level`` (None for ``none``), called on a
    float32 batch of raw pixels in training mode."""
    check_level(level)
    if level == "none":
        return None
    import keras

    rotation, zoom, translation, contrast = STRENGTH[level]
    photos = spec.dataset == "imagenet"
    fill = {"fill_mode": "reflect"} if photos else {"fill_mode": "constant", "fill_value": 0.0}
    layers = [keras.layers.RandomFlip("horizontal", seed=seed)] if photos else []
    layers += [
        keras.layers.RandomRotation(rotation, seed=seed + 1, **fill),
        keras.layers.RandomZoom(zoom, seed=seed + 2, **fill),
        keras.layers.RandomTranslation(translation, translation, seed=seed + 3, **fill),
    ]
    if contrast:
        layers.append(keras.layers.RandomContrast(contrast, value_range=(0, 255), seed=seed + 4))
    model = keras.Sequential(layers, name=f"augment_{level}")

    def augment(batch):
        return model(batch, training=True)

    augment.model = model  # its random generators are reseeded per epoch
    return augment
