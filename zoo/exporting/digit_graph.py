"""``zoo.inputs.images.to_mnist_digit`` as TensorFlow ops: the MNIST models' ``serving_bytes``
signature turns an encoded PNG/JPEG into the same 28×28 digit inside the SavedModel.

The steps are those of the Python path: grey levels (ITU-R 601 luma, as Pillow's ``L``), dark ink
inverted to white, background (the median) to 0, a crop to the ink (above a quarter of its
peak), scaled into a 20×20 box keeping the aspect (Lanczos-3, antialiased), centred by centre of
mass in a 28×28 frame, rounded to integers. The resampling filters of Pillow and TensorFlow
differ slightly, so pixels may differ by a few levels; ``tests/test_export.py`` checks that the
predicted classes agree.

Example:
    >>> digit = digit_from_bytes(tf.io.read_file("seven.png"))   # (28, 28, 1) float32, 0..255
"""

from __future__ import annotations

from zoo.exporting.image_graph import rgb_from_bytes
from zoo.inputs.images import INK_FRACTION, MNIST_BOX, MNIST_SIZE


def _median(values):
    """numpy's median of a flat tensor (the mean of the two middle values when even)."""
    import tensorflow as tf

    ordered = tf.sort(values)
    count = tf.size(ordered)
    upper = ordered[count // 2]
    lower = ordered[(count - 1) // 2]
    return (upper + lower) / 2.0


def digit_from_bytes(data):
    """One encoded image (a scalar string tensor) -> an MNIST-like digit (28, 28, 1), float32
    in 0..255. Fails (InvalidArgumentError) on a blank image, as the Python path does."""
    import tensorflow as tf

    rgb = rgb_from_bytes(data)  # upright, transparency on white paper, as the Python path
    gray = tf.floor(rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114 + 0.5)
    gray = tf.cond(_median(tf.reshape(gray, [-1])) > 127, lambda: 255.0 - gray, lambda: gray)
    gray = tf.nn.relu(gray - _median(tf.reshape(gray, [-1])))
    peak = tf.reduce_max(gray)
    tf.debugging.assert_greater(peak, 0.0, message="image is blank: no ink to read a digit from")
    ink = gray > peak * INK_FRACTION
    rows = tf.where(tf.reduce_any(ink, axis=1))[:, 0]
    cols = tf.where(tf.reduce_any(ink, axis=0))[:, 0]
    top, bottom = tf.reduce_min(rows), tf.reduce_max(rows) + 1
    left, right = tf.reduce_min(cols), tf.reduce_max(cols) + 1
    crop = gray[top:bottom, left:right] * (255.0 / peak)
    height = tf.cast(bottom - top, tf.float32)
    width = tf.cast(right - left, tf.float32)
    scale = MNIST_BOX / tf.maximum(height, width)
    new_height = tf.maximum(1, tf.cast(tf.round(height * scale), tf.int32))
    new_width = tf.maximum(1, tf.cast(tf.round(width * scale), tf.int32))
    boxed = tf.image.resize(
        crop[..., tf.newaxis], tf.stack([new_height, new_width]), method="lanczos3", antialias=True
    )[..., 0]
    boxed = tf.clip_by_value(boxed, 0.0, 255.0)
    total = tf.reduce_sum(boxed)
    ys = tf.cast(tf.range(new_height), tf.float32)[:, tf.newaxis]
    xs = tf.cast(tf.range(new_width), tf.float32)[tf.newaxis, :]
    centre_y = tf.reduce_sum(ys * boxed) / total
    centre_x = tf.reduce_sum(xs * boxed) / total
    frame_top = tf.cast(tf.round(MNIST_SIZE / 2 - centre_y), tf.int32)
    frame_left = tf.cast(tf.round(MNIST_SIZE / 2 - centre_x), tf.int32)
    frame_top = tf.clip_by_value(frame_top, 0, MNIST_SIZE - new_height)
    frame_left = tf.clip_by_value(frame_left, 0, MNIST_SIZE - new_width)
    frame = tf.pad(
        boxed,
        [
            [frame_top, MNIST_SIZE - new_height - frame_top],
            [frame_left, MNIST_SIZE - new_width - frame_left],
        ],
    )
    return tf.ensure_shape(tf.round(frame)[..., tf.newaxis], (MNIST_SIZE, MNIST_SIZE, 1))
