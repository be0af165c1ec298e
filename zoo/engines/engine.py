"""Inference engines: open an artefact (or wrap a Keras model) and run one batch through it.

An engine is a function ``batch -> outputs`` on float32 pixels (LiteRT's also takes uint8 and
casts it into its own input buffer), plus the input shape it was made for. TensorFlow wraps a
Keras model in a ``tf.function``; ONNX Runtime and LiteRT (with XNNPACK) open an exported file
and never import TensorFlow. Choosing an engine and batching
work through it is ``zoo.engines.runtimes``' job; making the files is ``zoo.engines.conversion``'s.

Example:
    >>> engine = zoo.engines.engine.open_engine("onnx", Path("mnist_convnet.onnx"))
    >>> engine.run(np.zeros((4, 28, 28, 1), np.float32)).shape
    (4, 10)
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import InputError

#: Every engine, and the packages the file-based ones need to run.
ENGINES = ("tf", "onnx", "litert")
RUN_PACKAGES = {"onnx": "onnxruntime", "litert": "ai_edge_litert"}
#: The file each file-based engine opens.
SUFFIX = {"onnx": ".onnx", "litert": ".tflite"}


@dataclass
class Engine:
    """One opened engine: ``run(float32 batch) -> outputs``, for inputs of ``input_shape``
    (per image; ``None`` where a dimension is free). ``precision`` and ``xla`` say how the TF
    engine computes; ``casts_input``: ``run`` takes any numeric dtype and casts it itself."""

    name: str
    run: Callable[[np.ndarray], np.ndarray]
    input_shape: tuple[Any, ...] | None = None
    precision: str = "float32"
    xla: bool = False
    casts_input: bool = False


def installed() -> list[str]:
    """Engines usable here: TensorFlow always, ONNX Runtime / LiteRT when installed."""
    found = ["tf"]
    for name, package in RUN_PACKAGES.items():
        if importlib.util.find_spec(package) is not None:
            found.append(name)
    return found


def _computes_in_float16(layer) -> bool:
    if getattr(layer, "compute_dtype", None) == "float16":
        return True
    return any(_computes_in_float16(inner) for inner in getattr(layer, "layers", ()))


def tf_engine(model, output: str, xla: bool = False) -> Engine:
    """``model`` (a Keras model) as a ``tf.function``, compiled with XLA when ``xla``; returns
    ``output`` when the model's outputs are a dict, as float32."""
    import tensorflow as tf

    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True, jit_compile=xla)

    def run(batch):
        result = call(tf.convert_to_tensor(batch))
        result = result[output] if isinstance(result, dict) else result
        return np.asarray(result, dtype=np.float32)  # float16 under mixed precision

    precision = "mixed_float16" if _computes_in_float16(model) else "float32"
    return Engine("tf", run, tuple(model.inputs[0].shape[1:]), precision=precision, xla=xla)


def engine_threads() -> int:
    """Threads an ONNX Runtime or LiteRT engine computes with: ``$ZOO_THREADS`` when set (a
    Beam worker sharing the cores with others sets it), else one per core.

    Raises:
        InputError: ``$ZOO_THREADS`` is not a positive integer.
    """
    setting = os.environ.get("ZOO_THREADS", "")
    if not setting:
        return os.cpu_count() or 1
    if not setting.isdigit() or int(setting) < 1:
        raise InputError(f"$ZOO_THREADS must be a positive integer, received {setting!r}")
    return int(setting)


def _onnx_engine(path: Path) -> Engine:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # Threads that wait instead of spinning leave the cores to the decoding threads between
    # micro-batches (measured faster end to end on 2 cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.intra_op_num_threads = engine_threads()
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return Engine(
        "onnx",
        lambda batch: session.run(None, {name: batch})[0],
        tuple(session.get_inputs()[0].shape[1:]),
    )


def _litert_engine(path: Path) -> Engine:
    from ai_edge_litert.interpreter import Interpreter

    from zoo.backend import stderr_silenced

    with stderr_silenced():  # "Created TensorFlow Lite XNNPACK delegate" on every start
        interpreter = Interpreter(model_path=str(path), num_threads=engine_threads())
    details = interpreter.get_input_details()[0]
    input_index = details["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    # A float input takes any pixels cast into it; any other (an artefact with integer input)
    # only its own dtype, which set_tensor checks.
    casts_input = details["dtype"] == np.float32
    shape = [None]

    def run(batch):
        if shape[0] != batch.shape:
            interpreter.resize_tensor_input(input_index, batch.shape)
            with stderr_silenced():
                interpreter.allocate_tensors()
            shape[0] = batch.shape
        if casts_input:  # straight into the interpreter's input: no float32 copy of the batch
            np.copyto(interpreter.tensor(input_index)(), batch, casting="unsafe")
        else:
            interpreter.set_tensor(input_index, batch)
        interpreter.invoke()  # the view above is gone by now, as LiteRT requires
        return interpreter.get_tensor(output_index).copy()

    input_shape = tuple(int(d) for d in details["shape"][1:])
    return Engine("litert", run, input_shape, casts_input=casts_input)


_OPENERS = {"onnx": _onnx_engine, "litert": _litert_engine}


def open_engine(name: str, path: Path) -> Engine:
    """Open the artefact at ``path`` with the file-based engine ``name`` (``onnx``, ``litert``)."""
    if name not in _OPENERS:
        raise ValueError(f"Engine {name!r} opens no file; file-based: {', '.join(_OPENERS)}")
    return _OPENERS[name](Path(path))
