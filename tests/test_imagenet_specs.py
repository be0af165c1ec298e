"""Every ImageNet spec's metadata: weights files and hashes, published figures, stages. Builds,
parameter counts and stage shapes are checked for every model in test_models.py."""

from __future__ import annotations

import pytest

import zoo

IMAGENET = zoo.list_models(dataset="imagenet")


def test_every_keras_family_is_registered():
    families = {zoo.get_spec(name).keras_function for name in IMAGENET}
    assert families >= {
        "VGG16",
        "VGG19",
        "ResNet50",
        "ResNet101",
        "ResNet152",
        "ResNet50V2",
        "ResNet101V2",
        "ResNet152V2",
        "InceptionV3",
        "InceptionResNetV2",
        "Xception",
        "MobileNet",
        "MobileNetV2",
        "MobileNetV3Small",
        "MobileNetV3Large",
        "DenseNet121",
        "DenseNet169",
        "DenseNet201",
        "NASNetMobile",
        "NASNetLarge",
        "ConvNeXtTiny",
        "ConvNeXtXLarge",
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
    assert spec.reference.top1 is not None and 0 < spec.reference.top1 <= 100
    assert spec.reference.source
    assert [stage.name for stage in spec.feature_stages][:1] == ["stem"]
    assert [stage.name for stage in spec.feature_stages][-2:] == ["pooled", "logits"]
    assert max(stage.stride or 0 for stage in spec.feature_stages) == 32
    # the layers a weights file must hold: every stage's layer, each named once (the stem is
    # the first stage's layer, so it must not be listed twice)
    staged = [stage.layer for stage in spec.feature_stages if stage.stride]
    for weights in (spec.weights, spec.weights_no_top):
        assert sorted(weights.layers) == sorted(set(staged))
