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
    """Call ``keras.applications.<function>`` on ``x`` with ``weights=None``."""
    import keras

    application = getattr(keras.applications, function)(
        include_top=include_top, weights=None, input_tensor=x, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, **kwargs,
    )
    return keras.Model(inputs, application.output)


def keras_file(name: str, url: str, file_hash: str | None) -> WeightsSpec:
    """A Keras weights file; Keras pins an md5 (32 hex digits) or a sha256 (64), or nothing."""
    sha256 = file_hash if file_hash and len(file_hash) == 64 else None
    md5 = file_hash if file_hash and len(file_hash) == 32 else None
    return WeightsSpec(source="url", file=name, url=url, sha256=sha256, md5=md5,
                       trained_on=TRAINED_ON)


def stages(layers: dict[int, tuple[str, int]]) -> tuple[FeatureStage, ...]:
    """``stem`` (the stride-2 output) and stage1..stage5 from {stride: (layer name, channels)}."""
    named = [("stem", 2), *STAGE_STRIDES.items()]
    return tuple(FeatureStage(name, *layers[stride][:1], stride, layers[stride][1])
                 for name, stride in named if stride in layers)


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
        builder_kwargs={"function": function, **kwargs},
    )
