"""The four export formats: writing a Keras model as each (``keras``, ``savedmodel`` with its
two serving signatures, ``litert`` with its quantizations, ``onnx``), and loading an artefact
back to run it in its own runtime.

Example:
    >>> run = formats.runner("litert", Path("convnet.tflite"))
    >>> run(digits).shape
    (10, 10)
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from zoo.engines.conversion import ConversionError, export_model
from zoo.engines.int8 import int8_converter_options
from zoo.errors import InputError
from zoo.spec import ModelSpec

FORMATS = ("keras", "savedmodel", "litert", "onnx")
QUANTIZATIONS = ("float16", "int8")
SUFFIXES = {"keras": ".keras", "savedmodel": "", "litert": ".tflite", "onnx": ".onnx"}


def _litert_options(quantize: str | None, calibration_images: np.ndarray | None) -> dict:
    import tensorflow as tf

    if quantize is None:
        return {}
    if quantize == "float16":
        return {
            "optimizations": [tf.lite.Optimize.DEFAULT],
            "target_spec": {"supported_types": [tf.float16]},
        }
    return int8_converter_options(calibration_images)


def _write_savedmodel(model, path: Path, spec: ModelSpec, names: list[str]) -> None:
    import keras
    import tensorflow as tf

    shape = tuple(model.inputs[0].shape[1:])
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serving_default",
        lambda pixels: {"probabilities": model(pixels, training=False)},
        input_signature=[tf.TensorSpec((None, *shape), tf.float32, name="pixels")],
    )
    decode = _bytes_decoder(spec, shape)
    if decode is not None:
        label_table = tf.constant(names)
        top = min(5, len(names))

        def serving_bytes(images):
            pixels = tf.map_fn(decode, images, fn_output_signature=tf.TensorSpec(shape, tf.float32))
            probabilities = model(pixels, training=False)
            best = tf.math.top_k(probabilities, k=top)
            return {
                "probabilities": probabilities,
                "top_indices": best.indices,
                "top_labels": tf.gather(label_table, best.indices),
            }

        archive.add_endpoint(
            "serving_bytes",
            serving_bytes,
            input_signature=[tf.TensorSpec((None,), tf.string, name="images")],
        )
    archive.write_out(str(path), verbose=False)


def _bytes_decoder(spec: ModelSpec, shape):
    """The in-graph decoder of one encoded image for ``serving_bytes``, as zoo's prediction
    path prepares files (EXIF orientation and transparency on white included:
    ``zoo.exporting.image_graph``): resized RGB for photo models, an MNIST-like digit for the
    MNIST ones; None for a model that takes no image files."""
    import tensorflow as tf

    from zoo.exporting.image_graph import rgb_from_bytes

    if spec.dataset == "imagenet" and shape[-1] == 3:
        height, width, _ = shape
        side = max(height, width)

        def decode_jpeg(data):
            # As Pillow's draft mode, which zoo's files go through: libjpeg's DCT scaling by the
            # largest of 1/8, 1/4, 1/2 that keeps both sides at least `side`, the accurate DCT.
            size = tf.io.extract_jpeg_shape(data)
            fits = tf.minimum(size[0], size[1]) // side
            branches = [
                lambda ratio=ratio: tf.io.decode_jpeg(
                    data, channels=3, ratio=ratio, dct_method="INTEGER_ACCURATE"
                )
                for ratio in (1, 2, 4, 8)
            ]
            index = tf.reduce_sum(tf.cast(fits >= tf.constant([2, 4, 8]), tf.int32))
            return tf.switch_case(index, branches)

        def decode(data):
            image = rgb_from_bytes(data, decode_jpeg)  # upright, transparency on white
            image = tf.image.resize(image, (height, width), antialias=True)
            image = tf.round(tf.clip_by_value(image, 0.0, 255.0))  # uint8 levels, as Pillow's
            return tf.ensure_shape(image, (height, width, 3))

        return decode
    if spec.preprocessing == "mnist" and tuple(shape) == (28, 28, 1):
        from zoo.exporting.digit_graph import digit_from_bytes

        return digit_from_bytes
    return None


def write(model, path: Path, fmt: str, spec, names, quantize, calibration_images) -> None:
    from zoo.backend import stderr_silenced

    model(np.zeros((1, *model.inputs[0].shape[1:]), "float32"), training=False)
    if fmt in ("litert", "onnx"):  # the runtimes' own exporter, as zoo's cached artefacts
        options = _litert_options(quantize, calibration_images) if fmt == "litert" else {}
        export_model(model, path, fmt, **options)
        return
    try:
        with warnings.catch_warnings(), stderr_silenced():
            warnings.simplefilter("ignore")
            if fmt == "keras":
                model.save(path)
            else:
                _write_savedmodel(model, path, spec, names)
    except Exception as error:  # the converters raise many types
        raise ConversionError(
            f"Could not export {spec.name} as {fmt}: {type(error).__name__}: {error}"
        ) from None


def runner(fmt: str, path: Path, trust: bool = False):
    """A function batch -> probabilities that runs the artefact in its own runtime (a
    ``.keras`` one in Keras' safe mode unless ``trust``).

    Raises:
        ConversionError: the artefact does not load.
    """
    return _loaded(fmt, path, lambda: _open_runner(fmt, path, trust))


def artefact_runner(fmt: str, path: Path, trust: bool = False):
    """The artefact as the ``Runner`` ``zoo predict`` and ``zoo serve`` run
    (``zoo.engines.runtimes``): micro-batched on ONNX Runtime and LiteRT, as the engines zoo
    converts itself.

    Raises:
        ConversionError: the artefact does not load.
    """
    from zoo.engines.runtimes import Runner

    if fmt in ("onnx", "litert"):
        from zoo.engines.engine import open_engine

        return Runner.on(_loaded(fmt, path, lambda: open_engine(fmt, path)))
    return Runner("tf" if fmt == "savedmodel" else fmt, runner(fmt, path, trust))


def _loaded(fmt: str, path: Path, opener):
    try:
        return opener()
    except Exception as error:  # the runtimes raise many types on a damaged file
        raise ConversionError(
            f"The {fmt} artefact {path} does not load: {type(error).__name__}: {error}"
        ) from None


def _open_runner(fmt: str, path: Path, trust: bool):
    if fmt in ("keras", "savedmodel"):
        from zoo.backend import quiet_tensorflow

        quiet_tensorflow()
    if fmt == "keras":
        import keras

        model = keras.saving.load_model(path, compile=False, safe_mode=not trust)
        return lambda batch: np.asarray(model.predict_on_batch(batch))
    if fmt == "savedmodel":
        import tensorflow as tf

        signature = tf.saved_model.load(str(path)).signatures["serving_default"]
        return lambda batch: signature(pixels=tf.constant(batch))["probabilities"].numpy()
    from zoo.engines.engine import open_engine

    return open_engine(fmt, path).run


def format_of(path: str | Path) -> str:
    """The export format of an artefact, from its path."""
    path = Path(path)
    if path.is_dir():
        return "savedmodel"
    for fmt, suffix in SUFFIXES.items():
        if suffix and path.name.endswith(suffix):
            return fmt
    raise InputError(f"{path}: not an artefact (.keras, .tflite, .onnx or a SavedModel folder)")
