"""``zoo bench``: speed measured side by side in one run, as ratios.

- ``runtimes``: the naive loop against each runtime, end to end and pure compute.
- ``finetune``: the two phases of fine-tuning, against ``model.fit``.
- ``int8``: int8 against float32: speed and agreement on real photos.
- ``beam``: ``--engine beam`` against the single process.
- ``mnist``: an MNIST model's throughput against the deck's convnet.
"""
