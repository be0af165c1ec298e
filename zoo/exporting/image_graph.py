"""``zoo.inputs.images.open_image`` and ``to_rgb`` as TensorFlow ops, for the exported
SavedModel's ``serving_bytes`` signature: an encoded image becomes the RGB pixels zoo's own
path gives, in the graph.

- **EXIF orientation** (tag 0x0112, read from a JPEG's APP1 segment or a PNG's ``eXIf`` chunk
  in the first 64 KB) is applied as Pillow's ``exif_transpose`` applies it: the eight
  orientations as flips, transposes and quarter turns.
- **Transparency** is composited on white, as ``to_rgb`` does: PNG (RGBA, grey + alpha, a
  palette with ``tRNS``), WebP and BMP are decoded with their alpha channel.
- **What the graph cannot do it refuses**: TensorFlow decodes GIFs without their transparency,
  so a GIF that declares a transparent colour fails (``InvalidArgumentError`` naming it) instead
  of coming out on black. zoo's own path takes it.

Example:
    >>> pixels = rgb_from_bytes(tf.io.read_file("cat.png"))   # (H, W, 3) uint8, upright, on white
"""

from __future__ import annotations

#: Bytes searched for the EXIF block and GIF transparency (Pillow reads the same segments,
#: which writers put before the pixels).
HEAD_BYTES = 65536
ORIENTATION_TAG = 0x0112
MAX_IFD_ENTRIES = 64


def _head(data):
    import tensorflow as tf

    return tf.cast(tf.io.decode_raw(tf.strings.substr(data, 0, HEAD_BYTES), tf.uint8), tf.int64)


def _find(head, pattern: bytes):
    """The first index of ``pattern`` in ``head`` (int64), or -1."""
    import tensorflow as tf

    count = tf.maximum(tf.size(head, out_type=tf.int64) - len(pattern) + 1, 0)
    found = tf.ones([count], tf.bool)
    for offset, byte in enumerate(pattern):
        found = found & tf.equal(head[offset : offset + count], byte)
    where = tf.where(found)[:, 0]
    return tf.cond(tf.size(where) > 0, lambda: where[0], lambda: tf.constant(-1, tf.int64))


def _reader(head, little):
    """``u16(positions)``, ``u32(positions)`` of the TIFF block (0 past the end)."""
    import tensorflow as tf

    size = tf.size(head, out_type=tf.int64)

    def byte(position):
        inside = (position >= 0) & (position < size)
        return tf.where(inside, tf.gather(head, tf.clip_by_value(position, 0, size - 1)), 0)

    def u16(position):
        first, second = byte(position), byte(position + 1)
        return tf.where(little, first + 256 * second, 256 * first + second)

    def u32(position):
        low, high = u16(position), u16(position + 2)
        return tf.where(little, low + 65536 * high, 65536 * low + high)

    return u16, u32


def exif_orientation(data):
    """The EXIF orientation of an encoded image (int32, 1..8; 1 when it has none)."""
    import tensorflow as tf

    head = _head(data)
    jpeg, png = _find(head, b"Exif\x00\x00"), _find(head, b"eXIf")
    tiff = tf.where(jpeg >= 0, jpeg + 6, tf.where(png >= 0, png + 4, -1))
    little = tf.equal(tf.gather(head, tf.maximum(tiff, 0)), 0x49) & (tiff >= 0)  # "II"
    u16, u32 = _reader(head, little)
    ifd = tiff + u32(tiff + 4)
    count = u16(ifd)
    entries = ifd + 2 + 12 * tf.range(MAX_IFD_ENTRIES, dtype=tf.int64)
    values = u16(entries + 8)
    wanted = (
        (tf.range(MAX_IFD_ENTRIES, dtype=tf.int64) < count)
        & tf.equal(u16(entries), ORIENTATION_TAG)
        & (values >= 1)
        & (values <= 8)
    )
    chosen = tf.boolean_mask(values, wanted)
    orientation = tf.cond(
        (tiff >= 0) & (tf.size(chosen) > 0), lambda: chosen[0], lambda: tf.constant(1, tf.int64)
    )
    return tf.cast(orientation, tf.int32)


def upright(image, orientation):
    """``image`` (H, W, C) as it is displayed under EXIF ``orientation``, as Pillow's
    ``exif_transpose`` turns it."""
    import tensorflow as tf

    def transpose(pixels):
        return tf.transpose(pixels, [1, 0, 2])

    branches = [
        lambda: image,
        lambda: tf.reverse(image, [1]),  # 2: mirrored left-right
        lambda: tf.reverse(image, [0, 1]),  # 3: upside down
        lambda: tf.reverse(image, [0]),  # 4: mirrored top-bottom
        lambda: transpose(image),  # 5: transposed
        lambda: tf.image.rot90(image, k=3),  # 6: turned 90 degrees clockwise
        lambda: tf.reverse(transpose(image), [0, 1]),  # 7: the other diagonal
        lambda: tf.image.rot90(image, k=1),  # 8: turned 90 degrees anticlockwise
    ]
    return tf.switch_case(tf.clip_by_value(orientation, 1, 8) - 1, branches)


def _gif_is_transparent(head):
    """True when a GIF's graphic control extension (0x21 0xF9 0x04) sets its transparency flag."""
    import tensorflow as tf

    control = _find(head, b"\x21\xf9\x04")
    flags = tf.gather(head, tf.clip_by_value(control + 3, 0, tf.size(head, out_type=tf.int64) - 1))
    return (control >= 0) & tf.equal(tf.bitwise.bitwise_and(flags, 1), 1)


def on_white(rgba):
    """(H, W, 4) pixels (0..255) composited on opaque white -> (H, W, 3) float32, as
    ``to_rgb``."""
    import tensorflow as tf

    pixels = tf.cast(rgba, tf.float32)
    alpha = pixels[..., 3:] / 255.0
    return tf.round(pixels[..., :3] * alpha + 255.0 * (1.0 - alpha))


def rgb_from_bytes(data, decode_jpeg=None):
    """One encoded image -> upright RGB float32 (H, W, 3) in 0..255, transparency on white.
    ``decode_jpeg``: how a JPEG is decoded (a photo model's DCT-scaled decode); default
    TensorFlow's full-size one."""
    import tensorflow as tf

    head = _head(data)
    is_jpeg = tf.equal(tf.strings.substr(data, 0, 3), b"\xff\xd8\xff")
    is_gif = tf.equal(tf.strings.substr(data, 0, 4), b"GIF8")

    def jpeg():
        decoded = decode_jpeg(data) if decode_jpeg else tf.io.decode_jpeg(data, channels=3)
        return tf.cast(decoded, tf.float32)

    def gif():
        tf.debugging.Assert(
            tf.logical_not(_gif_is_transparent(head)),
            ["a GIF with a transparent colour: serving_bytes cannot composite it on white as "
             "zoo does; send it as PNG"],
        )  # fmt: skip
        return tf.cast(tf.io.decode_image(data, channels=3, expand_animations=False), tf.float32)

    def with_alpha():
        rgba = tf.io.decode_image(data, channels=4, expand_animations=False)
        # TensorFlow fills the alpha of a grey PNG of 1, 2 or 4 bits with that depth's largest
        # value (1, 3, 15), not 255: opaque is then the largest alpha there is.
        low_depth_grey = (
            tf.equal(tf.strings.substr(data, 0, 8), b"\x89PNG\r\n\x1a\n")
            & (tf.gather(head, tf.minimum(tf.size(head, out_type=tf.int64) - 1, 24)) < 8)
            & tf.equal(tf.gather(head, tf.minimum(tf.size(head, out_type=tf.int64) - 1, 25)), 0)
        )
        alpha = tf.cast(rgba[..., 3:], tf.float32)
        top = tf.maximum(tf.reduce_max(alpha), 1.0)
        alpha = tf.where(low_depth_grey, tf.round(alpha * (255.0 / top)), alpha)
        return on_white(tf.concat([tf.cast(rgba[..., :3], tf.float32), alpha], axis=-1))

    image = tf.case([(is_jpeg, jpeg), (is_gif, gif)], default=with_alpha, exclusive=True)
    image = tf.ensure_shape(image, (None, None, 3))
    return upright(image, exif_orientation(data))
