"""``zoo.explain``: Grad-CAM (Selvaraju et al., 2017) heat maps, where in the image the class
score comes from. The gradient of the class's score (its logit less the mean logit, read off
the log-probabilities) with respect to the last convolutional feature map (the spec's last
feature stage before ``pooled``) is averaged over the map into one weight per channel; the
weighted sum of the channels, negative parts cut, is scaled up to the input and to 0..1, and
laid over the image as a PNG.

Example:
    >>> result = zoo.explain("cat.jpg", "mobilenet_v2_1.0_224", out="cat_heat.png")
    >>> result["label"], result["stage"], result["heatmap"].shape
    ('tabby', 'stage5', (224, 224))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zoo import labels, registry
from zoo.errors import InputError
from zoo.spec import ModelSpec


def last_conv_stage(spec: ModelSpec) -> str:
    """The last feature stage before the pooled features: the map Grad-CAM weighs."""
    stages = [s.name for s in spec.feature_stages if s.name not in ("pooled", "logits")]
    if not stages or len(spec.input_shape) != 3:
        raise InputError(
            f"{spec.name} has no convolutional feature map to explain (its stages: "
            f"{', '.join(s.name for s in spec.feature_stages) or 'none'}); Grad-CAM takes the "
            "ImageNet models and the MNIST convnet"
        )
    return stages[-1]


def grad_cam(model: Any, spec: ModelSpec, image: np.ndarray, class_index: int | None, stage: str):
    """(heat map at the input's size in 0..1, the class explained, the probabilities) for one
    model-ready ``image`` (raw pixels)."""
    import keras
    import tensorflow as tf

    from zoo.models import model_inputs, stage_tensor

    feature_map = stage_tensor(model, spec, stage)
    if len(feature_map.shape) != 4:
        raise InputError(
            f"Stage {stage!r} of {spec.name} is not a feature map ({tuple(feature_map.shape)})"
        )
    probe = keras.Model(model_inputs(model), [feature_map, model.outputs[0]])
    batch = tf.constant(np.asarray(image, dtype="float32")[None])
    with tf.GradientTape() as tape:
        maps, probabilities = probe(batch, training=False)
        chosen = int(np.argmax(probabilities[0])) if class_index is None else class_index
        # log p_c - mean_j log p_j is the class's logit minus the mean logit: unlike p_c or
        # log p_c, its gradient does not vanish when the softmax saturates at p_c = 1
        log_p = tf.math.log(tf.maximum(probabilities, 1e-30))
        score = log_p[:, chosen] - tf.reduce_mean(log_p, axis=-1)
    gradients = tape.gradient(score, maps)[0].numpy()
    maps = maps[0].numpy()
    weights = gradients.mean(axis=(0, 1))
    cam = np.maximum((maps * weights).sum(axis=-1), 0.0)
    height, width = spec.input_shape[:2]
    from PIL import Image

    cam = np.asarray(
        Image.fromarray(cam.astype(np.float32)).resize((width, height), Image.BILINEAR)
    )
    top = float(cam.max())
    cam = cam / top if top > 0 else cam
    return cam, chosen, np.asarray(probabilities[0], dtype=np.float64)


def overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """``heat`` (0..1) in a blue-to-red scale laid over ``image`` (raw pixels): uint8 RGB."""
    base = np.asarray(image, dtype=np.float64)
    if base.ndim == 2:
        base = base[..., None]
    if base.shape[-1] == 1:
        base = np.repeat(base, 3, axis=-1)
    base = np.clip(base, 0, 255) / 255.0
    colours = np.stack(
        [np.clip(1.5 - abs(4 * heat - c), 0, 1) for c in (3.0, 2.0, 1.0)], axis=-1
    )  # the "jet" scale: blue, cyan, yellow, red
    mixed = (1 - alpha) * base + alpha * colours
    return (np.clip(mixed, 0, 1) * 255).round().astype(np.uint8)


def explain(
    image: str | Path,
    model: str | Path | ModelSpec,
    *,
    class_index: int | str | None = None,
    stage: str | None = None,
    out: str | Path | None = None,
    weights: str | Path | None = "default",
    trust: bool = False,
) -> dict[str, Any]:
    """Grad-CAM of ``model`` on one image file.

    Args:
        image: an image file (decoded and resized as ``zoo predict`` does).
        model: a registry name, a fine-tuning run directory or a model file.
        class_index: the class to explain: an index or a label (default: the top-1 class).
        stage: the feature stage (default: the last before ``pooled``; ``zoo info`` lists them).
        out: a PNG to write, the heat map over the image (and the image itself, side by side).
        weights, trust: as ``zoo.load``.

    Returns:
        ``{"class", "label", "probability", "stage", "heatmap", "peak", "out"}``: the class
        explained, its probability, the heat map (height x width, 0..1) and where it peaks
        (row, column).

    Example:
        >>> zoo.explain("digit_7.png", "mnist_convnet")["label"]
        '7'
    """
    from zoo.inputs.sources import prepare_file
    from zoo.models import load

    spec = registry.get_spec(model)
    stage = stage or last_conv_stage(spec)
    names = list(labels.names(spec.labels, spec.num_classes)) if spec.labels else []
    if isinstance(class_index, str) and not class_index.isdigit():
        if class_index not in names:
            raise InputError(f"{spec.name} has no class {class_index!r}; e.g. {names[:5]}")
        class_index = names.index(class_index)
    if class_index is not None:
        class_index = int(class_index)
        if not 0 <= class_index < (spec.num_classes or 0):
            raise InputError(
                f"class {class_index} is out of range: {spec.name} has {spec.num_classes} classes"
            )
    pixels = prepare_file(spec, image)
    network = load(
        model if not isinstance(model, ModelSpec) else spec, weights=weights, trust=trust
    )
    heat, chosen, probabilities = grad_cam(network, spec, pixels, class_index, stage)
    peak = np.unravel_index(int(np.argmax(heat)), heat.shape)
    written = None
    if out is not None:
        from PIL import Image

        from zoo.files import atomic_path

        written = Path(out).expanduser()
        picture = np.concatenate(
            [overlay(pixels, np.zeros_like(heat), 0.0), overlay(pixels, heat)], 1
        )
        scale = max(1, 224 // picture.shape[0])  # a 28 x 28 digit is shown 8 times larger
        shown = Image.fromarray(picture).resize(
            (picture.shape[1] * scale, picture.shape[0] * scale), Image.NEAREST
        )
        with atomic_path(written) as temp:
            shown.save(temp, format="PNG")
    return {
        "class": chosen,
        "label": names[chosen] if names else str(chosen),
        "probability": float(probabilities[chosen]),
        "stage": stage,
        "heatmap": heat,
        "peak": (int(peak[0]), int(peak[1])),
        "out": None if written is None else str(written),
    }
