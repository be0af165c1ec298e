"""Robust image-file decoding, and turning any picture of a digit into an MNIST-like digit.

Example:
    >>> digit = zoo.inputs.images.to_mnist_digit(zoo.inputs.images.open_image("photo_of_a_7.jpg"))
    >>> digit.shape, digit.dtype
    ((28, 28), dtype('uint8'))
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from zoo.errors import InputError

#: MNIST digits fit a 20x20 box, centred by centre of mass in a 28x28 frame.
MNIST_SIZE = 28
MNIST_BOX = 20
#: A pixel counts as ink when it is above this fraction of the brightest ink (after inversion).
INK_FRACTION = 0.25


def open_image(
    path: str | Path, min_side: int | None = None, data: bytes | None = None
) -> Image.Image:
    """Open and fully decode an image file, EXIF orientation applied, first frame if animated.

    ``min_side``: the caller will shrink the image so that no side needs more than this many
    pixels; a JPEG is then decoded at a reduced scale (libjpeg's DCT scaling), several times
    faster, keeping both sides at least ``min_side``. ``data``: the file's bytes, already read
    (from object storage, say); ``path`` then only names it in messages.

    Raises:
        InputError: the file is missing, is a folder, or is not a readable image; the message
            names the path and the reason.
    """
    if data is None:
        _check_is_a_file(path)
    try:
        # The file is ours to close; the image is never closed (that would free its pixels), so
        # once loaded it outlives the file without a copy.
        with open(path, "rb") if data is None else io.BytesIO(data) as handle:
            image = Image.open(handle)
            check_pixels(image, path)
            image.seek(0)
            if min_side and image.format == "JPEG":
                image.draft("RGB", (min_side, min_side))
            image.load()
            ImageOps.exif_transpose(image, in_place=True)  # a no-op without an orientation tag
            return image
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"{path}: not an image file (Pillow cannot identify it)") from None
    except Image.DecompressionBombError as error:
        raise InputError(f"{path}: refused, too many pixels ({error})") from None
    except Exception as error:  # any decoder failure (EOFError, struct.error, ...) is per file
        raise InputError(f"{path}: unreadable image ({type(error).__name__}: {error})") from None


def _check_is_a_file(path: str | Path) -> None:
    """One ``stat`` (of every image decoded): refuse a missing path, a folder, and a FIFO or
    device, whose opening could block or never end."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, ValueError):  # ValueError: a NUL in the name
        raise InputError(f"{path}: no such file") from None
    except OSError as error:
        raise InputError(f"{path}: unreadable ({error.strerror or error})") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{path}: not a file")


def check_pixels(image: Image.Image, path: str | Path) -> None:
    """Refuse, before decoding, an image declaring more pixels than Pillow's
    ``Image.MAX_IMAGE_PIXELS`` (about 89 million): Pillow itself only warns up to twice that,
    and up to eight decoding threads may hold one each.

    Raises:
        InputError: naming the size and the limit.
    """
    limit = Image.MAX_IMAGE_PIXELS
    pixels = image.width * image.height
    if limit and pixels > limit:
        raise InputError(
            f"{path}: refused, {image.width}x{image.height} = {pixels} pixels is over the limit "
            f"of {limit} (PIL.Image.MAX_IMAGE_PIXELS: a decompression bomb, or a photo to shrink "
            "first)"
        )


#: The first bytes of each image format zoo reads, for files whose name does not say.
SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


def sniff(path: str | Path) -> str | None:
    """The image format of ``path`` by its content (``JPEG``, ``PNG``, ``GIF``, ``BMP``,
    ``TIFF``, ``WEBP``, ``PPM``), or None when it is not one (or cannot be read).

    Example:
        >>> sniff("photo_without_suffix")
        'JPEG'
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return None
    for signature, name in SIGNATURES:
        if head.startswith(signature):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if len(head) > 2 and head[:1] == b"P" and head[1:2] in b"123456" and head[2:3].isspace():
        return "PPM"
    return None


def to_grayscale(image: Image.Image) -> np.ndarray:
    """Float32 luminance 0..255; transparent areas become white paper."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float32)
        peak = array.max() or 1.0
        return array * (255.0 / peak) if peak > 255 else array
    return np.asarray(image.convert("L"), dtype=np.float32)


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB: 16-bit scaled down, CMYK converted, transparency on white
    (an RGB image is returned as it is)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return Image.fromarray(np.clip(to_grayscale(image), 0, 255).astype(np.uint8)).convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def resize_for_model(
    image: Image.Image, height: int, width: int, crop_fraction: float | None = None
) -> np.ndarray:
    """RGB pixels (height, width, 3) uint8 for a model (cast to float once per batch).

    Without ``crop_fraction`` the whole image is resized to the model's size, as Keras does.
    With it (timm's ``crop_pct``, e.g. 0.875) the image is scaled so that a centre crop of that
    fraction of its shorter side fills the model's input, then centre-cropped.
    """
    image = to_rgb(image)
    if crop_fraction is None:
        resized = image.resize((width, height), Image.Resampling.BILINEAR)
    else:
        if not 0 < crop_fraction <= 1:
            raise InputError(f"crop fraction must be in (0, 1], received {crop_fraction}")
        scale = max(height, width) / crop_fraction / min(image.size)
        scaled_size = (
            max(width, round(image.width * scale)),
            max(height, round(image.height * scale)),
        )
        scaled = image.resize(scaled_size, Image.Resampling.BILINEAR)
        left = (scaled.width - width) // 2
        top = (scaled.height - height) // 2
        resized = scaled.crop((left, top, left + width, top + height))
    return np.asarray(resized, dtype=np.uint8)


def to_mnist_digit(image: Image.Image) -> np.ndarray:
    """Make an MNIST-like digit the way MNIST was made: white ink on black, cropped to the ink,
    scaled into a 20x20 box (aspect kept), centred by mass in 28x28. Returns uint8 (28, 28).

    Raises:
        InputError: the image holds no ink (blank).
    """
    gray = to_grayscale(image)
    if np.median(gray) > 127:  # dark ink on light paper: invert
        gray = 255.0 - gray
    gray = gray - np.median(gray)  # background to 0
    gray = np.clip(gray, 0, None)
    peak = gray.max()
    if peak <= 0:
        raise InputError("image is blank: no ink to read a digit from")
    ink = gray > peak * INK_FRACTION
    rows, cols = np.nonzero(ink)
    crop = gray[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1] * (255.0 / peak)
    height, width = crop.shape
    scale = MNIST_BOX / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    boxed = np.asarray(
        Image.fromarray(crop.astype(np.float32), mode="F").resize(
            new_size, Image.Resampling.LANCZOS
        )
    )
    boxed = np.clip(boxed, 0, 255)
    frame = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    total = boxed.sum()
    ys, xs = np.indices(boxed.shape)
    centre_y = (ys * boxed).sum() / total
    centre_x = (xs * boxed).sum() / total
    top = int(round(MNIST_SIZE / 2 - centre_y))
    left = int(round(MNIST_SIZE / 2 - centre_x))
    top = min(max(top, 0), MNIST_SIZE - boxed.shape[0])
    left = min(max(left, 0), MNIST_SIZE - boxed.shape[1])
    frame[top : top + boxed.shape[0], left : left + boxed.shape[1]] = boxed
    return np.round(frame).astype(np.uint8)
