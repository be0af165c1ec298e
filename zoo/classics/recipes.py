"""How each shipped classic model is trained: fixed, documented recipes (no tuning on the test
set)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Recipe:
    """One supervised MNIST training recipe.

    The learning rate follows a cosine decay from ``learning_rate`` to 0 over all steps.
    ``shift`` > 0 draws new random shifts of up to that many pixels every epoch.
    """

    optimizer: str
    learning_rate: float
    epochs: int
    batch_size: int = 128
    shift: int = 0
    note: str = ""

    def describe(self) -> str:
        text = (
            f"{self.optimizer} lr {self.learning_rate:g} cosine-decayed, {self.epochs} epochs of "
            f"batch {self.batch_size}"
        )
        if self.shift:
            text += f", random shifts of up to {self.shift} px"
        return text + (f"; {self.note}" if self.note else "")


#: The softmax probe trained on the frozen autoencoder code.
AUTOENCODER_PROBE = Recipe("adam", 3e-3, epochs=10)

RECIPES = {
    "softmax_regression": Recipe("adam", 1e-3, epochs=15),
    "mlp_625": Recipe("adam", 1e-3, epochs=30, shift=2),
    "modern_mlp": Recipe(
        "rmsprop",
        1e-3,
        epochs=50,
        shift=2,
        note="dropout 0.1 on the input, 0.25 after each hidden layer",
    ),
    "mnist_convnet": Recipe("adam", 2e-3, epochs=15, shift=2),
    "mnist_rnn": Recipe("adam", 2e-3, epochs=10),
    # Autoencoder: reconstruction (MSE) first, then a softmax probe on the frozen code.
    "mnist_autoencoder": Recipe(
        "adam",
        1e-3,
        epochs=20,
        note=f"then a softmax probe on the frozen 32-d code: {AUTOENCODER_PROBE.describe()}",
    ),
}

#: Each member of mnist_committee (zoo.classics.committee), on freshly distorted digits.
COMMITTEE_RECIPE = Recipe("adam", 3e-3, epochs=20)

PERCEPTRON_MAX_EPOCHS = 20
