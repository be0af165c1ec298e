"""Classification metrics on predicted probabilities, shared by evaluation and fine-tuning.

Example:
    >>> zoo.metrics.accuracy(zoo.load("mnist_convnet"), x_test, y_test)
    99.6
"""

from __future__ import annotations

import numpy as np

EVALUATION_BATCH = 1000


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy of ``model`` on images ``x`` with integer labels ``y``, in percent."""
    probabilities = model.predict(x, batch_size=EVALUATION_BATCH, verbose=0)
    return float(np.mean(probabilities.argmax(axis=1) == y) * 100)
