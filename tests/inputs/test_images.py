"""Robust decoding for ImageNet models: every Pillow mode, EXIF orientation, animated GIFs,
the decompression-bomb limit, truncated and non-image files reported per file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.inference.prediction import predict_files
from zoo.inputs.images import open_image, resize_for_model, to_rgb

from conftest import SHARED

ELEPHANT = SHARED / "data" / "photos" / "elephant.jpg"


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "CMYK", "I;16", "RGB", "1"])
def test_every_mode_becomes_rgb_pixels(tmp_path, mode):
    source = Image.open(ELEPHANT).convert("RGB").resize((64, 48))
    if mode == "I;16":
        image = Image.fromarray(np.asarray(source.convert("L"), np.uint16) * 257)
    else:
        image = source.convert(mode)
    path = tmp_path / ("image.tif" if mode in ("CMYK", "I;16") else "image.png")
    image.save(path)
    pixels = resize_for_model(open_image(path), 32, 40)
    assert pixels.shape == (32, 40, 3) and pixels.dtype == np.uint8
    assert 0 <= pixels.min() and pixels.max() <= 255 and pixels.std() > 5


def test_transparent_pixels_become_white():
    image = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    assert np.asarray(to_rgb(image))[0, 0].tolist() == [255, 255, 255]


#: EXIF orientation -> how the stored pixels become the displayed ones, written with numpy
#: (not Pillow's transposes, which zoo itself uses).
DISPLAYED = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],  # mirrored left-right
    3: lambda a: a[::-1, ::-1],  # upside down
    4: lambda a: a[::-1, :],  # mirrored top-bottom
    5: lambda a: a.swapaxes(0, 1),  # transposed
    6: lambda a: np.rot90(a, -1),  # turned 90 degrees clockwise
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),  # transposed along the other diagonal
    8: lambda a: np.rot90(a, 1),  # turned 90 degrees anticlockwise
}


@pytest.mark.parametrize("orientation", sorted(DISPLAYED))
def test_every_exif_orientation_is_applied_pixel_for_pixel(tmp_path, orientation):
    stored = np.random.default_rng(orientation).integers(0, 256, (20, 60, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "oriented.png"  # lossless, so the comparison is exact
    Image.fromarray(stored).save(path, exif=exif)
    shown = np.asarray(open_image(path))
    np.testing.assert_array_equal(shown, DISPLAYED[orientation](stored))


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), color) for color in ("blue", "yellow")]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    pixels = np.asarray(to_rgb(open_image(path)))
    assert pixels[0, 0, 2] > 200 and pixels[0, 0, 0] < 50  # blue


@pytest.mark.parametrize("suffix", [".bmp", ".ppm", ".gif", ".jpg"])
def test_a_decoded_image_owns_its_pixels_and_holds_no_file(tmp_path, suffix):
    """No copy is made after decoding, so nothing may tie the pixels to the file: the file
    rewritten afterwards must not change them (a memory-mapped one would, or crash the
    process), and no file descriptor may stay open (Pillow keeps a GIF's open for its frames)."""
    path = tmp_path / f"image{suffix}"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(path)
    open_fds = len(list(Path("/proc/self/fd").iterdir()))
    image = open_image(path)
    assert len(list(Path("/proc/self/fd").iterdir())) == open_fds
    path.write_bytes(b"")  # truncated under the decoded image
    assert np.asarray(to_rgb(image)).reshape(-1, 3).mean(axis=0)[0] > 150


def test_decompression_bomb_limit_is_kept(tmp_path, monkeypatch):
    assert Image.MAX_IMAGE_PIXELS == 89478485  # Pillow's default, untouched by zoo
    path = tmp_path / "big.png"
    Image.new("L", (100, 100)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 10,000 pixels: Pillow's error band
    with pytest.raises(zoo.InputError, match="refused, too many pixels"):
        open_image(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 7000)  # Pillow only warns up to twice it
    with pytest.raises(zoo.InputError, match="100x100 = 10000 pixels is over the limit"):
        open_image(path)


def test_crop_center_keeps_the_middle():
    image = Image.new("RGB", (200, 100), "black")
    image.paste((255, 255, 255), (75, 25, 125, 75))  # a white square in the middle
    assert (
        resize_for_model(image, 50, 50, crop_fraction=1.0).mean()
        > resize_for_model(image, 50, 50).mean()
    )
    with pytest.raises(zoo.InputError, match="crop fraction"):
        resize_for_model(image, 50, 50, crop_fraction=1.5)


def test_truncated_and_fake_files_are_reported_and_the_rest_predicted(tmp_path):
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(ELEPHANT.read_bytes()[:5000])
    fake = tmp_path / "notes.jpg"
    fake.write_text("not a jpeg")
    results = predict_files(
        "mobilenet_v1_0.25_128",
        [truncated, ELEPHANT, fake, ELEPHANT],
        weights=None,
        top=2,
        batch_size=2,
    )
    assert "error" in results[0] and "truncated.jpg" in results[0]["error"]
    assert "not an image" in results[2]["error"]
    assert results[1]["top"] == results[3]["top"]
    assert set(results[1]["top"][0]) == {"rank", "index", "label", "score", "wnid"}


def test_what_is_not_a_regular_file_is_refused_before_it_is_opened(tmp_path):
    """A FIFO would block ``open`` until a writer came: it is refused as a folder is."""
    from zoo.errors import InputError

    fifo = tmp_path / "camera.jpg"
    os.mkfifo(fifo)
    cases = {fifo: "not a file", tmp_path: "not a file", tmp_path / "gone.jpg": "no such file"}
    cases[str(tmp_path / "nul\0.jpg")] = "no such file"
    for path, reason in cases.items():
        with pytest.raises(InputError, match=reason):
            open_image(path)
