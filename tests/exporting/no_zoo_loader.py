"""Load an exported artefact in its own runtime, in a process that cannot import zoo, and run
it on a saved batch: ``python no_zoo_loader.py FORMAT ARTEFACT BATCH.npy OUT.npy``.

``FORMAT`` is keras, savedmodel, savedmodel_bytes (BATCH is then a list of image files), litert
or onnx. Used by test_export.py to show that an artefact needs nothing from zoo.
"""

from __future__ import annotations

import sys


class NoZoo:
    """Refuses to import zoo (or its applications), wherever it is installed."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("zoo", "applications"):
            raise ImportError(f"{name} may not be imported here")
        return None


sys.meta_path.insert(0, NoZoo())
sys.path = [p for p in sys.path if p and not p.endswith("/tests")]

import numpy as np  # noqa: E402

try:
    import zoo  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("zoo was importable")

fmt, artefact, batch_path, out = sys.argv[1:5]
if fmt == "savedmodel_bytes":
    import tensorflow as tf

    files = open(batch_path).read().split("\n")
    images = tf.constant([open(f, "rb").read() for f in files if f])
    result = tf.saved_model.load(artefact).signatures["serving_bytes"](images=images)
    np.save(out, result["probabilities"].numpy())
    print("\n".join(label.decode() for label in result["top_labels"].numpy()[:, 0]))
    raise SystemExit(0)
batch = np.load(batch_path).astype("float32")
if fmt == "keras":
    import keras

    probabilities = keras.saving.load_model(artefact).predict(batch, verbose=0)
elif fmt == "savedmodel":
    import tensorflow as tf

    signature = tf.saved_model.load(artefact).signatures["serving_default"]
    probabilities = signature(pixels=tf.constant(batch))["probabilities"].numpy()
elif fmt == "litert":
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=artefact)
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, batch.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(index, batch)
    interpreter.invoke()
    probabilities = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
else:
    import onnxruntime

    session = onnxruntime.InferenceSession(artefact, providers=["CPUExecutionProvider"])
    probabilities = session.run(None, {session.get_inputs()[0].name: batch})[0]
np.save(out, np.asarray(probabilities))
