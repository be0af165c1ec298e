"""Run the ``prewitt`` model on an image file and write its edge magnitude as a PNG.

Example:
    $ zoo classics prewitt photo.jpg --out edges.png
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from zoo.inputs.images import open_image, to_grayscale


def edge_responses(gray: np.ndarray) -> np.ndarray:
    """(H, W) float image -> (H-2, W-2, 2) Prewitt responses (horizontal, vertical edges)."""
    from zoo.models import load

    model = load("prewitt")
    return model.predict(gray[np.newaxis, :, :, np.newaxis].astype("float32"), verbose=0)[0]


def write_edges(image_path: str | Path, out_path: str | Path) -> dict[str, float]:
    """Write the edge magnitude of ``image_path`` to ``out_path`` (PNG, brightest edge = 255)."""
    gray = to_grayscale(open_image(image_path))
    if min(gray.shape) < 3:
        from zoo.errors import InputError

        raise InputError(f"{image_path}: image must be at least 3x3 pixels, got {gray.shape}")
    responses = edge_responses(gray)
    magnitude = np.sqrt((responses**2).sum(axis=-1))
    peak = float(magnitude.max())
    scaled = magnitude * (255.0 / peak) if peak > 0 else magnitude
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(scaled).astype(np.uint8), mode="L").save(out_path)
    return {"max_response": peak, "width": magnitude.shape[1], "height": magnitude.shape[0]}
