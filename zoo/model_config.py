"""Which objects a Keras model config may name, decided by an allow-list, not a deny-list.

A ``.keras`` file's ``config.json`` names every object Keras builds when it loads: layers,
initializers, dtype policies, operations, activation functions. Keras resolves each from its
``module``, ``class_name`` and ``registered_name``, and a name can reach any callable of the
Keras API (``keras.config.enable_unsafe_deserialization``, ``keras.utils.get_file``), a layer
that runs code (``Lambda``, ``TorchModuleWrapper``, ``TFSMLayer``), a serialised lambda
(``__lambda__``), or a layer that reads a file (a ``StringLookup`` whose vocabulary is a path).
Keras 3.15 refuses some of these itself; zoo does not rely on it. ``named_objects`` resolves
each name exactly as Keras would (registered objects first, then the public API, then a
``keras.src`` / ``zoo`` module) and keeps only:

- classes derived from Keras' modelling bases (``Layer``, ``Operation``, ``Initializer``,
  ``Regularizer``, ``Constraint``, ``DTypePolicy``, ``Loss``, ``Metric``, ``Optimizer``,
  ``LearningRateSchedule``), less the layers that carry code (``CODE_CLASSES``);
- functions of ``keras.activations``, ``keras.losses``, ``keras.metrics`` (by name, as Keras
  stores ``"relu"``);
- zoo's own registered layers, and Keras' value markers (``__numpy__``, ``__keras_tensor__``...).

Anything else is reported. Resolving imports Keras (the file is about to be loaded by it); it
never imports a module outside ``keras`` and ``zoo.layers``.

Example:
    >>> named_objects({"class_name": "function", "module": "keras.utils", "config": "get_file"})
    ["keras.utils.get_file (a function outside keras.activations, losses, metrics)"]
"""

from __future__ import annotations

import importlib
from typing import Any

#: Layers that run code given in the file (or a file it names) when they load or run.
CODE_CLASSES = ("Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer")
#: Layers whose ``vocabulary`` may be a path: a string there is a file read at load time.
FILE_VOCABULARY_CLASSES = ("StringLookup", "IntegerLookup", "TextVectorization")
#: Keras' markers for values inside a config (arrays, tensors, slices): data, not code.
VALUE_MARKERS = (
    "__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__", "__slice__",
    "__typespec__",
)  # fmt: skip
#: Namespaces whose functions a config may name (activations, and losses / metrics in a
#: compile config).
FUNCTION_NAMESPACES = ("activations", "losses", "metrics")
#: zoo's own module whose registered layers a config may name (no other zoo module is ever
#: imported for a config: importing ``zoo.__main__`` would run the command line).
ZOO_LAYERS = "zoo.layers"


def named_objects(config: Any, where: str = "model") -> list[str]:
    """Every object ``config`` names that is not on the allow-list (see the module doc), each
    as ``what (why)``; an empty list for a config that names only modelling objects."""
    found: list[str] = []
    stack: list[tuple[Any, str]] = [(config, where)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, list):
            stack.extend((value, where) for value in item)
        elif isinstance(item, dict):
            inner = item.get("config")
            name = inner.get("name") if isinstance(inner, dict) else None
            name = name if isinstance(name, str) else where
            if "class_name" in item:
                problem = _problem(item, name)
                if problem:
                    found.append(problem)
            stack.extend((value, name) for value in item.values())
    return sorted(set(found))


def _problem(item: dict[str, Any], where: str) -> str | None:
    class_name, module = item.get("class_name"), item.get("module")
    if not isinstance(class_name, str):
        return f"an object without a class name (in {where!r})"
    if class_name in VALUE_MARKERS:
        return None
    if class_name == "__lambda__":
        return f"a serialised Python lambda (in {where!r})"
    if class_name == "function":
        return _function_problem(item, module, where)
    resolved = _resolve(class_name, item.get("registered_name"), module)
    if isinstance(resolved, str):
        return f"{module}.{class_name} ({resolved}, in {where!r})"
    return _class_problem(resolved, item, module, class_name, where)


def _class_problem(cls, item, module, class_name, where) -> str | None:
    if not isinstance(cls, type) or not issubclass(cls, _modelling_bases()):
        what = "not a layer, operation or other modelling class"
        return f"{module}.{class_name} ({what}, in {where!r})"
    if cls.__name__ in CODE_CLASSES:
        return f"{cls.__name__} layer {where!r} (runs code from the file)"
    inner = item.get("config")
    if cls.__name__ in FILE_VOCABULARY_CLASSES and isinstance(inner, dict):
        if isinstance(inner.get("vocabulary"), str):
            return f"{cls.__name__} layer {where!r} (reads its vocabulary from a file)"
    return None


def _function_problem(item: dict[str, Any], module: Any, where: str) -> str | None:
    name = item.get("config")
    if not isinstance(name, str):
        return f"a function without a name (in {where!r})"
    import keras

    allowed = [getattr(keras, namespace) for namespace in FUNCTION_NAMESPACES]
    if module == "builtins" or module in {f"keras.{n}" for n in FUNCTION_NAMESPACES}:
        if any(callable(getattr(space, name, None)) for space in allowed):
            return None
    registered = _registered(item.get("registered_name") or name)
    if registered is not None and getattr(registered, "__module__", "").startswith("zoo."):
        return None
    return (
        f"{module}.{name} (a function outside keras.{', '.join(FUNCTION_NAMESPACES)}, in {where!r})"
    )


def _registered(name: Any):
    from keras.src.saving import object_registration

    return object_registration.get_registered_object(name) if isinstance(name, str) else None


def _resolve(class_name: str, registered_name: Any, module: Any):
    """The class Keras would build for these names (registered objects win, as in Keras'
    ``_retrieve_class_or_fn``), or why zoo will not look it up."""
    registered = _registered(registered_name or class_name)
    if registered is not None:
        return registered
    if not isinstance(module, str) or not (module.split(".")[0] == "keras" or module == ZOO_LAYERS):
        return "a module outside keras and zoo.layers"
    from keras.src.api_export import get_symbol_from_name

    public = get_symbol_from_name(f"{module}.{class_name}") if module.startswith("keras") else None
    if public is not None:
        return public
    if not (module.startswith("keras.src.") or module == ZOO_LAYERS):
        return "not in Keras' API"
    try:
        return getattr(importlib.import_module(module), class_name)
    except (ImportError, AttributeError):
        return "no such class"


def _modelling_bases() -> tuple[type, ...]:
    import keras
    from keras.src.ops.operation import Operation

    return (
        Operation,
        keras.initializers.Initializer,
        keras.regularizers.Regularizer,
        keras.constraints.Constraint,
        keras.DTypePolicy,
        keras.losses.Loss,
        keras.metrics.Metric,
        keras.optimizers.Optimizer,
        keras.optimizers.schedules.LearningRateSchedule,
    )
