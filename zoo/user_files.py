"""A user's own model files, loaded safely. No TensorFlow import until a model is loaded.

A model file can carry code: a ``Lambda`` layer's Python bytecode, or a config that names an
arbitrary callable (``{"module": "os", "class_name": "system"}``, the class of Keras'
CVE-2025-1550). zoo reads a ``.keras`` file's config itself before Keras sees it and refuses
every object that is not on its allow-list of modelling classes (``zoo.model_config``) unless
the caller trusts the file (``trust=True`` / ``--trust``); Keras then loads it in its safe mode
as well. A SavedModel folder and a legacy full-model ``.h5`` are code
by nature: they need the same explicit trust. Every HDF5 file zoo opens (weights too) is first
checked for external storage, external links and virtual datasets, which read other files.

Example:
    >>> model = zoo.load("my_model.keras")              # refused if it holds a Lambda layer
    >>> model = zoo.load("my_model.keras", trust=True)  # you wrote it: load it anyway
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from zoo.errors import InputError, WeightsError
from zoo.spec import FeatureStage, ModelSpec, WeightsSpec, input_shape_problem

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
#: The largest inflated ``config.json`` read: 8x the largest Keras application's (NASNetLarge,
#: 1.0 MB; EfficientNetV2-L 0.96 MB). Parsing one costs about 12x its size in memory.
CONFIG_LIMIT = 8 * 2**20
#: The deepest nesting of lists and dicts read from one (Keras applications: 11 levels).
CONFIG_DEPTH = 100
#: The weights inside a ``.keras`` archive: an HDF5 file, checked like any other.
KERAS_WEIGHTS = "model.weights.h5"
#: The files TensorFlow loads a folder as a SavedModel by (binary, chunked, text protobuf): a
#: folder holding any of them is code, whichever it holds.
SAVEDMODEL_FILES = ("saved_model.pb", "saved_model.cpb", "saved_model.pbtxt")


def is_savedmodel(path: str | Path) -> bool:
    """True for a folder TensorFlow would load as a SavedModel (``SAVEDMODEL_FILES``)."""
    path = Path(path).expanduser()
    return path.is_dir() and any((path / name).exists() for name in SAVEDMODEL_FILES)


def model_file_kind(path: str | Path) -> str | None:
    """``keras``, ``h5_model``, ``savedmodel`` or None for ``path``."""
    path = Path(path).expanduser()
    if is_savedmodel(path):
        return "savedmodel"
    if not path.is_file():
        return None
    name = path.name.lower()
    if name.endswith(".keras"):
        return "keras"
    if name.endswith((".h5", ".hdf5")) and not name.endswith(".weights.h5"):
        return "h5_model"
    return None


def check_hdf5(path: str | Path, largest: int | None = None, member: str | None = None) -> None:
    """Raise ``WeightsError`` when the HDF5 file at ``path`` (or the ``member`` of the zip
    archive at ``path``, as a ``.keras`` file holds its weights) reads other files (external
    storage, external links, virtual datasets) or, given ``largest`` (the most values a weight
    of the model holds), declares a dataset larger than that: a 28 KB file can declare a
    16384x16384 kernel, and reading it would allocate a gibibyte. Nothing is read."""
    if member is not None:
        try:
            with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
                _check_hdf5(handle, f"{path} ({member})", largest)
        except KeyError:  # the archive holds no such member: nothing to check
            return
        return
    _check_hdf5(path, str(path), largest)


def _check_hdf5(source: Any, path: str, largest: int | None) -> None:
    import h5py

    problems: list[str] = []
    oversized: list[str] = []

    def link(name: str, found) -> None:  # every link, at any depth, without following it
        if isinstance(found, h5py.ExternalLink):
            problems.append(f"{name}: an external link to {found.filename}")

    def dataset(name: str, item) -> None:
        if isinstance(item, h5py.Dataset):
            if item.external:
                problems.append(f"{name}: external storage in {item.external[0][0]!r}")
            if item.is_virtual:
                problems.append(f"{name}: a virtual dataset")
            if largest is not None and item.size > largest:
                oversized.append(f"{name} {item.shape} ({item.size} values)")

    try:
        with h5py.File(source, "r") as handle:
            handle.visititems_links(link)
            handle.visititems(dataset)
    except OSError as error:
        raise WeightsError(f"{path}: not a readable HDF5 file ({error})") from None
    if problems:
        raise WeightsError(
            f"{path} reads other files ({'; '.join(sorted(set(problems)))}): refused"
        )
    if oversized:
        raise WeightsError(
            f"{path} declares datasets larger than any weight of the model (largest: {largest} "
            f"values): {'; '.join(oversized[:3])}; refused before reading them"
        )


def keras_config(path: str | Path) -> dict[str, Any]:
    """The model config inside a ``.keras`` archive, read without Keras, within bounds: at
    most ``CONFIG_LIMIT`` bytes inflated (read no further, whatever the archive declares) and
    ``CONFIG_DEPTH`` levels deep, and a JSON object.

    Raises:
        InputError: not a Keras archive, or a config out of those bounds (one line each).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("config.json")
            with archive.open(info) as member:
                data = member.read(CONFIG_LIMIT + 1)
        if max(info.file_size, len(data)) > CONFIG_LIMIT:
            raise InputError(
                f"{path}: config.json inflates to over {CONFIG_LIMIT >> 20} MiB (it declares "
                f"{info.file_size} bytes); a model's config is at most about 1 MiB: refused"
            )
        config = json.loads(data)
    except RecursionError:
        config = None  # nested too deeply for the JSON parser itself: refused below
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise InputError(f"{path}: not a Keras archive ({error})") from None
    if config is None or _deeper_than(config, CONFIG_DEPTH):
        raise InputError(f"{path}: config.json nests deeper than {CONFIG_DEPTH} levels: refused")
    if not isinstance(config, dict):
        raise InputError(
            f"{path}: config.json holds a {type(config).__name__}, not a Keras model config "
            "(a JSON object)"
        )
    return config


def _deeper_than(value: Any, limit: int) -> bool:
    """True when lists and dicts nest in ``value`` more than ``limit`` levels (no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def code_objects(config: Any, where: str = "model") -> list[str]:
    """Every object in a Keras config that is not a modelling object of Keras or zoo: code, a
    callable of the wider Keras API, a layer that reads a file (``zoo.model_config``'s
    allow-list)."""
    from zoo.model_config import named_objects

    return named_objects(config, where)


def load_user_model(path: str | Path, trust: bool = False):
    """A Keras model from a user's file; see the module doc for what needs ``trust``.

    Raises:
        InputError: a file that carries code, without ``trust``; or not a model file.
    """
    path = Path(path).expanduser()
    kind = model_file_kind(path)
    if kind is None:
        raise InputError(
            f"{path}: not a model file (.keras, a full-model .h5, or a SavedModel folder)"
        )
    check_model_file(path, kind, trust)
    from zoo.backend import quiet_tensorflow

    quiet_tensorflow()
    import keras

    if kind == "savedmodel":
        return _savedmodel(path, keras)
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=not trust)
    except Exception as error:  # Keras raises many types for a bad or unsafe file
        raise InputError(f"Could not load {path}: {type(error).__name__}: {error}") from None


def check_model_file(path: Path, kind: str, trust: bool) -> None:
    """Refuse, before anything loads it, the model file at ``path`` (of ``model_file_kind``
    ``kind``) that could run code, without ``trust``, or read other files, even with it.

    Example:
        >>> check_model_file(Path("x.keras"), "keras", trust=False)  # InputError on a Lambda
    """
    if kind in ("savedmodel", "h5_model") and not trust:
        what = "A SavedModel" if kind == "savedmodel" else "A full-model .h5 file"
        raise InputError(
            f"{path}: {what} is code as much as data; zoo loads it only with trust=True "
            "(--trust) when you know where it comes from. A .keras file or a .weights.h5 "
            "file needs no trust"
        )
    if kind == "h5_model":
        check_hdf5(path)
    if kind == "keras":
        found = code_objects(keras_config(path))
        if found and not trust:
            raise InputError(
                f"{path} holds code that would run when it loads: {', '.join(found[:5])}. "
                "zoo refuses it unless you trust the file (trust=True, --trust)"
            )
        check_hdf5(path, member=KERAS_WEIGHTS)  # trusted or not: code is not the question


def _savedmodel(path: Path, keras):
    import tensorflow as tf

    signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    spec = next(iter(signature.structured_input_signature[1].values()))
    inputs = keras.Input(tuple(spec.shape[1:]), dtype=spec.dtype.name, name="inputs")
    layer = keras.layers.TFSMLayer(str(path), call_endpoint="serving_default")
    outputs = layer(inputs)
    if isinstance(outputs, dict):
        outputs = next(iter(outputs.values()))
    return keras.Model(inputs, outputs, name=path.name)


def _not_built(*_: Any, **__: Any):
    raise InputError("A model file is loaded as it was saved, not built")


def _input_shape(config: dict[str, Any], path: Path) -> tuple[Any, ...]:
    layers = config.get("config", {}).get("layers", [])
    for layer in layers:
        if layer.get("class_name") == "InputLayer":
            inner = layer.get("config", {})
            shape = inner.get("batch_shape") or inner.get("batch_input_shape")
            if shape:
                return _bounded_shape(shape[1:], path)
    raise InputError(f"{path}: no input layer in its config (a functional model is needed)")


def _bounded_shape(shape: Any, path: Path) -> tuple[Any, ...]:
    """The input shape a config declares, within ``zoo.spec.input_shape_problem``'s bounds
    (free sides allowed): preparing one image for a declared 12000 x 12000 x 3 would allocate
    gigabytes."""
    problem = input_shape_problem(shape, free_sides=True)
    if problem:
        raise InputError(f"{path}: its {problem}")
    return tuple(shape)


def _pooled_stage(config: dict[str, Any]) -> FeatureStage | None:
    """``pooled``: the input of the model's last top-level Dense layer (the representation
    its classifier reads), when it has one."""
    for layer in reversed(config.get("config", {}).get("layers", [])):
        if layer.get("class_name") != "Dense":
            continue
        try:
            tensor = layer["inbound_nodes"][0]["args"][0]["config"]
            source, shape = tensor["keras_history"][0], tensor["shape"]
        except (KeyError, IndexError, TypeError):
            return None
        channels = shape[-1] if isinstance(shape, list) and shape else None
        return FeatureStage("pooled", str(source), None, int(channels or 0))
    return None


def _parameter_count(path: Path) -> int:
    """The values in the archive's ``model.weights.h5`` (what ``count_params`` counts), read
    without Keras; 1 when they cannot be read (the spec needs a positive count)."""
    import h5py

    sizes: list[int] = []
    try:
        with zipfile.ZipFile(path) as archive, archive.open(KERAS_WEIGHTS) as member:
            with h5py.File(member, "r") as weights:
                weights.visititems(
                    lambda _, item: (
                        sizes.append(item.size) if isinstance(item, h5py.Dataset) else None
                    )
                )
    except (OSError, KeyError, zipfile.BadZipFile):
        return 1
    return max(1, sum(sizes))


def file_spec(path: str | Path) -> ModelSpec:
    """A spec for a user's ``.keras`` file, read from its config without Keras: its input
    shape says how image files are prepared (H×W×3: resized RGB; 28×28×1: an MNIST-like
    digit), ``PATH.labels.txt`` beside it (as ``zoo export`` writes) names its classes, and the
    input of its last Dense layer is its ``pooled`` feature stage."""
    import re

    path = Path(path).expanduser().resolve()
    config = keras_config(path)
    try:
        shape, pooled = _input_shape(config, path), _pooled_stage(config)
    except (AttributeError, TypeError, KeyError, IndexError) as error:
        raise InputError(
            f"{path}: config.json is not a Keras model config ({type(error).__name__}: {error})"
        ) from None
    labels_file = Path(f"{path}.labels.txt")
    names = tuple(labels_file.read_text().split()) if labels_file.is_file() else None
    photo = len(shape) == 3 and shape[-1] == 3
    digit = tuple(shape) == (28, 28, 1)
    stem = re.sub(r"[^a-z0-9_]+", "_", path.stem.lower()).strip("_") or "model"
    return ModelSpec(
        name=f"file_{stem}",
        builder=_not_built,
        summary=f"the model in {path}",
        family="file",
        dataset="imagenet" if photo else "mnist" if digit else "none",
        input_shape=tuple(shape),
        num_classes=len(names) if names else None,
        labels=names,
        preprocessing="mnist" if digit else "raw",
        params=_parameter_count(path),
        weights=WeightsSpec(source="file", file=str(path), trained_on="(a model file)"),
        feature_stages=(pooled,) if pooled else (),
    )
