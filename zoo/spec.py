"""Declarative model specs: pure data, no TensorFlow import.

A :class:`ModelSpec` says everything keras-zoo knows about one model: how to build it, what it
takes, how its input is preprocessed, where its weights are and what they hash to, and the
accuracy it is known for. ``applications.*`` modules export a ``SPECS`` tuple of them.

Example:
    >>> import zoo
    >>> spec = zoo.get_spec("mnist_convnet")
    >>> spec.input_shape, spec.num_classes
    ((28, 28, 1), 10)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The largest input a model file or run record may declare: sides of at most 8192 and at most
#: 4096 x 4096 x 3 values per image (201 MB as float32). A hand-made 231-byte run.json
#: declaring 12000 x 12000 x 3 allocated 6.16 GB before failing.
INPUT_SIDE_LIMIT = 8192
INPUT_VALUES_LIMIT = 4096 * 4096 * 3


def input_shape_problem(shape: Any, free_sides: bool = False) -> str | None:
    """What is wrong with an input shape read from a file (None when nothing): a list of 1 to 4
    sides, each a whole number 1..``INPUT_SIDE_LIMIT`` (or None, with ``free_sides``), with at
    most ``INPUT_VALUES_LIMIT`` values.

    Example:
        >>> input_shape_problem([12000, 12000, 3])
        'input shape [12000, 12000, 3]: sides must be 1..8192, at most 50,331,648 values'
    """
    sides = shape if isinstance(shape, (list, tuple)) else None
    fixed = [d for d in sides or () if d is not None]
    if (
        sides is None
        or not 1 <= len(sides) <= 4
        or not all(type(d) is int and 0 < d <= INPUT_SIDE_LIMIT for d in fixed)
        or (len(fixed) < len(sides) and not free_sides)
        or math.prod(fixed) > INPUT_VALUES_LIMIT
    ):
        return (
            f"input shape {shape!r}: sides must be 1..{INPUT_SIDE_LIMIT}"
            f"{' (or free)' if free_sides else ''}, at most {INPUT_VALUES_LIMIT:,} values"
        )
    return None


#: Preprocessing modes a spec may name; each is an in-graph layer in ``zoo.preprocessing``.
PREPROCESSING_MODES = ("raw", "mnist", "caffe", "tf", "torch")

#: Where a model's default weights come from.
#: ``shipped``: a file in ``zoo/data/weights`` pinned by sha256;
#: ``builtin``: fixed values the builder sets (a handcrafted filter, a textbook example);
#: ``url``: a file downloaded into the Keras cache, checked against its hash on every load;
#: ``run``: the ``model.keras`` of a fine-tuning run directory (``zoo.run_dir``);
#: ``file``: a user's own model file (``zoo.user_files``).
WEIGHT_SOURCES = ("shipped", "builtin", "url", "run", "file")

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.]*[a-z0-9]$")
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
MD5_PATTERN = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class WeightsSpec:
    """The default weights of a model.

    Attributes:
        source: one of ``WEIGHT_SOURCES``.
        file: file name inside ``zoo/data/weights`` (``shipped``) or in the cache (``url``).
        sha256: hex sha256 of that file, checked before every load.
        md5: the md5 upstream pins when no sha256 is known (``url`` only; Keras pins md5s).
        url: where the file is downloaded from (``url`` only).
        trained_on: what the weights were trained on, in words.
        layers: layer names the file must hold (``url`` only): checked before the sha256 of a
            file no hash is pinned for is recorded on first use.
    """

    source: str
    file: str | None = None
    sha256: str | None = None
    md5: str | None = None
    url: str | None = None
    trained_on: str = ""
    layers: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        return {key: value for key, value in vars(self).items() if value not in (None, "", ())}

    @property
    def trust(self) -> str:
        """How a downloaded copy is checked: ``pinned sha256``, ``pinned md5 (upstream's)``, or
        ``trusted on first use`` (its sha256 recorded at the first verified download)."""
        if self.sha256:
            return "pinned sha256"
        if self.md5:
            return "pinned md5 (upstream's)"
        return "trusted on first use"


@dataclass(frozen=True)
class FeatureStage:
    """A named intermediate output (like timm's feature_info): the layer, its stride, channels."""

    name: str
    layer: str
    stride: int | None
    channels: int


@dataclass(frozen=True)
class Reference:
    """A published figure for a model (top-1 accuracy in %, and top-5 when known) and its source."""

    top1: float | None
    source: str
    top5: float | None = None


@dataclass(frozen=True)
class ModelSpec:
    """Everything keras-zoo knows about one model.

    Attributes:
        name: registry name, snake_case (``mnist_convnet``).
        builder: ``builder(inputs, x, **builder_kwargs) -> keras.Model``, where ``inputs`` is the
            model's ``keras.Input`` and ``x`` the preprocessed tensor. Pure Keras, no I/O.
        summary: one line saying what the model is.
        family: the architecture family, which is the ``applications`` module that builds it:
            ``classic`` for the deck's history models, ``resnet``, ``mobilenet``, ... for the
            keras.applications ones (``keras_function`` names the exact Keras function).
        dataset: what the model's classes come from (``mnist``, ``logic``, ``none``).
        input_shape: shape of one input sample, without the batch axis.
        input_dtype: dtype of the model's input.
        num_classes: number of output classes, or ``None`` when the output is not a class score.
        labels: name of the label set in ``zoo.labels`` (``mnist``), the class names themselves
            (a fine-tuning run's), or ``None``.
        preprocessing: one of ``PREPROCESSING_MODES``; applied inside the graph.
        weights: the default weights, or ``None`` for an architecture without weights.
        weights_no_top: the same weights without the classifier, for ``include_top=False``.
        feature_stages: named intermediate outputs (``stem``, ``stage1`` .. ``stage5``).
        custom_objects: zoo's registered Keras objects its ``.keras`` file names
            (``zoo>HeavisideStep``): the file loads after ``import zoo``; without any, with
            Keras alone.
        mixed_precision: the TF runtime may run it in mixed float16 on a GPU (float32
            variables, float16 compute). False for the classic models: they are tiny and some
            threshold exactly.
        params: total parameter count of the built model (a test recomputes it).
        reference: the deck's published figure, when it has one.
        accuracy_floor: test-set accuracy (%) the shipped weights must reach.
        year: year the architecture was introduced.
        builder_kwargs: extra keyword arguments passed to ``builder``.
    """

    name: str
    builder: Callable[..., Any]
    summary: str
    family: str
    dataset: str
    input_shape: tuple[int, ...]
    num_classes: int | None
    preprocessing: str
    params: int
    weights: WeightsSpec | None = None
    weights_no_top: WeightsSpec | None = None
    input_dtype: str = "float32"
    labels: str | tuple[str, ...] | None = None
    reference: Reference | None = None
    accuracy_floor: float | None = None
    year: int | None = None
    feature_stages: tuple[FeatureStage, ...] = ()
    mixed_precision: bool = False
    custom_objects: tuple[str, ...] = ()
    builder_kwargs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def pretrained(self) -> bool:
        """True when the model comes with default weights (shipped or built in)."""
        return self.weights is not None

    @property
    def keras_function(self) -> str | None:
        """The ``keras.applications`` function that builds the model (``ResNet50``), or None
        for zoo's own architectures."""
        return self.builder_kwargs.get("function") if self.dataset == "imagenet" else None

    def describe(self) -> dict[str, Any]:
        """The spec as plain JSON-ready data (what ``zoo info --json`` prints).

        The JSON keys are a stable interface: ``family`` there names the Keras function of a
        keras.applications model (its ``family`` attribute is the family module since 0.1) and
        ``reference.accuracy`` is the published top-1.
        """
        reference = None
        if self.reference is not None:
            reference = {
                "accuracy": self.reference.top1,
                "top5": self.reference.top5,
                "source": self.reference.source,
            }
        return {
            "name": self.name,
            "summary": self.summary,
            "family": self.keras_function or self.family,
            "dataset": self.dataset,
            "year": self.year,
            "input_shape": list(self.input_shape),
            "input_dtype": self.input_dtype,
            "num_classes": self.num_classes,
            "labels": self.labels,
            "preprocessing": self.preprocessing,
            "params": self.params,
            "weights": self.weights.describe() if self.weights else None,
            "weights_no_top": self.weights_no_top.describe() if self.weights_no_top else None,
            "reference": reference,
            "accuracy_floor": self.accuracy_floor,
            "feature_stages": [vars(stage) for stage in self.feature_stages],
            "mixed_precision": self.mixed_precision,
            "keras_file": (
                "loads after `import zoo` (custom objects: " + ", ".join(self.custom_objects) + ")"
                if self.custom_objects
                else "loads with Keras alone (built-in layers only)"
            ),
            "builder": f"{self.builder.__module__}.{self.builder.__name__}",
            "builder_kwargs": dict(self.builder_kwargs),
        }


def validate_spec(spec: ModelSpec) -> list[str]:
    """Return the problems of ``spec`` (empty when it is valid). Used at import and in tests."""
    problems = []
    if not NAME_PATTERN.match(spec.name):
        problems.append(f"name {spec.name!r} is not snake_case")
    if spec.preprocessing not in PREPROCESSING_MODES:
        problems.append(
            f"preprocessing {spec.preprocessing!r} is not one of {', '.join(PREPROCESSING_MODES)}"
        )
    if spec.params <= 0:
        problems.append(f"params must be positive, got {spec.params}")
    for weights in (spec.weights, spec.weights_no_top):
        if weights is not None:
            problems.extend(_weights_problems(weights))
    if spec.reference is not None and spec.reference.top1 is not None:
        if not 0 < spec.reference.top1 <= 100:
            problems.append(f"reference top-1 {spec.reference.top1} is not in (0, 100]")
    if spec.accuracy_floor is not None and not 0 < spec.accuracy_floor <= 100:
        problems.append(f"accuracy floor {spec.accuracy_floor} is not in (0, 100]")
    return problems


def _weights_problems(weights: WeightsSpec) -> list[str]:
    problems = []
    if weights.source not in WEIGHT_SOURCES:
        problems.append(f"weights source {weights.source!r} is not one of {WEIGHT_SOURCES}")
    if weights.source in ("shipped", "url") and not weights.file:
        problems.append(f"{weights.source} weights need a file name")
    if weights.source == "shipped" and not (
        weights.sha256 and SHA256_PATTERN.match(weights.sha256)
    ):
        problems.append(f"shipped weights need a hex sha256, got {weights.sha256!r}")
    if weights.sha256 is not None and not SHA256_PATTERN.match(weights.sha256):
        problems.append(f"sha256 {weights.sha256!r} is not 64 hex digits")
    if weights.md5 is not None and not MD5_PATTERN.match(weights.md5):
        problems.append(f"md5 {weights.md5!r} is not 32 hex digits")
    if weights.source == "url" and not (weights.url or "").startswith(("https://", "http://")):
        problems.append(f"url weights need an http(s) URL, got {weights.url!r}")
    return problems
