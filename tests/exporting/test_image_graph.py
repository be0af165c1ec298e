"""The SavedModel's ``serving_bytes`` decoder prepares an encoded image as zoo's own path does
(issue 30, item 10): EXIF orientations 1-8 (JPEG and PNG), every Pillow mode, transparency on
white (RGBA, LA, a palette with tRNS, WebP), GIFs; what the graph cannot do (a transparent GIF)
it refuses instead of answering wrongly. Compared with ``zoo.inputs.sources.prepare_file``."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.inputs.sources import prepare_file

from conftest import SAMPLES, SHARED

PHOTO_MODEL = "mobilenet_v1_0.25_128"
#: Mean difference in grey levels allowed between the graph and zoo: the two bilinear resizes
#: (Pillow's and TensorFlow's, both antialiased) differ by about a level. Before the fix an
#: EXIF-6 JPEG came out 34 levels off.
TOLERANCE = 3.0


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    """A real photo, wider than tall, so that a quarter turn is not a no-op."""
    return Image.open(SHARED / "data" / "photos" / "elephant.jpg").convert("RGB").resize((96, 64))


@pytest.fixture(scope="module")
def decoders():
    """The decoders as the SavedModel runs them: traced into a graph (``tf.function``), where
    TensorFlow's type rules are stricter than when the same ops run eagerly."""
    import tensorflow as tf

    from zoo.exporting.formats import _bytes_decoder

    def traced(spec):
        decode = _bytes_decoder(spec, tuple(spec.input_shape))
        return tf.function(decode, input_signature=[tf.TensorSpec([], tf.string)])

    spec, digit = zoo.get_spec(PHOTO_MODEL), zoo.get_spec("mnist_convnet")
    return {"photo": (spec, traced(spec)), "digit": (digit, traced(digit))}


def both(decoders, kind: str, data: bytes, tmp_path, suffix: str):
    """(zoo's pixels, the graph's) for one encoded image."""
    import tensorflow as tf

    spec, decode = decoders[kind]
    path = tmp_path / f"image{suffix}"
    path.write_bytes(data)
    ours = np.asarray(prepare_file(spec, path), np.float32).reshape(spec.input_shape)
    graph = decode(tf.constant(data)).numpy().reshape(spec.input_shape)
    return ours, graph


def kinds(photo: Image.Image) -> dict[str, tuple[bytes, str]]:
    exif_jpeg, exif_png = {}, {}
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        exif_jpeg[orientation] = encoded(photo, "JPEG", quality=95, exif=exif)
        exif_png[orientation] = encoded(photo, "PNG", exif=exif)
    rgba = photo.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(photo.size))  # transparent to opaque
    palette = photo.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    found = {f"jpeg exif {o}": (data, ".jpg") for o, data in exif_jpeg.items()}
    found |= {f"png exif {o}": (data, ".png") for o, data in exif_png.items()}
    found |= {f"png {mode}": (encoded(photo.convert(mode), "PNG"), ".png")
              for mode in ("L", "P", "RGB", "1")}  # fmt: skip
    found["png RGBA"] = (encoded(rgba, "PNG"), ".png")
    found["png LA"] = (encoded(rgba.convert("LA"), "PNG"), ".png")
    found["png P+tRNS"] = (encoded(palette, "PNG", transparency=0), ".png")
    found["webp RGBA"] = (encoded(rgba, "WEBP", lossless=True), ".webp")
    found["gif"] = (encoded(palette, "GIF"), ".gif")
    found["bmp"] = (encoded(photo, "BMP"), ".bmp")
    return found


def test_every_image_kind_comes_out_of_the_graph_as_out_of_zoo(decoders, photo, tmp_path):
    differences = {}
    for name, (data, suffix) in kinds(photo).items():
        ours, graph = both(decoders, "photo", data, tmp_path, suffix)
        differences[name] = float(np.abs(ours - graph).mean())
    shown = str({name: round(value, 2) for name, value in differences.items()})
    assert max(differences.values()) < TOLERANCE, shown


def test_digits_upright_and_on_white_in_the_graph_as_in_zoo(decoders, tmp_path):
    digit = Image.open(SAMPLES / "digit_7.png").convert("L")  # dark ink on white paper
    ink = Image.eval(digit, lambda v: 255 - v)  # as alpha: opaque ink, transparent paper
    transparent = Image.merge("RGBA", [digit.point(lambda _: 0)] * 3 + [ink])
    exif = Image.Exif()
    exif[0x0112] = 6
    cases = {
        "transparent paper": (encoded(transparent, "PNG"), ".png"),
        "turned by EXIF": (encoded(digit.rotate(90, expand=True), "PNG", exif=exif), ".png"),
    }
    for name, (data, suffix) in cases.items():
        ours, graph = both(decoders, "digit", data, tmp_path, suffix)
        assert np.abs(ours - graph).mean() < TOLERANCE, name
        assert np.corrcoef(ours.ravel(), graph.ravel())[0, 1] > 0.95, name


def test_what_the_graph_cannot_prepare_it_refuses(decoders, photo, tmp_path):
    import tensorflow as tf

    _, decode = decoders["photo"]
    transparent_gif = encoded(photo.convert("P"), "GIF", transparency=0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="transparent colour"):
        decode(tf.constant(transparent_gif))
