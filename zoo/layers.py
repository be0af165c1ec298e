"""zoo's custom Keras objects, registered as ``zoo>Name`` when this module is imported.

The classic models use a few layers and models Keras does not have: the threshold of a logic
unit, Mazur's dense layer with a fixed shared bias, the perceptron's learning rule and the
autoencoder with its decoder. They are plain module-level classes, so that importing this module
(which imports Keras) is all a ``.keras`` file saved from a zoo model needs to load:
``zoo.registration`` imports it as soon as Keras is imported. The ImageNet and MNIST
preprocessing is built from Keras' own layers (``zoo.preprocessing``) and needs nothing here.

Example:
    >>> import keras, zoo.layers
    >>> keras.saving.get_registered_name(zoo.layers.HeavisideStep)
    'zoo>HeavisideStep'
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

__all__ = ["AutoencoderClassifier", "FixedBiasDense", "HeavisideStep", "PerceptronModel"]


@keras.saving.register_keras_serializable(package="zoo")
class HeavisideStep(keras.layers.Layer):
    """1 where the input is >= 0, else 0: the threshold of a logic unit."""

    def call(self, z):
        return ops.cast(ops.greater_equal(z, 0), self.compute_dtype)


@keras.saving.register_keras_serializable(package="zoo")
class FixedBiasDense(keras.layers.Layer):
    """Dense layer with one shared bias that training leaves alone (as in Mazur's example)."""

    def __init__(self, units, kernel=None, bias=0.0, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.initial_kernel = kernel
        self.initial_bias = float(bias)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        # Values are assigned at full precision: Constant() would round lists through float32.
        self.kernel = self.add_weight(
            name="kernel", shape=(input_shape[-1], self.units), initializer="glorot_uniform"
        )
        if self.initial_kernel is not None:
            self.kernel.assign(np.asarray(self.initial_kernel, dtype=self.variable_dtype))
        self.bias = self.add_weight(name="bias", shape=(), initializer="zeros", trainable=False)
        self.bias.assign(np.asarray(self.initial_bias, dtype=self.variable_dtype))

    def call(self, x):
        return self.activation(ops.matmul(x, self.kernel) + self.bias)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            kernel=self.initial_kernel,
            bias=self.initial_bias,
            activation=keras.activations.serialize(self.activation),
        )
        return config


@keras.saving.register_keras_serializable(package="zoo")
class PerceptronModel(keras.Model):
    """Rosenblatt's perceptron: fit() applies the perceptron learning rule, not gradients.

    For each sample, w += lr * (target - output) * x and b += lr * (target - output).
    """

    def __init__(self, *args, learning_rate=1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.learning_rate = learning_rate

    def train_step(self, data):
        x, y = data[0], data[1]
        dense = self.get_layer("perceptron_unit")
        output = self(x, training=True)
        error = ops.cast(ops.reshape(y, ops.shape(output)), output.dtype) - output
        x = ops.cast(x, output.dtype)
        dense.kernel.assign_add(self.learning_rate * ops.matmul(ops.transpose(x), error))
        dense.bias.assign_add(self.learning_rate * ops.sum(error, axis=0))
        return {"errors": ops.sum(ops.abs(error))}

    def get_config(self):
        config = super().get_config()
        config["learning_rate"] = self.learning_rate
        return config


@keras.saving.register_keras_serializable(package="zoo")
class AutoencoderClassifier(keras.Model):
    """Encoder + linear probe on the code; ``decoder`` rebuilds images from the code."""

    def __init__(self, *args, decoder=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.decoder = decoder

    def reconstruct(self, images):
        """Images (N, 28, 28[, 1]) in 0..255 -> reconstructions (N, 28, 28) in 0..1."""
        code_model = keras.Model(self.inputs[0], self.get_layer("code").output)
        return self.decoder(code_model(images))

    def get_config(self):
        """The classifier's graph and the decoder's, so a ``.keras`` file keeps both halves."""
        config = super().get_config()
        if self.decoder is not None:
            config["decoder"] = keras.saving.serialize_keras_object(self.decoder)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        decoder = config.pop("decoder", None)
        model = super().from_config(config, custom_objects=custom_objects)
        if decoder is not None:
            model.decoder = keras.saving.deserialize_keras_object(
                decoder, custom_objects=custom_objects
            )
        return model
