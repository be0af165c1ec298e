#!/usr/bin/env python3
"""Draw the ten sample digits shipped in zoo/data/samples: pen strokes on light paper.

They are drawn, not taken from MNIST, so `zoo predict` shows the whole path a user's own photo
takes: grayscale, inversion, crop to the ink, 20x20 box, centring by mass.

    python scripts/make_sample_digits.py zoo/data/samples
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

SIZE = 160
PEN = 13


def arc(cx, cy, rx, ry, start, end, steps=40):
    """Points on an ellipse from angle ``start`` to ``end`` (degrees, 0 = right, 90 = down)."""
    return [
        (
            cx + rx * math.cos(math.radians(start + (end - start) * i / steps)),
            cy + ry * math.sin(math.radians(start + (end - start) * i / steps)),
        )
        for i in range(steps + 1)
    ]


STROKES = {
    "0": [arc(80, 80, 36, 55, 0, 360)],
    "1": [[(66, 44), (86, 26), (86, 136)]],
    "2": [arc(80, 58, 34, 32, 200, 385) + [(46, 134), (118, 134)]],
    "3": [arc(76, 52, 32, 27, 210, 450), arc(76, 105, 36, 31, 270, 505)],
    "4": [[(96, 26), (40, 104), (122, 104)], [(100, 62), (100, 138)]],
    "5": [[(114, 28), (56, 28), (50, 76)] + arc(78, 102, 36, 34, 235, 480)],
    "6": [arc(120, 104, 70, 80, 250, 180) + arc(84, 104, 34, 32, 180, 540)],
    "7": [[(42, 30), (118, 30), (70, 136)]],
    "8": [arc(80, 52, 28, 25, 0, 360), arc(80, 108, 34, 30, 0, 360)],
    "9": [arc(78, 56, 32, 28, 0, 360), [(110, 56), (104, 136)]],
}


def draw_digit(digit: str) -> Image.Image:
    paper = Image.new("L", (SIZE, SIZE), 235)
    pen = ImageDraw.Draw(paper)
    for stroke in STROKES[digit]:
        pen.line(stroke, fill=30, width=PEN, joint="curve")
        for x, y in (stroke[0], stroke[-1]):
            pen.ellipse((x - PEN / 2, y - PEN / 2, x + PEN / 2, y + PEN / 2), fill=30)
    return paper.filter(ImageFilter.GaussianBlur(1.2)).convert("RGB")


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for digit in STROKES:
        draw_digit(digit).save(out / f"digit_{digit}.png")
    print(f"wrote {len(STROKES)} digits to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "zoo/data/samples")
