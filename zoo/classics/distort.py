"""Affine and elastic distortions of MNIST digits, in NumPy: the training-set deformations of
Simard et al. (2003) and Cireșan et al. (2012), drawn anew every epoch.

Each image is resampled (bilinear, background 0) through one map: a random rotation, scaling
per axis, shear and shift about the image centre, plus a smooth random displacement field (an
``elastic_grid`` x ``elastic_grid`` grid of uniform displacements of up to ``elastic`` pixels,
bilinearly upsampled to 28 x 28: smooth like the Gaussian-filtered fields of the papers, and
cheap).

Example:
    >>> rng = np.random.default_rng(0)
    >>> distorted = distort(x_train[:128], rng)
    >>> distorted.shape, distorted.dtype
    ((128, 28, 28), dtype('float32'))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Distortion:
    """The ranges the deformations are drawn from (uniformly, ± each value)."""

    rotation_degrees: float = 12.0
    scale: float = 0.12
    shear: float = 0.15
    shift: float = 2.0
    elastic: float = 1.5
    elastic_grid: int = 4

    def describe(self) -> str:
        return (
            f"rotation ±{self.rotation_degrees:g}°, scale ±{self.scale:.0%} per axis, shear "
            f"±{self.shear:g}, shift ±{self.shift:g} px, elastic ±{self.elastic:g} px "
            f"({self.elastic_grid}x{self.elastic_grid} grid)"
        )


def _upsample(grid: np.ndarray, size: int) -> np.ndarray:
    """(N, g, g) -> (N, size, size), bilinear, corners aligned."""
    count, cells = grid.shape[:2]
    position = np.linspace(0, cells - 1, size)
    low = np.clip(np.floor(position).astype(int), 0, cells - 2)
    weight = position - low
    rows = grid[:, low] * (1 - weight)[None, :, None] + grid[:, low + 1] * weight[None, :, None]
    return rows[:, :, low] * (1 - weight) + rows[:, :, low + 1] * weight


def distort(
    images: np.ndarray, rng: np.random.Generator, distortion: Distortion = Distortion()
) -> np.ndarray:
    """``images`` (N, 28, 28[, 1]) deformed, as float32 of the same value range."""
    shape = images.shape
    pixels = images.reshape(shape[0], shape[1], shape[2]).astype(np.float32)
    count, height, width = pixels.shape
    d = distortion
    angle = np.deg2rad(rng.uniform(-d.rotation_degrees, d.rotation_degrees, count))
    scale_y = 1 + rng.uniform(-d.scale, d.scale, count)
    scale_x = 1 + rng.uniform(-d.scale, d.scale, count)
    shear = rng.uniform(-d.shear, d.shear, count)
    shift = rng.uniform(-d.shift, d.shift, (count, 2))
    cos, sin = np.cos(angle), np.sin(angle)
    # the inverse map: output pixel -> source pixel, about the centre
    a = np.stack([cos / scale_y, (-sin + shear * cos) / scale_y], -1)  # row coefficients
    b = np.stack([sin / scale_x, (cos + shear * sin) / scale_x], -1)  # column coefficients
    centre_y, centre_x = (height - 1) / 2, (width - 1) / 2
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ys, xs = ys - centre_y, xs - centre_x
    source_y = a[:, 0, None, None] * ys + a[:, 1, None, None] * xs + centre_y - shift[:, :1, None]
    source_x = b[:, 0, None, None] * ys + b[:, 1, None, None] * xs + centre_x - shift[:, 1:, None]
    if d.elastic:
        grids = rng.uniform(-d.elastic, d.elastic, (2, count, d.elastic_grid, d.elastic_grid))
        source_y = source_y + _upsample(grids[0], height)
        source_x = source_x + _upsample(grids[1], width)
    return _bilinear(pixels, source_y, source_x).reshape(shape).astype(np.float32)


def _bilinear(pixels: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Sample each image of ``pixels`` at (``ys``, ``xs``), 0 outside."""
    count, height, width = pixels.shape
    padded = np.pad(pixels, ((0, 0), (1, 1), (1, 1)))
    ys = np.clip(ys + 1, 0, height + 0.999)
    xs = np.clip(xs + 1, 0, width + 0.999)
    y0, x0 = np.floor(ys).astype(np.int32), np.floor(xs).astype(np.int32)
    wy, wx = ys - y0, xs - x0
    index = np.arange(count)[:, None, None]
    top = padded[index, y0, x0] * (1 - wx) + padded[index, y0, x0 + 1] * wx
    bottom = padded[index, y0 + 1, x0] * (1 - wx) + padded[index, y0 + 1, x0 + 1] * wx
    return top * (1 - wy) + bottom * wy
