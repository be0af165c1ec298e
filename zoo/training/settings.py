"""A fine-tune's arguments: their defaults, the checks that refuse a bad one with what was
received and what is valid, and the values derived from them (the learning rates, the input
shape, what phase 2 unfreezes).

Example:
    >>> settings.learning_rates(None)
    (0.01, 0.001)
    >>> settings.parse_unfreeze("top:20", zoo.get_spec("mnist_convnet"))
    ('top', 20)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from zoo.errors import InputError
from zoo.models import stage_names, swappable_head
from zoo.spec import ModelSpec
from zoo.training import distribution, recipe
from zoo.training.augmentation import check_level

#: Head phase: Adam at 1e-2, a linear layer on fixed features. MobileNet 0.25 on optdigits,
#: 3 head epochs: 47.9 % validation accuracy at 1e-3, 74.9 % at 3e-3, 78.0 % at 1e-2 (measured).
HEAD_LEARNING_RATE = 1e-2
#: Phase 2 runs at a tenth of the head's rate, warmed up over its first epoch and decayed by a
#: cosine (issue 28's measurements, docs/finetuning.md "Choosing the defaults"). zoo 0.1 ran it
#: at a hundredth, constant: a tenth without warmup fell from 87.5 % to 33.7 % in its first
#: epoch on optdigits; with the warmup it beat a hundredth on every data set measured.
BODY_LEARNING_RATE_FACTOR = 0.1
DEFAULT_VALIDATION = 0.2
BN_MODES = ("frozen", "train")
CLASS_WEIGHTS = ("balanced",)
UNFREEZE_HELP = (
    "'all', 'none', 'top:N' (the last N layers with weights) or a stage and '+' ('stage4+')"
)


def parse_unfreeze(unfreeze: str, spec: ModelSpec) -> tuple[str, Any]:
    """``("all"|"none", None)``, ``("top", N)`` or ``("stage", name)`` for an ``unfreeze``
    text; an ``InputError`` naming the valid forms otherwise."""
    text = str(unfreeze).strip().lower()
    if text in ("all", "none"):
        return text, None
    if match := re.fullmatch(r"top:(\d+)", text):
        if int(match.group(1)) < 1:
            raise InputError(f"unfreeze 'top:N' needs N >= 1, received {unfreeze!r}")
        return "top", int(match.group(1))
    stages = [s for s in stage_names(spec) if s not in ("pooled", "logits")]
    if text.endswith("+") and text[:-1] in stages:
        return "stage", text[:-1]
    raise InputError(
        f"unfreeze must be {UNFREEZE_HELP}; received {unfreeze!r} "
        f"({spec.name}'s stages: {', '.join(stages) or 'none'})"
    )


def learning_rates(learning_rate: Any) -> tuple[float, float]:
    """(head, phase 2) rates for ``learning_rate``; for ``"auto"`` the defaults, which the
    range test (``zoo.training.lr_find``) replaces when it finds a rate."""
    if learning_rate is None or learning_rate == "auto":
        return HEAD_LEARNING_RATE, HEAD_LEARNING_RATE * BODY_LEARNING_RATE_FACTOR
    rates = learning_rate if isinstance(learning_rate, (tuple, list)) else [learning_rate]
    numbers = all(isinstance(r, (int, float)) and not isinstance(r, bool) for r in rates)
    if len(rates) == 1 and numbers:
        rates = [rates[0], rates[0] * BODY_LEARNING_RATE_FACTOR]
    if len(rates) != 2 or not all(
        isinstance(r, (int, float)) and not isinstance(r, bool) and r > 0 for r in rates
    ):
        raise InputError(
            "learning_rate must be None (the defaults), 'auto' (a range test per phase), a "
            "positive number (the head's rate; phase 2 takes a tenth) or a pair (head, "
            f"phase 2); received {learning_rate!r}"
        )
    return float(rates[0]), float(rates[1])


def check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{name} must be a whole number >= 0, received {value!r}")
    return value


def describe_data(data: Any) -> Any:
    """What a run records of its data: a resolved path, or the kind of in-memory data (whose
    content is pinned by the data digest)."""
    if data is None or isinstance(data, float):
        return data
    if isinstance(data, (str, Path)):
        return str(Path(data).expanduser().resolve())
    if isinstance(data, (tuple, list)):
        return "arrays"
    return type(data).__name__


def training_input_shape(spec: ModelSpec, image_size: int | None) -> tuple[int, ...]:
    if image_size is None:
        return tuple(spec.input_shape)
    if spec.dataset != "imagenet":
        raise InputError(
            f"image_size applies to the ImageNet models; {spec.name} takes {spec.input_shape}"
        )
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 32:
        raise InputError(
            f"image_size must be a whole number of pixels >= 32, received {image_size!r}"
        )
    return (image_size, image_size, 3)


def check_arguments(spec: ModelSpec, arguments: dict[str, Any]) -> None:
    if not swappable_head(spec):
        image_models = "the MNIST and ImageNet classifiers (`zoo list --dataset mnist`)"
        raise InputError(f"Model {spec.name!r} has no classifier head to fine-tune; {image_models}")
    if spec.weights is not None and spec.weights.source == "run":
        raise InputError(
            f"{spec.name} is a fine-tuned run; fine-tune its base model "
            f"({spec.family}) with the new data instead"
        )
    check_count(arguments["epochs"], "epochs")
    check_count(arguments["head_epochs"], "head_epochs")
    if arguments["epochs"] + arguments["head_epochs"] == 0:
        raise InputError("epochs and head_epochs are both 0: nothing to train")
    parse_unfreeze(arguments["unfreeze"], spec)
    if arguments["bn"] not in BN_MODES:
        raise InputError(f"bn must be one of {', '.join(BN_MODES)}; received {arguments['bn']!r}")
    check_level(arguments["augment"])
    learning_rates(arguments["learning_rate"])
    training_input_shape(spec, arguments["image_size"])
    if arguments["class_weight"] not in (None, *CLASS_WEIGHTS):
        raise InputError(
            f"class_weight must be None or 'balanced'; received {arguments['class_weight']!r}"
        )
    dropout = arguments["head_dropout"]
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise InputError(f"head_dropout must be a fraction in [0, 1), received {dropout!r}")
    if isinstance(arguments["seed"], bool) or not isinstance(arguments["seed"], int):
        raise InputError(f"seed must be an integer, received {arguments['seed']!r}")
    recipe.check_recipe(arguments)
    if arguments["mirror"] not in (True, False, "auto"):
        raise InputError(f"mirror must be True, False or 'auto'; received {arguments['mirror']!r}")
    distribution.check_strategy(arguments["strategy"])


def check_validation(validation: Any) -> Any:
    if isinstance(validation, bool):
        raise InputError(f"validation must be a fraction, data or None; received {validation!r}")
    if isinstance(validation, (int, float)):
        if not 0 < validation < 1:
            raise InputError(f"validation as a fraction must be in (0, 1), received {validation!r}")
        return float(validation)
    if isinstance(validation, str):
        try:
            return check_validation(float(validation))
        except ValueError:
            return validation
    return validation


#: The arguments a run records in ``run.json`` (and compares on resume), in this order.
RECORDED = (
    "epochs",
    "head_epochs",
    "unfreeze",
    "bn",
    "augment",
    "learning_rate",
    "image_size",
    "batch_size",
    "seed",
    "class_weight",
    "weights",
    "cached_head",
    "head_dropout",
    "label_smoothing",
    "mix",
    "mix_alpha",
    "ema",
    "layer_decay",
    "warmup",
    "schedule",
    "patience",
    "mirror",
    "strategy",
)


def recorded_arguments(spec: ModelSpec, given: dict[str, Any]) -> dict[str, Any]:
    """What ``run.json`` records of ``zoo.fine_tune``'s arguments ``given``: the model's name,
    paths resolved, in-memory data by kind, the batch size checked."""
    from zoo.inputs.sources import checked_batch_size

    weights = given["weights"]
    arguments = {
        "model": spec.name,
        "data": describe_data(given["data"]),
        "validation": describe_data(given["validation"]),
    }
    arguments.update({name: given[name] for name in RECORDED})
    arguments["batch_size"] = checked_batch_size(given["batch_size"])
    if weights not in (None, "default", "imagenet"):
        arguments["weights"] = describe_data(weights)
    return arguments
