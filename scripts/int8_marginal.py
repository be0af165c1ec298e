"""int8 against the fastest float32 engine, end to end, as a user runs it: ``zoo features`` on
256 and on 1,024 generated 640x480 JPEGs, each setting in alternated rounds, the marginal
throughput (768 images over the difference of the two wall times: process start-up and engine
loading cancel out) and the paired ratio of each round (docs/benchmarks.md, "int8").

Settings: ``--runtime auto`` (the fastest float32 engine zoo picks), ``--runtime litert`` (the
float32 model on the engine int8 runs on) and ``--precision int8``. MobileNetV2 at 224 with
random weights: throughput does not depend on the weight values. The artefacts are made in a
warm-up round, so no round pays for a conversion.

Example:
    $ python scripts/int8_marginal.py --rounds 5 --work /tmp/int8
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

SETTINGS = {
    "float32, --runtime auto": ["--runtime", "auto"],
    "float32, --runtime litert": ["--runtime", "litert"],
    "int8, --precision int8": ["--precision", "int8"],
}
SMALL, LARGE = 256, 1024


def make_images(folder: Path, count: int) -> Path:
    """``count`` 640x480 JPEGs (shifted copies of one random image) in ``folder/a``."""
    target = folder / "a"
    if target.is_dir() and len(list(target.iterdir())) == count:
        return folder
    target.mkdir(parents=True, exist_ok=True)
    base = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    for index in range(count):
        Image.fromarray(np.roll(base, index * 7, axis=1)).save(target / f"{index:04d}.jpg")
    return folder


def seconds(zoo: Path, images: Path, flags: list[str], env: dict[str, str], out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([str(zoo), "features", str(images), "--model", "mobilenet_v2_1.0_224",
                    "--weights", "none", "--out", str(out), "--quiet", *flags],
                   check=True, env=env, capture_output=True)  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/zoo-int8"))
    args = parser.parse_args()
    zoo = Path(sys.executable).with_name("zoo")
    small = make_images(args.work / "small", SMALL)
    large = make_images(args.work / "large", LARGE)
    env = {**os.environ, "KERAS_HOME": str(args.work / "keras")}
    out = args.work / "features.npy"
    for flags in SETTINGS.values():  # conversions and checks, once
        seconds(zoo, small, flags, env, out)
    rates: dict[str, list[float]] = {name: [] for name in SETTINGS}
    for round_number in range(args.rounds):
        for name, flags in SETTINGS.items():
            gap = seconds(zoo, large, flags, env, out) - seconds(zoo, small, flags, env, out)
            rates[name].append((LARGE - SMALL) / gap)
        print(f"round {round_number + 1}: " + ", ".join(
            f"{name} {values[-1]:.1f}" for name, values in rates.items()), flush=True)  # fmt: skip
    auto = np.asarray(rates["float32, --runtime auto"])
    print("\n| setting | marginal images/s, median | paired × auto, median | range |")
    print("|---|---|---|---|")
    for name, values in rates.items():
        paired = np.asarray(values) / auto
        print(f"| {name} | {np.median(values):.1f} | {np.median(paired):.2f} | "
              f"{paired.min():.2f}-{paired.max():.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
