"""Preprocessing modes as in-graph Keras layers, so a saved model cannot be fed wrongly.

Every mode takes pixels in 0..255 (uint8 or float; RGB for colour images):

    raw:   unchanged (the model normalises itself, e.g. EfficientNet, ConvNeXt, MobileNetV3),
           cast to the model's input dtype.
    mnist: -> 0..1.
    caffe: RGB -> BGR, minus the ImageNet mean (103.939, 116.779, 123.68); VGG, ResNet v1.
    tf:    -> -1..1; Inception, Xception, MobileNet v1/v2, ResNet v2, NASNet.
    torch: -> 0..1, minus mean (0.485, 0.456, 0.406), divided by std (0.229, 0.224, 0.225);
           DenseNet.

These are the modes of ``keras.applications.imagenet_utils.preprocess_input``.

Example:
    >>> layer = zoo.preprocessing.make_layer("tf")
    >>> layer(np.array([[[[0, 255, 127.5]]]])).numpy().ravel()
    array([-1.,  1.,  0.], dtype=float32)
"""
from __future__ import annotations

from functools import lru_cache

from zoo.spec import PREPROCESSING_MODES

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)


@lru_cache(maxsize=None)
def _layer_class():
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="zoo")
    class ImagePreprocessing(keras.layers.Layer):
        """Pixels 0..255 -> what the network was trained on, per ``mode``; no weights."""

        def __init__(self, mode: str, **kwargs):
            super().__init__(**kwargs)
            if mode not in PREPROCESSING_MODES:
                raise ValueError(
                    f"Unknown preprocessing mode {mode!r}; valid: {', '.join(PREPROCESSING_MODES)}"
                )
            self.mode = mode

        def call(self, x):
            x = ops.cast(x, self.compute_dtype)
            if self.mode == "mnist":
                return x / 255.0
            if self.mode == "tf":
                return x / 127.5 - 1.0
            if self.mode == "caffe":
                return ops.flip(x, axis=-1) - ops.convert_to_tensor(CAFFE_MEAN_BGR, x.dtype)
            if self.mode == "torch":
                mean = ops.convert_to_tensor(TORCH_MEAN, x.dtype)
                std = ops.convert_to_tensor(TORCH_STD, x.dtype)
                return (x / 255.0 - mean) / std
            return x

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "mode": self.mode}

    return ImagePreprocessing


def make_layer(mode: str, dtype: str = "float32", name: str = "preprocessing"):
    """The in-graph layer for ``mode`` (one of ``zoo.spec.PREPROCESSING_MODES``), computing in
    ``dtype`` (float64 for the backprop example)."""
    return _layer_class()(mode, dtype=dtype, name=name)
