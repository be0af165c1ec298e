"""keras-zoo: one registry and one interface for classic and pretrained Keras models.

``import zoo`` never imports TensorFlow: ``load``, ``predict``, ``extract_features``,
``fine_tune``, ``tune``, ``probe``, ``evaluate``, ``explain``, ``export`` and ``verify`` are
the functions of their modules, imported on first use (PEP 562), so ``help(zoo.load)`` and
``inspect.signature(zoo.load)`` show their real parameters. zoo's own Keras objects are
registered as soon as Keras is imported, by zoo or by anyone else, so a ``.keras`` file saved
from a zoo model loads with ``keras.saving.load_model`` after ``import zoo``.

Example:
    >>> import zoo
    >>> zoo.list_models(dataset="mnist")
    ['mlp_625', 'mnist_autoencoder', 'mnist_convnet', 'mnist_rnn', 'modern_mlp',
     'softmax_regression']
    >>> model = zoo.load("mnist_convnet")
    >>> zoo.predict(model, ["digit.png"]).argmax(axis=1)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from zoo import moved
from zoo.errors import (
    DataError,
    InputError,
    TrainingError,
    UnknownModelError,
    WeightsError,
    WeightsHashError,
    ZooError,
)
from zoo.registration import register_keras_objects
from zoo.registry import get_spec, list_models
from zoo.spec import ModelSpec, WeightsSpec
from zoo.version import __version__

if TYPE_CHECKING:
    from zoo.evaluation.evaluate import evaluate as evaluate
    from zoo.evaluation.gradcam import explain as explain
    from zoo.exporting.artefact import export as export
    from zoo.inference.features import extract_features as extract_features
    from zoo.inference.prediction import predict as predict
    from zoo.models import load as load
    from zoo.training.finetune import fine_tune as fine_tune
    from zoo.training.probe import probe as probe
    from zoo.training.tune import tune as tune
    from zoo.weights.verify import verify as verify

#: Public functions imported on first use: name -> the module that defines it.
LAZY_FUNCTIONS = {
    "load": "zoo.models",
    "predict": "zoo.inference.prediction",
    "extract_features": "zoo.inference.features",
    "verify": "zoo.weights.verify",
    "fine_tune": "zoo.training.finetune",
    "probe": "zoo.training.probe",
    "export": "zoo.exporting.artefact",
    "tune": "zoo.training.tune",
    "evaluate": "zoo.evaluation.evaluate",
    "explain": "zoo.evaluation.gradcam",
}

__all__ = [
    "DataError",
    "InputError",
    "ModelSpec",
    "TrainingError",
    "UnknownModelError",
    "WeightsError",
    "WeightsHashError",
    "WeightsSpec",
    "ZooError",
    "__version__",
    "get_spec",
    "list_models",
    *LAZY_FUNCTIONS,
]


register_keras_objects()  # now if Keras is imported, else the moment it is (never imports it)
moved.install()  # zoo 0.1's module paths (zoo.finetune, ...) still import, with a warning


def __getattr__(name: str) -> Any:
    """``zoo.load`` and the other public functions, imported from their module on first use."""
    if name in LAZY_FUNCTIONS:
        function = getattr(importlib.import_module(LAZY_FUNCTIONS[name]), name)
        globals()[name] = function  # later lookups skip this hook
        return function
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(LAZY_FUNCTIONS))
