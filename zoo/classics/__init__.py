"""The deck's classic models: their training, their figures and what they show.

- ``train``, ``recipes``, ``augment``, ``mnist_data``: retrain the shipped weights from MNIST,
  deterministically, with fixed recipes.
- ``committee``, ``distort``: ``mnist_committee``, nine convnets on distorted digits.
- ``table``: the deck's MNIST table next to ours; ``optimizers``: the deck's optimization
  methods compared; ``tune``: ``zoo classics tune``.
- ``backprop``, ``prewitt``, ``transfer``: the backpropagation example, the edge detector, and
  transfer learning on the embedded optdigits (the demo).
"""
