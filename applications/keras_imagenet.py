"""Shared builder and spec maker for the keras.applications ImageNet families.

Each family module (``applications/resnet.py`` ...) lists its variants as data; this module
turns one variant into a ``ModelSpec`` and builds it by calling the keras.applications function
with ``weights=None`` on the preprocessed input. Weights are loaded by ``zoo.load``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from zoo.spec import FeatureStage, ModelSpec, Reference, WeightsSpec

STAGE_STRIDES = {"stage1": 2, "stage2": 4, "stage3": 8, "stage4": 16, "stage5": 32}
TRAINED_ON = "ImageNet-1k (ILSVRC 2012), weights as Keras publishes them"
#: Where Keras keeps its applications' weights: ``{KERAS_WEIGHTS}{folder}/{file name}``.
KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications/"
#: The citation of keras.io's table of the Keras Applications' ImageNet top-1/top-5 figures.
KERAS_IO_TABLE = (
    "keras.io Keras Applications table (keras-team/keras-io "
    "templates/api/applications/index.md, https://keras.io/api/applications/)"
)


def build_keras_application(
    inputs,
    x,
    *,
    function: str,
    include_top: bool = True,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    **kwargs: Any,
):
    """Call ``keras.applications.<function>`` on ``x`` with ``weights=None``. With the top, the
    softmax is a separate ``probabilities`` layer, so its input is the ``logits`` stage."""
    import keras

    application = getattr(keras.applications, function)(
        include_top=include_top,
        weights=None,
        input_tensor=x,
        pooling=pooling,
        classes=classes,
        classifier_activation=None if include_top else classifier_activation,
        **kwargs,
    )
    outputs = application.output
    if include_top and classifier_activation is not None:
        outputs = keras.layers.Activation(classifier_activation, name="probabilities")(outputs)
    return keras.Model(inputs, outputs)


def keras_file(name: str, url: str, file_hash: str | None) -> WeightsSpec:
    """A Keras weights file; Keras pins an md5 (32 hex digits) or a sha256 (64), or nothing."""
    sha256 = file_hash if file_hash and len(file_hash) == 64 else None
    md5 = file_hash if file_hash and len(file_hash) == 32 else None
    return WeightsSpec(
        source="url", file=name, url=url, sha256=sha256, md5=md5, trained_on=TRAINED_ON
    )


def keras_weights(folder: str, name: str, file_hash: str | None) -> WeightsSpec:
    """``keras_file`` of the file ``name`` in ``folder`` of ``KERAS_WEIGHTS``, where its URL
    ends in the file name itself (most Keras applications' files)."""
    return keras_file(name, f"{KERAS_WEIGHTS}{folder}/{name}", file_hash)


def _own_stride(layer) -> int:
    """How much ``layer`` downsamples: its ``strides``, the product of its sub-layers' for a
    nested model (ConvNeXt's stem and downsampling blocks), else 1."""
    if hasattr(layer, "layers"):
        product = 1
        for inner in layer.layers:
            product *= _own_stride(inner)
        return product
    strides = getattr(layer, "strides", 1)
    return int(strides[0] if isinstance(strides, (tuple, list)) else strides or 1)


def _spatial_strides(model) -> dict[int, int | None]:
    """id(tensor) -> stride of every tensor of ``model``'s graph, traced from its input through
    each layer's strides: exact at any input size (rounding output sizes is not, once unpadded
    convolutions trim the borders of small inputs). Global pooling ends a map's stride (None):
    squeeze-excite branches do not count as maps."""
    strides: dict[int, int | None] = {}

    def stride_of(tensor) -> int | None:
        key = id(tensor)
        if key not in strides:
            history = getattr(tensor, "_keras_history", None)
            if history is None or history.operation is None or not history.operation._inbound_nodes:
                strides[key] = 1
                return 1
            operation = history.operation
            node = operation._inbound_nodes[history.node_index]
            parents = [stride_of(parent) for parent in node.input_tensors]
            known = [stride for stride in parents if stride is not None]
            if not parents:  # an input
                strides[key] = 1
            elif "Global" in type(operation).__name__ or not known:
                strides[key] = None
            else:
                strides[key] = max(known) * _own_stride(operation)
        return strides[key]

    for layer in model.layers:
        stride_of(layer.output)
    return strides


def stride_outputs(model) -> dict[int, tuple[str, int]]:
    """{stride: (name, channels)} of the last layer at each stride (2, 4, ... 32) of a built
    image model, from the strides of its layers (like timm's feature_info). Zero-padding
    layers, which only prepare the next stride, are skipped."""
    strides = _spatial_strides(model)
    found: dict[int, tuple[str, int]] = {}
    for layer in model.layers:
        shape = getattr(layer.output, "shape", None)
        if shape is None or len(shape) != 4 or type(layer).__name__ == "ZeroPadding2D":
            continue
        stride = strides.get(id(layer.output))
        if stride in STAGE_STRIDES.values():
            found[stride] = (layer.name, shape[3])
    return found


def strided_layers(layers: Sequence[str], channels: Sequence[int]) -> dict[int, tuple[str, int]]:
    """{stride: (layer, channels)} for the strides 2, 4, 8 ... of the layers in order: the
    argument ``stages`` takes, for a family that has every stride from 2."""
    return {2 ** (i + 1): stage for i, stage in enumerate(zip(layers, channels, strict=True))}


def stages(layers: dict[int, tuple[str, int]]) -> tuple[FeatureStage, ...]:
    """``stem`` (the first downsampled output: stride 2, or 4 for ConvNeXt's patchify stem) and
    stage1..stage5 (strides 2..32, where the family has them) from {stride: (layer, channels)}."""
    first = min(layers)
    named = [
        ("stem", first),
        *((name, stride) for name, stride in STAGE_STRIDES.items() if stride in layers),
    ]
    last_channels = layers[max(layers)][1]
    return (
        *(
            FeatureStage(name, layers[stride][0], stride, layers[stride][1])
            for name, stride in named
        ),
        FeatureStage("pooled", "global_average_pooling", None, last_channels),
        FeatureStage("logits", "probabilities", None, 1000),
    )


#: Family module of each keras.applications function, by the function's name prefix (the first
#: that matches): ``InceptionResNetV2`` is an ``inception``, ``ResNet50V2`` a ``resnet``.
FAMILY_PREFIXES = (
    ("VGG", "vgg"),
    ("ResNet", "resnet"),
    ("Inception", "inception"),
    ("Xception", "xception"),
    ("MobileNet", "mobilenet"),
    ("DenseNet", "densenet"),
    ("NASNet", "nasnet"),
    ("EfficientNet", "efficientnet"),
    ("ConvNeXt", "convnext"),
)


def family_of(function: str) -> str:
    """The family (``applications`` module) of a keras.applications function."""
    for prefix, family in FAMILY_PREFIXES:
        if function.startswith(prefix):
            return family
    raise ValueError(
        f"No family for keras.applications.{function}; known prefixes: "
        + ", ".join(prefix for prefix, _ in FAMILY_PREFIXES)
    )


def imagenet_spec(
    name: str,
    function: str,
    *,
    summary: str,
    size: int,
    preprocessing: str,
    params: int,
    top: WeightsSpec,
    no_top: WeightsSpec,
    year: int,
    top1: float | None,
    top5: float | None,
    source: str,
    feature_stages: tuple[FeatureStage, ...] = (),
    **kwargs: Any,
) -> ModelSpec:
    """The ``ModelSpec`` of one keras.applications variant."""
    # the stem is the first stage's layer: each name once
    layers = tuple(dict.fromkeys(stage.layer for stage in feature_stages if stage.stride))
    return ModelSpec(
        name=name,
        builder=build_keras_application,
        summary=summary,
        family=family_of(function),
        dataset="imagenet",
        input_shape=(size, size, 3),
        num_classes=1000,
        labels="imagenet",
        preprocessing=preprocessing,
        params=params,
        weights=dataclasses.replace(top, layers=layers),
        weights_no_top=dataclasses.replace(no_top, layers=layers),
        reference=Reference(top1, source, top5),
        year=year,
        feature_stages=feature_stages,
        mixed_precision=True,  # keras.applications models train and run in mixed float16
        builder_kwargs={"function": function, **kwargs},
    )
