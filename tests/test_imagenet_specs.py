"""Every ImageNet spec: the parameter count with its classifier, a batch through the backbone at
a small input, and the documented feature stages."""
from __future__ import annotations

import gc

import numpy as np
import pytest

import zoo
from applications.keras_imagenet import stride_outputs
from zoo.models import build

IMAGENET = zoo.list_models(dataset="imagenet")
#: The smallest input each family's downsampling allows (Keras' own minimums).
SMALL_INPUT = {"InceptionV3": 75, "InceptionResNetV2": 75, "Xception": 71}


def test_every_keras_family_is_registered():
    families = {zoo.get_spec(name).family for name in IMAGENET}
    assert families >= {
        "VGG16", "VGG19", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2",
        "ResNet152V2", "InceptionV3", "InceptionResNetV2", "Xception", "MobileNet",
        "MobileNetV2", "MobileNetV3Small", "MobileNetV3Large", "DenseNet121", "DenseNet169",
        "DenseNet201", "NASNetMobile", "NASNetLarge", "ConvNeXtTiny", "ConvNeXtXLarge",
        *(f"EfficientNetB{i}" for i in range(8)),
        *(f"EfficientNetV2{s}" for s in ("B0", "B1", "B2", "B3", "S", "M", "L")),
    }
    assert len(zoo.list_models("mobilenet_v1_*")) == 16
    assert len(zoo.list_models("mobilenet_v2_*")) == 22
    assert "mobilenet_v2_1.0_224" in IMAGENET and "efficientnet_v2_s" in IMAGENET


@pytest.mark.parametrize("name", IMAGENET)
def test_spec_metadata(name):
    spec = zoo.get_spec(name)
    for weights in (spec.weights, spec.weights_no_top):
        assert weights.url.startswith("https://") and weights.url.endswith(".h5")
        assert weights.file.endswith(".h5") and "/" not in weights.file
        # Keras pins no hash for MobileNet v1/v2 files: those are trusted on first download
        assert weights.md5 or weights.sha256 or name.startswith(("mobilenet_v1_", "mobilenet_v2_"))
    assert spec.weights_no_top.file != spec.weights.file
    assert spec.reference.accuracy is not None and 0 < spec.reference.accuracy <= 100
    assert spec.reference.source
    assert [stage.name for stage in spec.feature_stages][:1] == ["stem"]
    assert [stage.name for stage in spec.feature_stages][-2:] == ["pooled", "logits"]
    assert max(stage.stride or 0 for stage in spec.feature_stages) == 32


@pytest.mark.parametrize("name", IMAGENET)
def test_builds_counts_params_and_runs_a_small_batch(name):
    import keras

    spec = zoo.get_spec(name)
    model = build(spec)
    assert model.count_params() == spec.params
    # each documented stage is an output of the model at that stride with those channels
    # (layer names may differ: Keras numbers unnamed layers per session)
    found = {stride: channels for stride, (_, channels) in stride_outputs(model).items()}
    assert {stage.stride: stage.channels for stage in spec.feature_stages if stage.stride} == found
    del model
    keras.backend.clear_session()
    gc.collect()
    size = SMALL_INPUT.get(spec.family, 32)
    backbone = zoo.load(name, weights=None, include_top=False, input_shape=(size, size, 3),
                        pooling="avg")
    features = backbone.predict(np.random.default_rng(0).uniform(0, 255, (2, size, size, 3)),
                                verbose=0)
    pooled = next(stage for stage in spec.feature_stages if stage.name == "pooled")
    assert features.shape == (2, pooled.channels)
    assert np.isfinite(features).all()
    del backbone
    keras.backend.clear_session()
    gc.collect()
