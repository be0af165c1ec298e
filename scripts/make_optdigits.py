#!/usr/bin/env python3
"""Pack the 1,797 optdigits images into zoo/data/optdigits.npz, the embedded default that
`zoo classics transfer` (and `make demo`) fine-tunes on.

Source: a folder with one sub-folder per digit of 8x8 PNGs (../shared/data/optdigits: the UCI
"Optical Recognition of Handwritten Digits" set, the copy scikit-learn ships as load_digits;
CC BY 4.0, attribution in zoo/data/OPTDIGITS.md). The archive holds x (1797, 8, 8) uint8 in
0..255, y (1797,) uint8 and the source file names, in sorted order, compressed.

    python scripts/make_optdigits.py ../shared/data/optdigits zoo/data/optdigits.npz
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image


def pack(source: Path, out: Path) -> dict[str, int]:
    images, labels, names = [], [], []
    for digit in range(10):
        for path in sorted((source / str(digit)).glob("*.png")):
            pixels = np.asarray(Image.open(path).convert("L"), dtype=np.uint8)
            if pixels.shape != (8, 8):
                raise SystemExit(f"{path}: expected 8x8 pixels, found {pixels.shape}")
            images.append(pixels)
            labels.append(digit)
            names.append(f"{digit}/{path.name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out, x=np.stack(images), y=np.asarray(labels, np.uint8), names=np.asarray(names)
    )
    return {"images": len(images), "bytes": out.stat().st_size}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    print(pack(Path(sys.argv[1]), Path(sys.argv[2])))
