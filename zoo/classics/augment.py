"""Training-time augmentation for MNIST: small random shifts, in NumPy."""

from __future__ import annotations

import numpy as np


def random_shift(images: np.ndarray, rng: np.random.Generator, max_shift: int = 2) -> np.ndarray:
    """Shift each (28, 28) image by up to ``max_shift`` pixels in x and y, filling with 0."""
    count, height, width = images.shape[:3]
    padded = np.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    dy = rng.integers(0, 2 * max_shift + 1, count)
    dx = rng.integers(0, 2 * max_shift + 1, count)
    rows = dy[:, None] + np.arange(height)
    cols = dx[:, None] + np.arange(width)
    return padded[np.arange(count)[:, None, None], rows[:, :, None], cols[:, None, :]]
