"""Inference engines: a model's output run on the fastest runtime of this machine.

- ``engine``: open an artefact (ONNX Runtime, LiteRT, a SavedModel) or wrap a Keras model, and
  run one batch.
- ``conversion``: a Keras model converted to a runtime's format, checked against TensorFlow,
  kept (cached) only if they agree.
- ``runtimes``: choose the engine for a model's output (``runtime="auto"`` times them once)
  and run batches through it.
- ``background``: a first call's fast engine prepared in a detached process.
- ``int8``: ``precision="int8"``: calibrated, parity-checked int8 LiteRT artefacts.
"""
