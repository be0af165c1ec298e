"""``zoo.load``: build a registered model, verify and load its weights, return a keras.Model.

Example:
    >>> model = zoo.load("mnist_convnet")            # shipped weights, sha256-checked
    >>> model.predict(x_test[:2], verbose=0).shape   # raw uint8 digits in, probabilities out
    (2, 10)
    >>> backbone = zoo.load("mobilenet_v1_0.25_224", include_top=False, input_shape=(128, 128, 3))
    >>> classifier = zoo.load("resnet50", num_classes=5)   # ImageNet backbone, new 5-way head
"""

from __future__ import annotations

import fnmatch
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo import registry
from zoo.backend import quiet_tensorflow
from zoo.errors import InputError, WeightsError
from zoo.spec import ModelSpec
from zoo.user_files import check_hdf5, check_model_file, load_user_model, model_file_kind
from zoo.weights import resolve as weights_lib

if TYPE_CHECKING:
    import keras


def build(
    spec: ModelSpec, input_shape: tuple[int | None, ...] | None = None, **builder_kwargs: Any
) -> keras.Model:
    """The model of ``spec`` with its preprocessing inside, untrained (or with builtin weights)."""
    quiet_tensorflow()
    import keras

    from zoo.preprocessing import preprocess

    kwargs = {**spec.builder_kwargs, **builder_kwargs}
    inputs = keras.Input(
        tuple(input_shape or spec.input_shape), dtype=spec.input_dtype, name="inputs"
    )
    x = preprocess(inputs, spec.preprocessing, dtype=spec.input_dtype)
    model = spec.builder(inputs, x, **kwargs)
    model.name = spec.name
    return model


def swappable_head(spec: ModelSpec) -> bool:
    """True when ``num_classes=`` can replace the model's classifier: it has one, fed by a
    ``pooled`` feature stage (the MNIST and ImageNet classifiers)."""
    return spec.num_classes is not None and "pooled" in stage_names(spec)


def _check_options(
    spec: ModelSpec, include_top: bool, num_classes: int | None, input_shape
) -> None:
    keras_application = spec.keras_function is not None
    if num_classes is not None and not swappable_head(spec):
        raise InputError(
            f"Model {spec.name!r} has no classifier head to replace, so it takes no "
            "num_classes; the MNIST and ImageNet classifiers do"
        )
    if (not include_top or input_shape is not None) and not keras_application:
        raise InputError(
            f"Model {spec.name!r} takes no include_top/input_shape options; they apply to the "
            "ImageNet models"
        )
    if num_classes is not None and (
        isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1
    ):
        raise InputError(f"num_classes must be a positive integer, received {num_classes!r}")
    if input_shape is not None:
        shape = tuple(input_shape)
        if len(shape) != 3 or shape[-1] != 3:
            raise InputError(f"input_shape must be (height, width, 3), received {shape}")
        if include_top and num_classes is None and shape != tuple(spec.input_shape):
            raise InputError(
                f"{spec.name} with its ImageNet classifier takes {spec.input_shape}; "
                f"received input_shape={shape}. Pass include_top=False (or num_classes=) for "
                "another size"
            )


def load(
    name: str | ModelSpec,
    weights: str | Path | None = "default",
    *,
    include_top: bool = True,
    num_classes: int | None = None,
    input_shape: tuple[int, ...] | None = None,
    pooling: str | None = None,
    features: list[str] | None = None,
    trust: bool = False,
    **builder_kwargs: Any,
) -> keras.Model:
    """Build the model registered as ``name`` and load its weights (or load a model file).

    Args:
        name: a registry name (see ``zoo.list_models()``), a ``ModelSpec``, a fine-tuning run
            directory, or a model file of your own (``.keras``, full-model ``.h5``, SavedModel
            folder; see ``zoo.user_files`` for what needs ``trust``).
        weights: ``"default"`` (``"imagenet"`` is the same for ImageNet models): the shipped
            file, or the Keras-cache file (downloaded if missing), verified by hash;
            ``None`` / ``"none"``: random initialisation; or a path to a weights file.
        include_top: ImageNet models only: keep the 1000-class classifier. ``False`` gives the
            backbone (``pooling`` ``None``, ``"avg"`` or ``"max"``) at any ``input_shape``.
        num_classes: replace the classifier by a new ``num_classes``-way softmax on the
            ``pooled`` features (the average-pooled backbone of an ImageNet model, the
            representation before the classifier of an MNIST one), named ``predictions``.
        input_shape: ImageNet backbones only: (height, width, 3) to build at.
        features: feature stages to output instead (``["stage3", "pooled"]``; ``zoo info NAME``
            lists them): the model then returns a dict of those stages. An ImageNet model is
            built without its classifier unless ``"logits"`` is asked for.
        trust: load a model file that carries code (a Lambda layer, a SavedModel, a legacy
            ``.h5`` model): only for files you know the origin of.
        **builder_kwargs: override the spec's builder arguments (``preset="or"``).

    Returns:
        A plain ``keras.Model`` with the preprocessing inside the graph: it takes raw pixels
        (0..255) and returns class probabilities (or features for a backbone).

    Raises:
        UnknownModelError: ``name`` is not registered (the message suggests close names).
        WeightsHashError: a weights file does not match its hash; nothing is loaded.
        WeightsError: the weights file is missing, unreachable, or does not fit the model.

    Example:
        >>> model = zoo.load("mlp_625")
        >>> model.count_params()
        496885
    """
    if isinstance(name, (str, Path)) and model_file_kind(name) is not None:
        if num_classes is not None or features is not None or input_shape is not None:
            raise InputError(f"{name} is a model file: it loads as it was saved (no options)")
        return load_user_model(name, trust=trust)
    spec = registry.get_spec(name)
    if spec.weights is not None and spec.weights.source == "file":
        model = load(spec.weights.file, trust=trust)
        return model if features is None else feature_model(model, spec, list(features))
    if spec.weights is not None and spec.weights.source == "run":
        return _load_run(spec, weights, include_top, num_classes, input_shape, features, trust)
    keras_application = spec.keras_function is not None  # has a headless form and file
    if features is not None and keras_application and num_classes is None:
        include_top = "logits" in features
    _check_options(spec, include_top, num_classes, input_shape)
    headless = keras_application and (not include_top or num_classes is not None)
    path = weights_lib.resolve(spec, weights, include_top=not headless)
    if keras_application:
        builder_kwargs = {
            "include_top": not headless,
            "pooling": "avg" if num_classes is not None else pooling,
            **builder_kwargs,
        }
    model = build(spec, input_shape=input_shape, **builder_kwargs)
    if path is not None:
        load_weights_file(model, path)
    if num_classes is not None:
        pooled = model.output if keras_application else stage_tensor(model, spec, "pooled")
        model = with_new_head(model, num_classes, spec.name, pooled)
    if features is not None:
        model = feature_model(model, spec, list(features))
    return model


def _load_run(spec: ModelSpec, weights, include_top, num_classes, input_shape, features, trust):
    """The model of a fine-tuning run directory: its ``model.keras``, verified against the
    run's ``model_sha256`` and then checked as any ``.keras`` file is (no code without
    ``trust``, no HDF5 reading other files): the record and the model may both be forged."""
    if weights != "default" or not include_top or input_shape is not None:
        raise InputError(
            f"{spec.name} is a fine-tuned run: it loads as it was saved (weights='default'; "
            "no include_top/input_shape); take features= for its feature stages"
        )
    quiet_tensorflow()
    import keras

    path = weights_lib.resolve(spec, "default")
    check_model_file(path, "keras", trust)
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=not trust)
    except Exception as error:  # Keras raises many types for a bad archive
        raise WeightsError(f"Could not load {path}: {error}") from None
    if num_classes is not None:
        _check_options(spec, True, num_classes, None)
        model = with_new_head(model, num_classes, model.name, model.get_layer("predictions").input)
    if features is not None:
        model = feature_model(model, spec, list(features))
    return model


def resolve_model(
    model_or_name: Any, weights: Any = "default", **load_options: Any
) -> tuple[keras.Model, ModelSpec | None]:
    """(model, spec) for a registry name, a ModelSpec or a keras.Model (its spec found by its
    name; ``None`` for a model zoo does not know)."""
    if isinstance(model_or_name, (str, Path, ModelSpec)):
        spec = registry.get_spec(model_or_name)
        return load(spec, weights=weights, **load_options), spec
    name = getattr(model_or_name, "name", None)
    spec = registry.get_spec(name) if name in registry.list_models() else None
    return model_or_name, spec


def with_new_head(backbone: keras.Model, num_classes: int, name: str, pooled) -> keras.Model:
    """``backbone`` with a fresh softmax classifier named ``predictions`` on ``pooled``, its
    pooled-features tensor (its output, for a keras.applications backbone built with
    ``pooling="avg"``)."""
    import keras

    outputs = keras.layers.Dense(
        num_classes, activation="softmax", name="predictions", dtype="float32"
    )(pooled)  # float32 probabilities under a mixed-precision policy too
    return keras.Model(model_inputs(backbone), outputs, name=name)


def model_inputs(model):
    """``model``'s input tensor (its list of inputs when it has several): a new model on it
    is then called with a plain array, without Keras' input-structure warning."""
    return model.inputs[0] if len(model.inputs) == 1 else model.inputs


def load_weights_file(model, path: Path) -> None:
    """Load a Keras weights file into ``model``; wrap Keras' errors in a ``WeightsError``.

    Keras only warns when part of a file does not fit the model and leaves those layers
    randomly initialised; such a warning is an error here.
    """
    if str(path).lower().endswith((".h5", ".hdf5")):
        # files that read other files, datasets larger than the model's: refused unread
        check_hdf5(path, largest=max((math.prod(w.shape) for w in model.weights), default=0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(str(path))
        except Exception as error:  # h5py/Keras raise many types for a bad file
            raise WeightsError(
                f"Could not load weights file {path} into model {model.name!r}: {error}"
            ) from None
    partial = [str(w.message) for w in caught if "saving" in (w.filename or "")]
    if partial:
        raise WeightsError(f"Weights file {path} does not fit model {model.name!r}: {partial[0]}")


# -- feature stages ---------------------------------------------------------------------------


def stage_names(spec: ModelSpec) -> list[str]:
    """The feature stages ``spec`` documents, in order."""
    return [stage.name for stage in spec.feature_stages]


def check_stages(spec: ModelSpec, stages: Sequence[str]) -> None:
    """Raise ``InputError`` naming the valid stages when one of ``stages`` is not documented."""
    valid = stage_names(spec)
    for stage in stages:
        if stage not in valid:
            raise InputError(
                f"Model {spec.name!r} has no feature stage {stage!r}; "
                f"valid: {', '.join(valid) or 'none'}"
            )


def stage_tensor(model: keras.Model, spec: ModelSpec, stage: str):
    """The tensor of ``stage`` inside ``model`` (built from ``spec``)."""
    import keras

    if stage == "logits":  # the input of the softmax layer
        logits = model.get_layer("probabilities").input
        if isinstance(logits, list):  # a committee averages probabilities: their log, whose
            probabilities = model.get_layer("probabilities").output  # softmax gives them back
            return keras.ops.log(keras.ops.maximum(probabilities, 1e-30))
        return logits
    if spec.dataset != "imagenet" or spec.family == "file":  # stages named by their layer
        layer = next(s.layer for s in spec.feature_stages if s.name == stage)
        if "*" in layer:  # several layers (a committee's members), concatenated in model order
            outputs = [found.output for found in model.layers if fnmatch.fnmatch(found.name, layer)]
            return keras.layers.Concatenate(name=stage)(outputs)
        return model.get_layer(layer).output
    from applications.keras_imagenet import stride_outputs

    found = stride_outputs(model)  # by stride: robust to Keras' per-session layer numbering
    if stage == "pooled":  # the global average of the backbone's last feature map
        return keras.layers.GlobalAveragePooling2D(name="pooled")(
            model.get_layer(found[max(found)][0]).output
        )
    stride = next(s.stride for s in spec.feature_stages if s.name == stage)
    if stride not in found:
        raise InputError(
            f"Model {spec.name!r} at input {tuple(model.inputs[0].shape[1:])} "
            f"has no feature map at stride {stride} (stage {stage!r})"
        )
    return model.get_layer(found[stride][0]).output


def feature_model(model: keras.Model, spec: ModelSpec, stages: Sequence[str]) -> keras.Model:
    """A model with the same input and one output per stage (a dict keyed by stage name), like
    timm's ``features_only``."""
    import keras

    check_stages(spec, stages)
    outputs = {stage: stage_tensor(model, spec, stage) for stage in stages}
    return keras.Model(model_inputs(model), outputs, name=f"{spec.name}_features")
