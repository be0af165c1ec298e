"""keras-zoo: one registry and one interface for classic and pretrained Keras models.

``import zoo`` never imports TensorFlow; it is imported on first use of a model.

Example:
    >>> import zoo
    >>> zoo.list_models(dataset="mnist")
    ['mlp_625', 'mnist_autoencoder', 'mnist_convnet', 'mnist_rnn', 'modern_mlp', 'softmax_regression']
    >>> model = zoo.load("mnist_convnet")
    >>> zoo.predict(model, ["digit.png"]).argmax(axis=1)
"""
from __future__ import annotations

from zoo.errors import (
    DataError,
    InputError,
    UnknownModelError,
    WeightsError,
    WeightsHashError,
    ZooError,
)
from zoo.registry import get_spec, list_models
from zoo.spec import ModelSpec, WeightsSpec

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "InputError",
    "ModelSpec",
    "UnknownModelError",
    "WeightsError",
    "WeightsHashError",
    "WeightsSpec",
    "ZooError",
    "__version__",
    "extract_features",
    "get_spec",
    "list_models",
    "load",
    "predict",
    "verify",
]


def load(name, weights="default", **options):
    """Build a registered model and load its weights; see :func:`zoo.models.load`."""
    from zoo.models import load as _load

    return _load(name, weights=weights, **options)


def extract_features(model_or_name, src, **options):
    """Features of every image under ``src``; see :func:`zoo.features.extract_features`."""
    from zoo.features import extract_features as _extract

    return _extract(model_or_name, src, **options)


def predict(model_or_name, images, *, weights="default", batch_size=32):
    """Class probabilities for an array of images or a list of image files; see
    :func:`zoo.prediction.predict`."""
    from zoo.prediction import predict as _predict

    return _predict(model_or_name, images, weights=weights, batch_size=batch_size)


def verify(names=None):
    """Check the sha256 of the shipped weights of ``names`` (default: all); see
    :func:`zoo.verification.verify`."""
    from zoo.verification import verify as _verify

    return _verify(names)
