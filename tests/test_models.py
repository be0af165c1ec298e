"""Every registered model, as timm's test_models: it builds with its documented parameter count,
its feature stages have the documented shapes (checked against the papers for one model of each
family, and against the spec's named layers for all), it runs a batch of 2 with finite outputs,
its head swaps (``num_classes=3``) and one gradient step reaches every trainable weight.

The population is ``zoo.list_models()``: a new kind of model gets these tests by being
registered. ImageNet models run at the smallest input their downsampling allows (32 px; Keras'
minimum for Inception and Xception), except the shape check, which is symbolic at the spec's
size. Every model runs in `make test-all`. CI (`make test`) runs ``ci_sample``: every classic
model, the smallest variant of each keras.applications family (its other variants differ in
depth, width or input size, not in their kinds of layer), and of MobileNet v1 and v2 one variant
per width that between them take every input size (``grid_sample``); never the largest
(``HEAVY``: 9-38 s each on 2 cores).
"""

from __future__ import annotations

import gc
import re

import numpy as np
import pytest

import zoo
from zoo.models import build, feature_model, stage_names, swappable_head

ALL = zoo.list_models()
#: The largest variants of families whose smaller ones run in CI; `make test-all` runs these.
HEAVY = {
    "convnext_small",
    "convnext_base",
    "convnext_large",
    "convnext_xlarge",
    "densenet169",
    "densenet201",
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
    "efficientnet_v2_m",
    "efficientnet_v2_l",
    "inception_resnet_v2",
    "nasnet_large",
    "resnet152",
    "resnet152_v2",
}


def grid_sample(names: list[str]) -> set[str]:
    """Of the families whose variants form a width x input-size grid (MobileNet v1 and v2: the
    same layers at other widths and sizes; 38 variants, 2-4 s each here), one variant per width
    that between them cover every size: the widths in order, each at the smallest size not yet
    covered."""
    grids: dict[str, list[tuple[float, int, str]]] = {}
    for name in names:
        spec = zoo.get_spec(name)
        if "alpha" in spec.builder_kwargs:
            variant = (spec.builder_kwargs["alpha"], spec.input_shape[0], name)
            grids.setdefault(spec.keras_function, []).append(variant)
    chosen = set()
    for variants in grids.values():
        covered: set[int] = set()
        for alpha in sorted({alpha for alpha, _, _ in variants}):
            sizes = sorted(size for a, size, _ in variants if a == alpha)
            size = next((s for s in sizes if s not in covered), sizes[0])
            covered.add(size)
            chosen.add(next(n for a, s, n in variants if (a, s) == (alpha, size)))
    return chosen


def family(spec) -> tuple[str, bool]:
    """The keras.applications family of an ImageNet spec: its function without the variant
    (ResNet101V2 -> ResNetV2, EfficientNetV2S -> EfficientNetV2, ConvNeXtTiny -> ConvNeXt), and
    whether it is MobileNetV3's minimalistic variant (other layer types)."""
    variant = r"(?<!V)(\d+|B\d|S|M|L|Small|Large|Tiny|Base|XLarge|Mobile)(V2)?$"
    function = re.sub(variant, r"\2", spec.keras_function)
    return function, bool(spec.builder_kwargs.get("minimalistic"))


def ci_sample(names: list[str]) -> set[str]:
    """What `make test` runs: every classic model, the smallest variant of each ImageNet family
    (the others differ in depth, width or input size, not in their kinds of layer) with the
    MobileNet grid sample, less ``HEAVY``."""
    smallest: dict[tuple[str, bool], tuple[int, int, str]] = {}
    for name in names:
        spec = zoo.get_spec(name)
        if spec.dataset == "imagenet":
            size = (spec.params, spec.input_shape[0], name)
            smallest[family(spec)] = min(smallest.get(family(spec), size), size)
    imagenet = {name for name in names if zoo.get_spec(name).dataset == "imagenet"}
    kept = {name for *_, name in smallest.values()} | grid_sample(names)
    return (set(names) - imagenet | kept) - HEAVY


EVERY_MODEL = [
    name if name in ci_sample(ALL) else pytest.param(name, marks=pytest.mark.slow) for name in ALL
]
#: The smallest input each family's downsampling allows (Keras' own minimums), else 32 px.
SMALL_INPUT = {"InceptionV3": 75, "InceptionResNetV2": 75, "Xception": 71}
#: Stage channels at strides 2, 4, 8, 16, 32 (4..32 for ConvNeXt) as the papers give them: an
#: expectation independent of how the specs were made.
PAPER_CHANNELS = {
    # He et al. 2015, Table 1: conv1 64, conv2_x..conv5_x 256, 512, 1024, 2048
    "resnet50": (64, 256, 512, 1024, 2048),
    # Simonyan & Zisserman 2014, Table 1 (D): blocks of 64, 128, 256, 512, 512; the stride-2
    # stage is the second block's output
    "vgg16": (128, 256, 512, 512, 512),
    # Howard et al. 2017, Table 1: pointwise convs of 64, 128, 256, 512, 1024
    "mobilenet_v1_1.0_224": (64, 128, 256, 512, 1024),
    # Sandler et al. 2018, Table 2: expansions (x6) of 16, 24, 32, 96 channels, then 1280
    "mobilenet_v2_1.0_224": (96, 144, 192, 576, 1280),
    # Huang et al. 2016, Table 1 (k=32): conv 64, transitions to 128, 256, 512, final 1024
    "densenet121": (64, 128, 256, 512, 1024),
    # Tan & Le 2019, Table 1: expansions (x6) of 16, 24, 40, 112 channels, then 1280
    "efficientnet_b0": (96, 144, 240, 672, 1280),
    # Liu et al. 2022, Sec. 2: C = (96, 192, 384, 768) at strides 4..32
    "convnext_tiny": (96, 192, 384, 768),
}
CLASSIFIER_LOSS_LABELS = np.array([0, 2])


@pytest.fixture(autouse=True)
def fresh_session():
    """Each model in a new Keras session: layer names are numbered per session, and the
    biggest models must not pile up in memory."""
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)  # the same initial weights on every run
    yield
    keras.backend.clear_session()
    gc.collect()


def small_shape(spec) -> tuple[int, ...]:
    if spec.dataset == "imagenet":
        size = SMALL_INPUT.get(spec.keras_function, 32)
        return (size, size, 3)
    return tuple(8 if dim is None else dim for dim in spec.input_shape)


def sample(spec, shape, batch: int = 2) -> np.ndarray:
    """Raw inputs as users give them: pixels 0..255 for images, 0/1 for the logic units."""
    rng = np.random.default_rng(0)
    if spec.dataset == "logic":
        return rng.integers(0, 2, (batch, *shape)).astype(spec.input_dtype)
    return rng.uniform(0, 255, (batch, *shape)).astype(spec.input_dtype)


def spatial_fits(size: int, extent: int, stride: int) -> bool:
    """A stride-``stride`` map of an input ``size`` wide: size / stride, less up to 4 border
    pixels that unpadded ('valid') convolutions and poolings drop on the way."""
    return size / stride - 4 <= extent <= -(-size // stride)


@pytest.mark.parametrize("name", EVERY_MODEL)
def test_builds_with_its_documented_parameters_and_stage_shapes(name):
    import keras

    spec = zoo.get_spec(name)
    full = build(spec)
    assert full.count_params() == spec.params
    if "logits" in stage_names(spec):  # what zoo.load(name, features=["logits"]) builds
        logits = feature_model(full, spec, ["logits"]).output["logits"]
        assert tuple(logits.shape) == (None, spec.num_classes)
    stages = [stage for stage in spec.feature_stages if stage.name != "logits"]
    if not stages:
        return
    keras.backend.clear_session()  # layer names are numbered per session: start afresh
    # the stage model zoo.load gives (an ImageNet model's is built without its classifier)
    model = zoo.load(name, weights=None, features=[stage.name for stage in stages])
    for stage in stages:
        shape = tuple(model.output[stage.name].shape)
        assert shape[-1] == stage.channels, (stage, shape)
        if stage.stride is None:  # pooled: one vector per image
            assert len(shape) == 2, (stage, shape)
            continue
        height, width = spec.input_shape[:2]
        assert spatial_fits(height, shape[1], stage.stride), (stage, shape)
        assert spatial_fits(width, shape[2], stage.stride), (stage, shape)
        # the layer the spec names (layer names are numbered per session: this one is fresh)
        assert tuple(model.get_layer(stage.layer).output.shape) == shape, stage


def test_the_grid_sample_takes_every_width_and_every_size():
    sample = grid_sample(ALL)
    for function in ("MobileNet", "MobileNetV2"):
        family = [zoo.get_spec(n) for n in ALL if zoo.get_spec(n).keras_function == function]
        kept = [spec for spec in family if spec.name in sample]
        assert {s.builder_kwargs["alpha"] for s in kept} == {
            s.builder_kwargs["alpha"] for s in family
        }
        assert {s.input_shape for s in kept} == {s.input_shape for s in family}
    assert sorted(n for n in sample if n.startswith("mobilenet_v2_")) == [
        "mobilenet_v2_0.35_96", "mobilenet_v2_0.5_128", "mobilenet_v2_0.75_160",
        "mobilenet_v2_1.0_192", "mobilenet_v2_1.3_224", "mobilenet_v2_1.4_224",
    ]  # fmt: skip
    assert {n for n in sample if not n.startswith(("mobilenet_v1", "mobilenet_v2"))} == set()


def test_ci_runs_every_classic_model_and_the_smallest_of_each_family():
    sample = ci_sample(ALL)
    imagenet = [zoo.get_spec(n) for n in ALL if zoo.get_spec(n).dataset == "imagenet"]
    families = {family(spec) for spec in imagenet}
    assert ("ResNetV2", False) in families and ("EfficientNetV2", False) in families
    assert ("MobileNetV3", True) in families and ("ConvNeXt", False) in families
    assert len(families) == 15
    for key in families - {("InceptionResNetV2", False)}:  # its only variant is HEAVY
        members = sorted((s.params, s.input_shape, s.name) for s in imagenet if family(s) == key)
        assert members[0][-1] in sample, key
    assert {n for n in ALL if zoo.get_spec(n).dataset != "imagenet"} <= sample
    assert sample & HEAVY == set()


@pytest.mark.parametrize("name", sorted(PAPER_CHANNELS))
def test_stage_channels_match_the_papers(name):
    strided = [
        stage
        for stage in zoo.get_spec(name).feature_stages
        if stage.stride and stage.name != "stem"
    ]
    assert tuple(stage.channels for stage in strided) == PAPER_CHANNELS[name]
    assert [stage.stride for stage in strided] == sorted(stage.stride for stage in strided)


def test_every_image_model_documents_its_stages():
    for name in ALL:
        spec = zoo.get_spec(name)
        if spec.dataset in ("mnist", "imagenet"):
            assert {"pooled", "logits"} <= set(stage_names(spec)), name
            assert swappable_head(spec), name


@pytest.mark.parametrize("name", EVERY_MODEL)
def test_runs_a_batch_of_two_swaps_its_head_and_trains(name):
    import keras
    import tensorflow as tf

    spec = zoo.get_spec(name)
    shape = small_shape(spec)
    x = sample(spec, shape)
    if spec.dataset != "imagenet":  # default weights: shipped, or built in (ImageNet models
        # run below with their new head: their classifier needs the spec's size)
        output = np.asarray(zoo.load(name).predict(x, verbose=0))
        assert output.shape[0] == 2 and np.isfinite(output).all()
        if spec.num_classes:
            assert output.shape == (2, spec.num_classes)

    if not swappable_head(spec):
        with pytest.raises(zoo.InputError, match="no classifier head to replace"):
            zoo.load(name, weights=None, num_classes=3)
        model = zoo.load(name, weights=None)
    else:
        options = {"input_shape": shape} if spec.dataset == "imagenet" else {}
        model = zoo.load(name, weights=None, num_classes=3, **options)
        # eager calls: tracing a tf.function costs more than the step for the biggest models
        pooled = np.asarray(feature_model(model, spec, ["pooled"])(x, training=False)["pooled"])
        assert pooled.shape == (2, spec.feature_stages[-2].channels) and np.isfinite(pooled).all()

    if name == "perceptron":  # trained by the perceptron rule, not by gradients
        before = [v.numpy().copy() for v in model.trainable_variables]
        model.compile()
        model.fit(
            np.array([[1, 1], [1, 0]], "float32"),
            np.zeros(2, "float32"),
            batch_size=1,
            epochs=1,
            verbose=0,
        )
        assert all(
            not np.array_equal(a, v.numpy())
            for a, v in zip(before, model.trainable_variables, strict=True)
        )
        return
    if not model.trainable_variables:
        assert name in ("mcculloch_pitts", "prewitt")  # handcrafted, fixed by design
        assert spec.weights.source == "builtin"
        return
    variables = model.trainable_variables
    if swappable_head(spec):
        # The loss is taken on the head's logits: a randomly initialised deep backbone gives
        # logits in the hundreds, whose softmax saturates and whose clipped cross-entropy then
        # passes no gradient at all (EfficientNetV2-L did, one run in a few).
        head = model.get_layer("predictions")
        model = keras.Model(model.inputs, [head.input, model.output])
    with tf.GradientTape() as tape:  # BatchNorm in inference mode, as fine-tuning keeps it
        if swappable_head(spec):
            pooled, outputs = model(x, training=False)
            logits = keras.ops.matmul(pooled, head.kernel) + head.bias
            loss = keras.losses.sparse_categorical_crossentropy(
                CLASSIFIER_LOSS_LABELS, logits, from_logits=True
            )
        else:
            outputs = model(x, training=False)
            loss = keras.ops.square(outputs - 0.5)
        loss = keras.ops.mean(loss)
    if swappable_head(spec):
        probabilities = np.asarray(outputs)
        assert probabilities.shape == (2, 3)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    gradients = tape.gradient(loss, variables)
    silent = [
        v.path
        for v, g in zip(variables, gradients, strict=True)
        if g is None or not np.any(g.numpy())
    ]
    assert silent == [], f"{len(silent)} of {len(variables)} weights get no gradient: {silent[:5]}"
    before = [v.numpy().copy() for v in variables]
    keras.optimizers.SGD(0.01).apply(gradients, variables)
    assert any(not np.array_equal(a, v.numpy()) for a, v in zip(before, variables, strict=True))
    assert all(np.isfinite(v.numpy()).all() for v in variables) and np.isfinite(float(loss))
