"""Preprocessing modes in the graph, so a saved model cannot be fed wrongly.

Every mode takes pixels in 0..255 (uint8 or float; RGB for colour images):

    raw:   unchanged (the model normalises itself, e.g. EfficientNet, ConvNeXt, MobileNetV3),
           cast to the model's input dtype.
    mnist: -> 0..1.
    caffe: RGB -> BGR, minus the ImageNet mean (103.939, 116.779, 123.68); VGG, ResNet v1.
    tf:    -> -1..1; Inception, Xception, MobileNet v1/v2, ResNet v2, NASNet.
    torch: -> 0..1, minus mean (0.485, 0.456, 0.406), divided by std (0.229, 0.224, 0.225);
           DenseNet.

These are the modes of ``keras.applications.imagenet_utils.preprocess_input``, computed by the
same float operations as the layer zoo had before (bit-identical results), but written with
Keras' built-in ops (``keras.ops.divide``, ``subtract``, ``flip``) on the model's input, ending in
a built-in ``Identity`` layer named ``preprocessing`` that computes in the given dtype (float32
even under a ``mixed_float16`` policy). A Keras functional model saves such ops and reloads them
without any custom object, so a ``.keras`` file of an ImageNet or MNIST model loads with plain
Keras, without zoo. Constants are numpy arrays in the graph, not tensors that a traced function
would capture as extra inputs, so ONNX export (tf2onnx) still sees one input.

Not ``keras.layers.Normalization`` with constant mean and variance: it holds them as eager
tensors, which tf2onnx turns into extra required inputs of the ONNX graph. Not
``Rescaling(1 / 255)``: ``x * (1 / 255)`` differs from ``x / 255`` for 126 of the 256 uint8
values, and the shipped MNIST weights are retrained bit-exactly.

Example:
    >>> inputs = keras.Input((1, 1, 3))
    >>> model = keras.Model(inputs, zoo.preprocessing.preprocess(inputs, "tf"))
    >>> model(np.array([[[[0, 255, 127.5]]]])).numpy().ravel()
    array([-1.,  1.,  0.], dtype=float32)
"""

from __future__ import annotations

from zoo.spec import PREPROCESSING_MODES

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)


def preprocess(inputs, mode: str, dtype: str = "float32", name: str = "preprocessing"):
    """``inputs`` (a Keras tensor of pixels 0..255) preprocessed for ``mode`` (one of
    ``zoo.spec.PREPROCESSING_MODES``) in ``dtype`` (float64 for the backprop example), ending in
    an ``Identity`` layer named ``name``."""
    if mode not in PREPROCESSING_MODES:
        raise ValueError(
            f"Unknown preprocessing mode {mode!r}; valid: {', '.join(PREPROCESSING_MODES)}"
        )
    from zoo.backend import quiet_tensorflow

    quiet_tensorflow()
    import keras
    import numpy as np
    from keras import ops

    x = inputs if inputs.dtype == dtype else ops.cast(inputs, dtype)
    if mode == "mnist":
        x = ops.divide(x, 255.0)
    elif mode == "tf":
        x = ops.subtract(ops.divide(x, 127.5), 1.0)
    elif mode == "caffe":
        x = ops.subtract(ops.flip(x, axis=-1), np.asarray(CAFFE_MEAN_BGR, dtype))  # RGB -> BGR
    elif mode == "torch":
        x = ops.subtract(ops.divide(x, 255.0), np.asarray(TORCH_MEAN, dtype))
        x = ops.divide(x, np.asarray(TORCH_STD, dtype))
    return keras.layers.Identity(dtype=dtype, name=name)(x)
