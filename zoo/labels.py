"""Class names of the label sets models refer to by name (``ModelSpec.labels``).

``imagenet`` is Keras' ImageNet-1k class index (WordNet id + name, Keras order), shipped as
``zoo/data/imagenet_class_index.json`` in Keras' own layout.

Example:
    >>> zoo.labels.names("mnist")[7]
    '7'
    >>> zoo.labels.names("imagenet")[386], zoo.labels.wordnet_ids("imagenet")[386]
    ('African_elephant', 'n02504458')
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

IMAGENET_INDEX = Path(__file__).resolve().parent / "data" / "imagenet_class_index.json"

_FIXED_SETS = {
    "mnist": tuple(str(digit) for digit in range(10)),
    "binary": ("0", "1"),
}
LABEL_SETS = (*_FIXED_SETS, "imagenet")


@cache
def imagenet_index() -> tuple[tuple[str, str], ...]:
    """(wordnet id, name) of the 1000 ImageNet classes, in Keras' order."""
    index = json.loads(IMAGENET_INDEX.read_text())
    return tuple(tuple(index[str(i)]) for i in range(len(index)))


def names(label_set: str | tuple[str, ...] | None, count: int | None = None) -> tuple[str, ...]:
    """The class names of ``label_set`` (a set's name, or the names themselves); plain indices
    when it is ``None``."""
    if isinstance(label_set, (tuple, list)):
        return tuple(label_set)
    if label_set is None:
        return tuple(str(index) for index in range(count or 0))
    if label_set == "imagenet":
        return tuple(name for _, name in imagenet_index())
    try:
        return _FIXED_SETS[label_set]
    except KeyError:
        raise ValueError(
            f"Unknown label set {label_set!r}; valid: {', '.join(LABEL_SETS)}"
        ) from None


def wordnet_ids(label_set: str | None) -> tuple[str, ...] | None:
    """WordNet ids of ``label_set`` when it has them (ImageNet), else ``None``."""
    if label_set == "imagenet":
        return tuple(wnid for wnid, _ in imagenet_index())
    return None
