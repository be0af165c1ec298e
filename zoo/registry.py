"""The name -> spec registry: listing, filtering and did-you-mean lookups. No TensorFlow import.

Example:
    >>> import zoo
    >>> zoo.list_models("mnist_*")
    ['mnist_autoencoder', 'mnist_convnet', 'mnist_rnn']
    >>> zoo.get_spec("mnist_cnn")
    Traceback (most recent call last):
    ...
    zoo.errors.UnknownModelError: Unknown model 'mnist_cnn'. Did you mean 'mnist_convnet'?
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable
from pathlib import Path

from zoo import run_dir, user_files
from zoo.errors import DataError, UnknownModelError
from zoo.spec import ModelSpec, validate_spec

FAMILY_MODULES = (
    "classic",
    "vgg",
    "resnet",
    "inception",
    "xception",
    "mobilenet",
    "densenet",
    "nasnet",
    "efficientnet",
    "convnext",
)


def _spec_modules() -> Iterable[Iterable[ModelSpec]]:
    import importlib

    return tuple(
        importlib.import_module(f"applications.{module}").SPECS for module in FAMILY_MODULES
    )


def build_registry(groups: Iterable[Iterable[ModelSpec]]) -> dict[str, ModelSpec]:
    """Index specs by name; raise ``ValueError`` on a duplicate name or an invalid spec."""
    registry: dict[str, ModelSpec] = {}
    for group in groups:
        for spec in group:
            if spec.name in registry:
                raise ValueError(f"Duplicate model name {spec.name!r} in the registry")
            problems = validate_spec(spec)
            if problems:
                raise ValueError(f"Invalid spec {spec.name!r}: " + "; ".join(problems))
            registry[spec.name] = spec
    return dict(sorted(registry.items()))


_REGISTRY = build_registry(_spec_modules())


def list_models(
    pattern: str | None = None,
    dataset: str | None = None,
    pretrained: bool | None = None,
) -> list[str]:
    """Names of the registered models, sorted, filtered by the given criteria.

    Args:
        pattern: shell wildcard on the name (``"mnist_*"``); ``None`` for all.
        dataset: keep models of this dataset only (``"mnist"``).
        pretrained: ``True`` keeps models with default weights, ``False`` those without.

    Example:
        >>> zoo.list_models(dataset="mnist")[:2]
        ['mlp_625', 'mnist_autoencoder']
    """
    names = []
    for name, spec in _REGISTRY.items():
        if pattern is not None and not fnmatch.fnmatchcase(name, pattern):
            continue
        if dataset is not None and spec.dataset != dataset:
            continue
        if pretrained is not None and spec.pretrained != pretrained:
            continue
        names.append(name)
    return names


def datasets() -> list[str]:
    """The datasets the registered models belong to."""
    return sorted({spec.dataset for spec in _REGISTRY.values()})


def get_spec(name: str) -> ModelSpec:
    """The spec registered under ``name``; for a path, the derived spec of a fine-tuning run
    directory (``zoo.run_dir``) or of a ``.keras`` file (``zoo.user_files``).

    Raises:
        UnknownModelError: (a ``ValueError``) naming the closest registered names.

    Example:
        >>> zoo.get_spec("perceptron").year
        1957
    """
    if isinstance(name, ModelSpec):
        return name
    if run_dir.is_run_dir(name):
        base = run_dir.read_run(name).get("base_model")
        if base not in _REGISTRY:  # a path (even to this run) or a name zoo does not know
            raise DataError(
                f"{Path(name) / run_dir.RUN_FILE}: base_model {base!r} is not a registered "
                "model; a run records the registry model it was fine-tuned from"
            )
        return run_dir.run_spec(name, _REGISTRY[base])
    if user_files.model_file_kind(name) == "keras":
        return user_files.file_spec(name)
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownModelError(unknown_model_message(name)) from None


def _is_abbreviation(short: str, name: str) -> bool:
    """True when the letters of ``short`` appear in order in ``name`` ('mnist_cnn' in
    'mnist_convnet')."""
    letters = iter(name)
    return all(char in letters for char in short)


def unknown_model_message(name: object) -> str:
    """'Unknown model ...' naming the closest registered names, or pointing to ``zoo list``."""
    query = str(name).lower().replace("-", "_")
    close = [n for n in _REGISTRY if len(query) >= 3 and _is_abbreviation(query, n)][:3]
    if not close:
        close = difflib.get_close_matches(query, list(_REGISTRY), n=3, cutoff=0.6)
    if close:
        hint = " or ".join(repr(n) for n in close)
        return f"Unknown model {name!r}. Did you mean {hint}?"
    return f"Unknown model {name!r}. Run `zoo list` to see the {len(_REGISTRY)} registered models."
