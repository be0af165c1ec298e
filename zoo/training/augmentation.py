"""Training-batch augmentation and mixing as Keras preprocessing layers, on raw 0..255 pixels,
never part of a saved model.

``light``: rotation up to ±11°, zoom ±10 %, shift ±5 %, and a horizontal flip for photos;
``strong``: rotation ±29°, zoom ±20 %, shift ±10 % and contrast ±20 %; ``randaugment``:
Keras' ``RandAugment`` (two of shear, shift, rotation, brightness, colour, contrast,
sharpness, posterize, solarize, auto-contrast, equalize per batch, each image its own
strength); ``augmix``: Keras' ``AugMix`` (three chains of those operations mixed with the
original). Digits (the MNIST models) are never flipped, their RandAugment and AugMix strength
is capped (factor 0.08: rotation at most ±29°, shift and shear at most 8 %) so that a 6 never
turns into a 9, and what comes in at the borders is their black background.

``mix``: ``mixup`` (Keras' ``MixUp``: each image blended with another of the batch, the labels
in the same proportion), ``cutmix`` (``CutMix``: a box of another image pasted in, the labels
by area), ``both`` (one of the two per batch, at random). Labels become soft (one-hot mixes),
so a mixed digit is never labelled as one class it is not.

Example:
    >>> augment = augmenter("light", zoo.get_spec("mobilenet_v2_1.0_224"), seed=0)
    >>> augment(batch).shape == batch.shape
    True
    >>> mix = mixer("mixup", 0.2, seed=0)
    >>> images, soft_labels = mix(batch, one_hot_labels)
"""

from __future__ import annotations

from typing import Any

from zoo.errors import InputError
from zoo.spec import ModelSpec

LEVELS = ("none", "light", "strong", "randaugment", "augmix")
MIXES = ("none", "mixup", "cutmix", "both")
#: (rotation as a fraction of a full turn, zoom, translation, contrast) per level.
STRENGTH = {"light": (0.03, 0.1, 0.05, 0.0), "strong": (0.08, 0.2, 0.1, 0.2)}
#: RandAugment / AugMix strength (Keras' ``factor``: rotation as a fraction of a full turn,
#: shift and shear as a fraction of the side, brightness and contrast as a fraction).
POLICY_FACTOR = {"photos": 0.3, "digits": 0.08}


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise InputError(f"augment must be one of {', '.join(LEVELS)}; received {level!r}")
    return level


def check_mix(mix: str, alpha: Any) -> str:
    if mix not in MIXES:
        raise InputError(f"mix must be one of {', '.join(MIXES)}; received {mix!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
        raise InputError(f"mix_alpha must be a number > 0, received {alpha!r}")
    return mix


def _policy_layer(level: str, photos: bool, seed: int) -> Any:
    import keras

    factor = POLICY_FACTOR["photos" if photos else "digits"]
    if level == "randaugment":
        return keras.layers.RandAugment(value_range=(0, 255), factor=factor, seed=seed)
    return keras.layers.AugMix(value_range=(0, 255), factor=factor, seed=seed)


def _geometric_layers(level: str, photos: bool, seed: int, flip: bool) -> list[Any]:
    import keras

    rotation, zoom, translation, contrast = STRENGTH[level]
    fill = {"fill_mode": "reflect"} if photos else {"fill_mode": "constant", "fill_value": 0.0}
    layers = [keras.layers.RandomFlip("horizontal", seed=seed)] if flip else []
    layers += [
        keras.layers.RandomRotation(rotation, seed=seed + 1, **fill),
        keras.layers.RandomZoom(zoom, seed=seed + 2, **fill),
        keras.layers.RandomTranslation(translation, translation, seed=seed + 3, **fill),
    ]
    if contrast:
        layers.append(keras.layers.RandomContrast(contrast, value_range=(0, 255), seed=seed + 4))
    return layers


def augmenter(level: str, spec: ModelSpec, seed: int, mirror: bool = True) -> Any:
    """A function of a float32 batch of raw pixels giving the augmented batch (None for
    ``none``); its ``generators`` hold the random layers (reseeded per epoch). ``mirror``
    False: no flip for photos either (``zoo.fine_tune``'s ``mirror``)."""
    check_level(level)
    if level == "none":
        return None
    import keras

    photos = spec.dataset == "imagenet"
    flip = photos and mirror
    if level in ("randaugment", "augmix"):
        layers = [keras.layers.RandomFlip("horizontal", seed=seed)] if flip else []
        layers.append(_policy_layer(level, photos, seed + 1))
    else:
        layers = _geometric_layers(level, photos, seed, flip)
    model = keras.Sequential(layers, name=f"augment_{level}")
    colour_ops = level in ("randaugment", "augmix")

    def augment(batch):
        channels = batch.shape[-1]
        if colour_ops and channels == 1:  # their colour operations need RGB: grey in, grey out
            import keras.ops as ops

            rgb = model(ops.repeat(batch, 3, axis=-1), training=True)
            return ops.mean(rgb, axis=-1, keepdims=True)
        return model(batch, training=True)

    augment = _compiled(augment, level)
    augment.generators = [model]  # their random generators are reseeded per epoch
    return augment


def _compiled(augment, level: str):
    """``augment`` as one TensorFlow graph on the TensorFlow backend: 1.4-1.9x the images/s of
    the layers run eagerly (docs/benchmarks.md). The draws still come from the layers' seed
    generators only, so a resumed run replays them; AugMix stays eager, since its graph draws
    differ from one process to the next (measured), which would break exact resume."""
    import keras

    if keras.backend.backend() != "tensorflow" or level == "augmix":
        return augment
    import tensorflow as tf

    graph = tf.function(augment, reduce_retracing=True)
    return lambda batch: graph(batch)


def mixer(mix: str, alpha: float, seed: int) -> Any:
    """A function of (float32 batch, one-hot labels) giving the mixed (batch, soft labels);
    None for ``none``. Its ``generators`` hold the random layers (reseeded per epoch)."""
    check_mix(mix, alpha)
    if mix == "none":
        return None
    import keras

    layers = {}
    if mix in ("mixup", "both"):
        layers["mixup"] = keras.layers.MixUp(alpha=alpha, seed=seed)
    if mix in ("cutmix", "both"):
        layers["cutmix"] = keras.layers.CutMix(factor=min(float(alpha), 1.0), seed=seed + 1)
    chooser = keras.layers.Dropout(0.5, seed=seed + 2)  # a fair coin per batch, reseedable

    def apply(batch, labels):
        import keras.ops as ops

        labels = ops.cast(labels, "float32")
        if len(layers) == 1:
            layer = next(iter(layers.values()))
        else:
            coin = chooser(ops.ones((1,)), training=True)
            layer = layers["mixup"] if float(coin[0]) > 0 else layers["cutmix"]
        mixed = layer({"images": batch, "labels": labels}, training=True)
        return mixed["images"], mixed["labels"]

    apply.generators = [chooser, *layers.values()]  # reseeded per epoch
    return apply
