"""The columns of ``mnist_committee``: Cireșan's and a deeper one of 3x3 convolutions, one
member as a model of its own (what training fits), and the nine averaged (the shipped model).
Pure Keras, imported inside the builders, as every module of ``applications``.

Example:
    >>> model = zoo.load("mnist_committee")
    >>> len([layer for layer in model.layers if layer.name.endswith("_probabilities")])
    9
"""

from __future__ import annotations

#: Members of the shipped MNIST committee; member i is a ``COMMITTEE_CYCLE[i % 3]`` column.
COMMITTEE_MEMBERS = 9
COMMITTEE_CYCLE = ("deep", "deep", "ciresan")


def ciresan_column(x, prefix: str = ""):
    """A column of Cireșan, Meier & Schmidhuber (2012) with batch norm: conv 20@5x5, max-pool,
    conv 40@5x5, max-pool, dense 150, dropout 0.3, softmax (118,850 parameters). Returns its
    (features, probabilities) tensors; layer names start with ``prefix``."""
    import keras

    for index, filters in enumerate((20, 40), start=1):
        x = keras.layers.Conv2D(filters, 5, use_bias=False, name=f"{prefix}conv{index}")(x)
        x = keras.layers.BatchNormalization(name=f"{prefix}bn{index}")(x)
        x = keras.layers.ReLU(name=f"{prefix}relu{index}")(x)
        x = keras.layers.MaxPooling2D(name=f"{prefix}pool{index}")(x)
    x = keras.layers.Flatten(name=f"{prefix}flatten")(x)
    x = keras.layers.Dense(150, use_bias=False, name=f"{prefix}dense")(x)
    x = keras.layers.BatchNormalization(name=f"{prefix}bn_dense")(x)
    features = keras.layers.ReLU(name=f"{prefix}features")(x)
    x = keras.layers.Dropout(0.3, name=f"{prefix}dropout")(features)
    logits = keras.layers.Dense(10, name=f"{prefix}logits")(x)
    return features, keras.layers.Activation("softmax", name=f"{prefix}probabilities")(logits)


def deep_column(x, prefix: str = ""):
    """A deeper column of 3x3 convolutions with batch norm, strided 5x5 convolutions in place of
    pooling: 32-32-32/2, dropout 0.4, 64-64-64/2, dropout 0.4, conv 128@4x4 (the 128 features),
    dropout 0.4, softmax (the shape of C. Deotte's Kaggle MNIST ensembles, 2018; 327,242
    parameters). Returns its (features, probabilities) tensors; layer names start with
    ``prefix``."""
    import keras

    index = 0
    for filters in (32, 64):
        for kernel, strides in ((3, 1), (3, 1), (5, 2)):
            index += 1
            x = keras.layers.Conv2D(
                filters, kernel, strides=strides, padding="same" if strides == 2 else "valid",
                use_bias=False, name=f"{prefix}conv{index}",
            )(x)  # fmt: skip
            x = keras.layers.BatchNormalization(name=f"{prefix}bn{index}")(x)
            x = keras.layers.ReLU(name=f"{prefix}relu{index}")(x)
        x = keras.layers.Dropout(0.4, name=f"{prefix}dropout{filters}")(x)
    x = keras.layers.Conv2D(128, 4, use_bias=False, name=f"{prefix}conv7")(x)
    x = keras.layers.BatchNormalization(name=f"{prefix}bn7")(x)
    x = keras.layers.ReLU(name=f"{prefix}relu7")(x)
    features = keras.layers.Flatten(name=f"{prefix}features")(x)
    x = keras.layers.Dropout(0.4, name=f"{prefix}dropout")(features)
    logits = keras.layers.Dense(10, name=f"{prefix}logits")(x)
    return features, keras.layers.Activation("softmax", name=f"{prefix}probabilities")(logits)


#: The committee's column shapes, by name.
COMMITTEE_COLUMNS = {"ciresan": ciresan_column, "deep": deep_column}


def build_mnist_committee_member(inputs, x, column: str = "deep"):
    """One member of ``mnist_committee`` as a model of its own (what training fits)."""
    import keras

    _, probabilities = COMMITTEE_COLUMNS[column](x)
    return keras.Model(inputs, probabilities, name="mnist_committee_member")


def build_mnist_committee(inputs, x, members: int = COMMITTEE_MEMBERS):
    """``members`` columns (member i a ``COMMITTEE_CYCLE[i % 3]`` column, layers ``m0_``,
    ``m1_`` ...) whose class probabilities are averaged; its ``pooled`` stage concatenates their
    features (the layers ``m*_features``)."""
    import keras

    columns = [
        COMMITTEE_COLUMNS[COMMITTEE_CYCLE[index % len(COMMITTEE_CYCLE)]](x, prefix=f"m{index}_")
        for index in range(members)
    ]
    outputs = keras.layers.Average(name="probabilities")([p for _, p in columns])
    return keras.Model(inputs, outputs)
