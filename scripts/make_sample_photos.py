#!/usr/bin/env python3
"""Write zoo/data/photos/: ten small real photos, the default images that int8 LiteRT models are
calibrated and parity-checked on for the ImageNet models (``zoo.engines.int8``).

Source: the colour photos that scikit-image ships in ``skimage/data`` (public domain or CC0;
attribution in zoo/data/photos/PHOTOS.md). Each is scaled so that its shorter side is 256
pixels and saved as a JPEG of quality 90.

    pip install scikit-image && python scripts/make_sample_photos.py zoo/data/photos
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

#: skimage/data file -> name in zoo/data/photos, in the order calibration / parity alternate.
PHOTOS = {
    "astronaut.png": "astronaut.jpg",
    "chelsea.png": "cat.jpg",
    "coffee.png": "coffee.jpg",
    "rocket.jpg": "rocket.jpg",
    "hubble_deep_field.jpg": "hubble.jpg",
    "retina.jpg": "retina.jpg",
    "ihc.png": "stained_tissue.jpg",
    "brick.png": "brick.jpg",
    "grass.png": "grass.jpg",
    "gravel.png": "gravel.jpg",
}
SHORTER_SIDE = 256


def write(out: Path) -> dict[str, int]:
    import skimage

    source = Path(skimage.__file__).parent / "data"
    out.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for name, target in PHOTOS.items():
        image = Image.open(source / name).convert("RGB")
        scale = SHORTER_SIDE / min(image.size)
        image = image.resize(
            (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
        )
        image.save(out / target, quality=90)
        sizes[target] = (out / target).stat().st_size
    return sizes


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(write(Path(sys.argv[1])))
