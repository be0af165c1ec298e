"""Shared builder and spec maker for the keras.applications ImageNet families.

Each family module (``applications/resnet.py`` ...) lists its variants as data; this module
turns one variant into a ``ModelSpec`` and builds it by calling the keras.applications function
with ``weights=None`` on the preprocessed input. Weights are loaded by ``zoo.load``.
"""
from __future__ import annotations

from typing import Any

from zoo.spec import FeatureStage, ModelSpec, Reference, WeightsSpec

STAGE_STRIDES = {"stage1": 2, "stage2": 4, "stage3": 8, "stage4": 16, "stage5": 32}
TRAINED_ON = "ImageNet-1k (ILSVRC 2012), weights as Keras publishes them"


def build_keras_application(inputs, x, *, function: str, include_top: bool = True,
                            pooling: str | None = None, classes: int = 1000,
                            classifier_activation: str | None = "softmax", **kwargs: Any):
    """Call ``keras.applications.<function>`` on ``x`` with ``weights=None``. With the top, the
    softmax is a separate ``probabilities`` layer, so its input is the ``logits`` stage."""
    import keras

    application = getattr(keras.applications, function)(
        include_top=include_top, weights=None, input_tensor=x, pooling=pooling, classes=classes,
        classifier_activation=None if include_top else classifier_activation, **kwargs,
    )
    outputs = application.output
    if include_top and classifier_activation is not None:
        outputs = keras.layers.Activation(classifier_activation, name="probabilities")(outputs)
    return keras.Model(inputs, outputs)


def keras_file(name: str, url: str, file_hash: str | None) -> WeightsSpec:
    """A Keras weights file; Keras pins an md5 (32 hex digits) or a sha256 (64), or nothing."""
    sha256 = file_hash if file_hash and len(file_hash) == 64 else None
    md5 = file_hash if file_hash and len(file_hash) == 32 else None
    return WeightsSpec(source="url", file=name, url=url, sha256=sha256, md5=md5,
                       trained_on=TRAINED_ON)


def stride_outputs(model) -> dict[int, tuple[str, int]]:
    """{stride: (name, channels)} of the last layer at each stride (2, 4, ... 32) of a built
    image model, from its layers' output shapes (like timm's feature_info). Zero-padding layers,
    which only prepare the next stride, and 1x1 squeeze-excite maps are skipped."""
    import math

    size = model.inputs[0].shape[1]
    found: dict[int, tuple[str, int]] = {}
    for layer in model.layers:
        shape = getattr(layer.output, "shape", None)
        if shape is None or len(shape) != 4 or shape[1] is None or shape[1] == size:
            continue
        if type(layer).__name__ == "ZeroPadding2D":
            continue
        stride = 2 ** round(math.log2(size / shape[1]))
        if stride in STAGE_STRIDES.values():  # not squeeze-excite's 1x1 maps
            found[stride] = (layer.name, shape[3])
    return found


def stages(layers: dict[int, tuple[str, int]]) -> tuple[FeatureStage, ...]:
    """``stem`` (the first downsampled output: stride 2, or 4 for ConvNeXt's patchify stem) and
    stage1..stage5 (strides 2..32, where the family has them) from {stride: (layer, channels)}."""
    first = min(layers)
    named = [("stem", first), *((name, stride) for name, stride in STAGE_STRIDES.items()
                                if stride in layers)]
    last_channels = layers[max(layers)][1]
    return (
        *(FeatureStage(name, layers[stride][0], stride, layers[stride][1])
          for name, stride in named),
        FeatureStage("pooled", "global_average_pooling", None, last_channels),
        FeatureStage("logits", "probabilities", None, 1000),
    )


def imagenet_spec(name: str, function: str, *, summary: str, size: int, preprocessing: str,
                  params: int, top: WeightsSpec, no_top: WeightsSpec, year: int,
                  top1: float | None, top5: float | None, source: str,
                  feature_stages: tuple[FeatureStage, ...] = (), **kwargs: Any) -> ModelSpec:
    """The ``ModelSpec`` of one keras.applications variant."""
    return ModelSpec(
        name=name,
        builder=build_keras_application,
        summary=summary,
        family=function,
        dataset="imagenet",
        input_shape=(size, size, 3),
        num_classes=1000,
        labels="imagenet",
        preprocessing=preprocessing,
        params=params,
        weights=top,
        weights_no_top=no_top,
        reference=Reference(top1, source, top5),
        year=year,
        feature_stages=feature_stages,
        mixed_precision=True,  # keras.applications models train and run in mixed float16
        builder_kwargs={"function": function, **kwargs},
    )
