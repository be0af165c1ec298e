"""The deck's classic models: from the 1943 threshold unit to the MNIST convnet.

Builders are pure Keras: ``builder(inputs, x, **kwargs) -> keras.Model`` where ``inputs`` is the
model's input and ``x`` the preprocessed tensor (``zoo.load`` makes both). Keras (and the custom
layers of ``zoo.layers``) is imported inside the builders, so importing this module (and the
registry) never imports TensorFlow.

Example:
    >>> import zoo
    >>> model = zoo.load("mcculloch_pitts", preset="and")
    >>> model.predict(np.array([[1, 1], [1, 0]]), verbose=0).ravel()
    array([1., 0.], dtype=float32)
"""

from __future__ import annotations

from applications.committee import build_mnist_committee
from zoo.spec import FeatureStage, ModelSpec, Reference, WeightsSpec

DECK = "the deck (Kuzovkin 2016), after Radford's 'Introduction to Deep Learning with Python'"

#: McCulloch-Pitts presets: (weights, threshold); the unit fires when w . x >= threshold.
MCCULLOCH_PITTS_PRESETS = {
    "and": ((1.0, 1.0), 2.0),
    "or": ((1.0, 1.0), 1.0),
    "not": ((-1.0, 0.0), 0.0),  # reads the first input only; the second is ignored
}

#: The step-by-step backpropagation example (Mazur 2015): w1..w8, b1, b2.
BACKPROP_WEIGHTS = (0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55)
BACKPROP_BIASES = (0.35, 0.60)
BACKPROP_INPUTS = (0.05, 0.10)
BACKPROP_TARGETS = (0.01, 0.99)
BACKPROP_LEARNING_RATE = 0.5

#: Prewitt kernels as Conv2D computes them (cross-correlation): horizontal edges, vertical edges.
PREWITT_KERNELS = (
    ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (-1.0, -1.0, -1.0)),
    ((1.0, 0.0, -1.0), (1.0, 0.0, -1.0), (1.0, 0.0, -1.0)),
)


def _softmax_head(x, classes: int = 10):
    """Dense ``logits`` then a softmax ``probabilities`` layer (so logits are a feature stage)."""
    import keras

    logits = keras.layers.Dense(classes, name="logits")(x)
    return keras.layers.Activation("softmax", name="probabilities")(logits)


def build_mcculloch_pitts(inputs, x, preset: str = "and"):
    """A threshold logic unit with fixed weights: AND, OR or NOT of binary inputs."""
    import keras

    from zoo.layers import HeavisideStep

    if preset not in MCCULLOCH_PITTS_PRESETS:
        raise ValueError(
            f"Unknown McCulloch-Pitts preset {preset!r}; "
            f"valid: {', '.join(MCCULLOCH_PITTS_PRESETS)}"
        )
    weights, threshold = MCCULLOCH_PITTS_PRESETS[preset]
    z = keras.layers.Dense(
        1,
        kernel_initializer=keras.initializers.Constant([[w] for w in weights]),
        bias_initializer=keras.initializers.Constant(-threshold),
        trainable=False,
        name="threshold_unit",
    )(x)
    out = HeavisideStep(name="fires")(z)
    return keras.Model(inputs, out)


def build_perceptron(inputs, x, learning_rate: float = 1.0):
    """Rosenblatt's perceptron: a linear unit with a hard threshold, trained by the perceptron
    rule."""
    import keras

    from zoo.layers import HeavisideStep, PerceptronModel

    z = keras.layers.Dense(1, kernel_initializer="zeros", name="perceptron_unit")(x)
    out = HeavisideStep(name="fires")(z)
    return PerceptronModel(inputs, out, learning_rate=learning_rate)


def build_backprop_2_2_2(inputs, x):
    """The 2-2-2 sigmoid net of Mazur's step-by-step backpropagation example, in float64."""
    import keras

    from zoo.layers import FixedBiasDense

    w1, w2, w3, w4, w5, w6, w7, w8 = BACKPROP_WEIGHTS
    # kernel[i][j] connects input i to unit j: h1 = w1*i1 + w2*i2 + b1, h2 = w3*i1 + w4*i2 + b1.
    h = FixedBiasDense(
        2,
        kernel=[[w1, w3], [w2, w4]],
        bias=BACKPROP_BIASES[0],
        activation="sigmoid",
        dtype="float64",
        name="hidden",
    )(x)
    out = FixedBiasDense(
        2,
        kernel=[[w5, w7], [w6, w8]],
        bias=BACKPROP_BIASES[1],
        activation="sigmoid",
        dtype="float64",
        name="output",
    )(h)
    return keras.Model(inputs, out)


def build_prewitt(inputs, x):
    """A fixed Prewitt edge detector: channel 0 horizontal edges, channel 1 vertical edges."""
    import keras
    import numpy as np

    kernel = np.stack(PREWITT_KERNELS, axis=-1)[:, :, None, :]  # (3, 3, 1, 2)
    edges = keras.layers.Conv2D(
        2,
        3,
        padding="valid",
        use_bias=False,
        trainable=False,
        kernel_initializer=keras.initializers.Constant(kernel),
        name="prewitt",
    )(x)
    return keras.Model(inputs, edges)


def build_softmax_regression(inputs, x):
    """The deck's '1-layer NN': 784 pixels -> 10-way softmax."""
    import keras

    x = keras.layers.Flatten(name="flatten")(x)
    out = _softmax_head(x)
    return keras.Model(inputs, out)


def build_mlp_625(inputs, x, width: int = 625, dropout: float = 0.0):
    """One hidden layer of 625 sigmoid units (``width`` and ``dropout`` after it: what
    ``zoo classics tune`` varies; the shipped model has neither changed)."""
    import keras

    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(width, activation="sigmoid", name="hidden")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    out = _softmax_head(x)
    return keras.Model(inputs, out)


def build_modern_mlp(
    inputs, x, dropout_input: float = 0.1, dropout_hidden: float = 0.25, width: int = 625
):
    """Two hidden layers of 625 ReLU units with dropout (Srivastava et al. 2014)."""
    import keras

    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(dropout_input, name="dropout_input")(x)
    for index in (1, 2):
        x = keras.layers.Dense(width, activation="relu", name=f"hidden{index}")(x)
        x = keras.layers.Dropout(dropout_hidden, name=f"dropout{index}")(x)
    out = _softmax_head(x)
    return keras.Model(inputs, out)


def build_mnist_convnet(inputs, x, width: int = 625, dropout: float = 0.5):
    """3x3 convs (32, 64, 128) with batch norm, max-pool and dropout, then dense 625 and
    dropout 0.5 (``width``, ``dropout``)."""
    import keras

    for index, filters in enumerate((32, 64, 128), start=1):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{index}")(x)
        x = keras.layers.BatchNormalization(name=f"bn{index}")(x)
        x = keras.layers.ReLU(name=f"relu{index}")(x)
        x = keras.layers.MaxPooling2D(name=f"pool{index}")(x)
        x = keras.layers.Dropout(0.25, name=f"dropout{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(width, activation="relu", name="dense625")(x)
    x = keras.layers.Dropout(dropout, name="dropout_dense")(x)
    out = _softmax_head(x)
    return keras.Model(inputs, out)


def build_mnist_autoencoder(inputs, x, code_size: int = 32):
    """Dense autoencoder 784-256-code-256-784 (linear code); a softmax probe on the code classifies.

    ``model.decoder`` maps codes back to images and ``model.reconstruct(images)`` runs both halves.
    """
    import keras

    from zoo.layers import AutoencoderClassifier

    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(256, activation="relu", name="encoder_hidden")(x)
    code = keras.layers.Dense(code_size, name="code")(x)  # linear bottleneck
    out = _softmax_head(code)

    code_input = keras.Input((code_size,), name="code_input")
    y = keras.layers.Dense(256, activation="relu", name="decoder_hidden")(code_input)
    y = keras.layers.Dense(28 * 28, activation="sigmoid", name="decoder_pixels")(y)
    y = keras.layers.Reshape((28, 28), name="reconstruction")(y)
    decoder = keras.Model(code_input, y, name="decoder")
    return AutoencoderClassifier(inputs, out, decoder=decoder)


def build_mnist_rnn(inputs, x, units: int = 128):
    """An LSTM that reads the 28 rows of a digit as a sequence of 28 vectors."""
    import keras

    x = keras.layers.Reshape((28, 28), name="rows")(x)
    x = keras.layers.LSTM(units, name="lstm")(x)
    out = _softmax_head(x)
    return keras.Model(inputs, out)


def _dense_stages(pooled_layer: str, width: int, *convs: tuple[str, int, int]):
    """Feature stages of an MNIST classifier: conv stages (layer, stride, channels), the
    ``pooled`` representation before the classifier, and the ``logits``."""
    return (
        *(
            FeatureStage(f"stage{index}", layer, stride, channels)
            for index, (layer, stride, channels) in enumerate(convs, start=1)
        ),
        FeatureStage("pooled", pooled_layer, None, width),
        FeatureStage("logits", "logits", None, 10),
    )


def _mnist(
    name,
    builder,
    summary,
    params,
    sha256,
    floor,
    reference,
    year,
    stages,
    custom_objects=(),
    **builder_kwargs,
):
    return ModelSpec(
        name=name,
        builder=builder,
        summary=summary,
        family="classic",
        dataset="mnist",
        input_shape=(28, 28, 1),
        num_classes=10,
        labels="mnist",
        preprocessing="mnist",
        params=params,
        weights=WeightsSpec(
            source="shipped",
            file=f"{name}.weights.h5",
            sha256=sha256,
            trained_on="MNIST training set (60,000 images), `zoo classics train`",
        ),
        reference=reference,
        accuracy_floor=floor,
        year=year,
        feature_stages=stages,
        custom_objects=custom_objects,
        builder_kwargs=builder_kwargs,
    )


SPECS = (
    ModelSpec(
        name="mcculloch_pitts",
        builder=build_mcculloch_pitts,
        custom_objects=("zoo>HeavisideStep",),
        summary="McCulloch & Pitts' threshold logic unit (1943); presets AND, OR, NOT",
        family="classic",
        dataset="logic",
        input_shape=(2,),
        num_classes=None,
        labels="binary",
        preprocessing="raw",
        params=3,
        weights=WeightsSpec(source="builtin", trained_on="fixed weights of the chosen preset"),
        year=1943,
        builder_kwargs={"preset": "and"},
    ),
    ModelSpec(
        name="perceptron",
        builder=build_perceptron,
        custom_objects=("zoo>HeavisideStep", "zoo>PerceptronModel"),
        summary="Rosenblatt's perceptron (1957), trained by the perceptron learning rule",
        family="classic",
        dataset="logic",
        input_shape=(2,),
        num_classes=None,
        labels="binary",
        preprocessing="raw",
        params=3,
        weights=WeightsSpec(
            source="shipped",
            file="perceptron.weights.h5",
            sha256="385c670c6c8928406e8fc2905f9c0c42f2239d5ce4db9a19eb719d765adcb7e3",
            trained_on="logical AND, perceptron rule, `zoo classics train perceptron`",
        ),
        year=1957,
    ),
    ModelSpec(
        name="backprop_2_2_2",
        builder=build_backprop_2_2_2,
        custom_objects=("zoo>FixedBiasDense",),
        summary="2-2-2 sigmoid net of the step-by-step backpropagation example (float64)",
        family="classic",
        dataset="none",
        input_shape=(2,),
        input_dtype="float64",
        num_classes=None,
        preprocessing="raw",
        params=10,
        weights=WeightsSpec(source="builtin", trained_on="initial weights of Mazur (2015)"),
        feature_stages=(FeatureStage("pooled", "hidden", None, 2),),
        reference=Reference(None, "Mazur, 'A step by step backpropagation example' (2015)"),
        year=1986,
    ),
    ModelSpec(
        name="prewitt",
        builder=build_prewitt,
        summary="Fixed Prewitt edge detector: the handcrafted filter that learned convs replaced",
        family="classic",
        dataset="none",
        input_shape=(None, None, 1),
        num_classes=None,
        preprocessing="raw",
        params=18,
        weights=WeightsSpec(source="builtin", trained_on="handcrafted Prewitt kernels"),
        year=1970,
    ),
    _mnist(
        "softmax_regression",
        build_softmax_regression,
        "784 -> 10 softmax regression: the deck's '1-layer NN'",
        params=7850,
        sha256="49e0af1c9c02d7614a054e88d4e3f1a25a343e6b1182b99134ac98add6b33266",
        floor=92.2,
        reference=Reference(92.5, DECK),
        year=1958,
        stages=_dense_stages("flatten", 784),
    ),
    _mnist(
        "mlp_625",
        build_mlp_625,
        "One hidden layer of 625 sigmoid units",
        params=496885,
        sha256="0854fb04bea209c3b71f0641191e2cfc437b7eceeef50137706a6ab2d7858f85",
        floor=97.9,
        reference=Reference(98.2, DECK),
        year=1986,
        stages=_dense_stages("hidden", 625),
    ),
    _mnist(
        "modern_mlp",
        build_modern_mlp,
        "2 x 625 ReLU units with dropout, trained with RMSprop",
        params=888135,
        sha256="b50f6406d71a93101a4767f1bb04c0155b41e17ba7e31a6daf2d3ac505eb3a58",
        floor=98.7,
        reference=Reference(99.0, DECK),
        year=2014,
        stages=_dense_stages("hidden2", 625),
    ),
    _mnist(
        "mnist_convnet",
        build_mnist_convnet,
        "Convnet in the deck's spirit: 3x3 convs, max-pool, dropout, dense 625",
        params=820229,
        sha256="7fb7eaaba3be0c470efbb9752a563f057aafd33fd2d0439254022535fb4a7dff",
        floor=99.5,
        reference=Reference(99.50, DECK),
        year=1998,
        stages=_dense_stages(
            "dense625", 625, ("pool1", 2, 32), ("pool2", 4, 64), ("pool3", 8, 128)
        ),
    ),
    _mnist(
        "mnist_autoencoder",
        build_mnist_autoencoder,
        "Dense autoencoder (784-256-32); a softmax probe on its 32-d code classifies",
        params=419450,
        sha256="81c30d6c361b6b8c51f30e95b275c4f2eeae5d83bdf9f61a36a0cdca8198e770",
        floor=None,
        reference=None,
        year=2006,
        stages=_dense_stages("code", 32),
        custom_objects=("zoo>AutoencoderClassifier",),
    ),
    _mnist(
        "mnist_committee",
        build_mnist_committee,
        "Committee of 9 convnets (3 kinds of column x 3 seeds) on distorted digits, averaged",
        params=2317506,
        sha256="b9e22ea75f9ef31166fdd93c945bd1dd61c0c611745e1e82bdc1fdbf17541dbe",
        floor=99.75,
        reference=Reference(
            99.77, "Cireșan, Meier & Schmidhuber 2012 (35 columns): the deck's record"
        ),
        year=2012,
        # the members' features concatenated: 6 deep columns x 128 + 3 Cireșan columns x 150
        stages=(
            FeatureStage("pooled", "m*_features", None, 1218),
            FeatureStage("logits", "probabilities", None, 10),  # log of the averaged ones
        ),
    ),
    _mnist(
        "mnist_rnn",
        build_mnist_rnn,
        "LSTM reading the 28 rows of a digit as a sequence",
        params=81674,
        sha256="1de0af97ccd97150c4fd5fc8fa93e6cbfd054df6c980efa12e0ea0eae4b64e21",
        floor=98.5,
        reference=None,
        year=1997,
        stages=_dense_stages("lstm", 128),
    ),
)
