"""A bounded mutation fuzzer of zoo's image decoding path (`make fuzz`; a short run is a test).

Seeds are real images in every format zoo reads (JPEG baseline and progressive, with EXIF
orientation, CMYK; PNG RGB, RGBA, palette, 16-bit grey; GIF, animated GIF; BMP; TIFF; WebP;
PPM), made from zoo's own sample photos and digits. Each round mutates one seed (flipped bytes,
a cut, inserted or repeated bytes, a header's size fields made huge) and decodes it the way
`zoo predict` / `zoo features` do, for an ImageNet model and an MNIST one. A round passes when
the result is an input of the right shape or a `zoo.InputError`; anything else (another
exception) is a finding, printed with the seed and round to reproduce it.

    python tests/inputs/fuzz_decode.py --rounds 5000 [--seed 1]
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import zoo  # noqa: E402
from zoo.inputs.sources import prepare_file  # noqa: E402

PHOTO = ROOT / "zoo" / "data" / "photos" / "cat.jpg"
DIGIT = ROOT / "zoo" / "data" / "samples" / "digit_7.png"


def seed_images() -> dict[str, bytes]:
    """Name -> bytes of one small real image per format and variant."""
    photo = Image.open(PHOTO).convert("RGB").resize((96, 72))
    digit = Image.open(DIGIT).convert("L")
    seeds = {}

    def save(name: str, image: Image.Image, fmt: str, **options) -> None:
        buffer = io.BytesIO()
        image.save(buffer, fmt, **options)
        seeds[name] = buffer.getvalue()

    save("baseline.jpg", photo, "JPEG", quality=85)
    save("progressive.jpg", photo, "JPEG", progressive=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees
    save("exif.jpg", photo, "JPEG", exif=exif.tobytes())
    save("cmyk.jpg", photo.convert("CMYK"), "JPEG")
    save("rgb.png", photo, "PNG")
    save("rgba.png", photo.convert("RGBA"), "PNG")
    save("palette.png", photo.convert("P"), "PNG")
    save("grey16.png", digit.convert("I;16"), "PNG")
    save("digit.gif", digit, "GIF")
    frames = [digit, digit.rotate(20)]
    save("animated.gif", frames[0], "GIF", save_all=True, append_images=frames[1:])
    save("photo.bmp", photo, "BMP")
    save("photo.tif", photo, "TIFF")
    save("photo.webp", photo, "WEBP")
    save("digit.ppm", digit.convert("RGB"), "PPM")
    # formats Pillow also recognises by content, whatever a file's suffix says
    for fmt, image in (
        ("ICO", photo),
        ("ICNS", photo.resize((32, 32))),
        ("PCX", photo),
        ("TGA", photo),
        ("SGI", photo),
        ("IM", photo),
        ("XBM", digit.convert("1")),
        ("MSP", digit.convert("1")),
        ("DDS", photo.convert("RGBA")),
        ("BLP", photo.convert("P")),
        ("JPEG2000", photo),
        ("QOI", photo),
    ):
        try:
            save(f"photo.{fmt.lower()}", image, fmt)
        except (OSError, KeyError, ValueError):  # no writer for it in this Pillow
            pass
    return seeds


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One random damage to ``data``."""
    data = bytearray(data)
    kind = rng.randrange(5)
    if kind == 0:  # flip a few bytes
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == 1:  # cut short
        del data[rng.randrange(1, len(data)) :]
    elif kind == 2:  # insert random bytes
        at = rng.randrange(len(data))
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif kind == 3:  # repeat a chunk
        start = rng.randrange(len(data))
        chunk = data[start : start + rng.randint(1, 256)]
        data[start:start] = chunk * rng.randint(1, 4)
    else:  # make a size field in the header huge
        at = rng.randrange(min(64, len(data) - 2))
        data[at : at + 2] = b"\xff\xff"
    return bytes(data)


def fuzz(rounds: int, seed: int = 0, folder: Path | None = None) -> dict:
    """Run ``rounds`` mutations; returns counts and the findings (nothing but InputError)."""
    rng = random.Random(seed)
    seeds = seed_images()
    names = sorted(seeds)
    specs = [zoo.get_spec("mobilenet_v1_0.25_128"), zoo.get_spec("mnist_convnet")]
    counts = {"decoded": 0, "refused": 0}
    findings = []
    slowest = 0.0
    with tempfile.TemporaryDirectory() as temp:
        work = Path(folder or temp)
        for index in range(rounds):
            name = names[index % len(names)]
            path = work / f"case{Path(name).suffix}"
            path.write_bytes(mutate(seeds[name], rng))
            spec = specs[index % 2]
            started = time.perf_counter()
            try:
                array = prepare_file(spec, path)
                assert array.shape[-3:-1] == spec.input_shape[:2] or array.shape == spec.input_shape
                counts["decoded"] += 1
            except zoo.InputError:
                counts["refused"] += 1
            except Exception as error:  # a finding
                findings.append(
                    f"round {index} ({name}, seed {seed}): {type(error).__name__}: {error}"
                )
            slowest = max(slowest, time.perf_counter() - started)
    return {**counts, "rounds": rounds, "findings": findings, "slowest_s": slowest}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = fuzz(args.rounds, args.seed)
    print(
        f"{result['rounds']} rounds in {time.perf_counter() - started:.1f} s: "
        f"{result['decoded']} decoded, {result['refused']} refused with an InputError, "
        f"{len(result['findings'])} findings; slowest file {result['slowest_s'] * 1000:.0f} ms"
    )
    for finding in result["findings"]:
        print("  " + finding)
    return 1 if result["findings"] else 0


if __name__ == "__main__":
    sys.exit(main())
