"""Inference runtimes: TensorFlow, ONNX Runtime and LiteRT (XNNPACK), behind one ``run``.

ONNX and LiteRT artefacts are exported once with Keras' own ``model.export`` and cached in
``$KERAS_HOME/models/zoo-runtimes/``, keyed by model, output, input shape, the weights' sha256
and the exporter versions. Every export is checked against TensorFlow on a few inputs (max
absolute difference and top-1 agreement) and refused if they disagree. A cached artefact runs
without importing TensorFlow. ``auto`` times each installed runtime once for a model and output
on this machine and remembers the fastest. ONNX Runtime and LiteRT come with the ``fast`` extra
(``pip install keras-zoo[fast]``); without them ``auto`` means TensorFlow.

Example:
    >>> runner = zoo.runtimes.get_runner(zoo.get_spec("mobilenet_v2_1.0_224"), output="pooled",
    ...                                  runtime="onnx")
    >>> runner.run(np.zeros((32, 224, 224, 3), np.float32)).shape
    (32, 1280)
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

from zoo.errors import InputError, ZooError
from zoo.spec import ModelSpec

RUNTIMES = ("tf", "onnx", "litert")
SUFFIX = {"onnx": ".onnx", "litert": ".tflite"}
#: Packages each runtime needs to run, and to export.
RUN_PACKAGES = {"onnx": "onnxruntime", "litert": "ai_edge_litert"}
EXPORT_PACKAGES = {"onnx": ("tf2onnx", "onnx"), "litert": ()}
CHECK_BATCH = 4
TOLERANCE = 1e-3


class ConversionError(ZooError):
    """An exported model that disagrees with TensorFlow; it was not kept."""


def installed() -> list[str]:
    """Runtimes usable here: TensorFlow always, ONNX Runtime / LiteRT when installed."""
    found = ["tf"]
    for name, package in RUN_PACKAGES.items():
        if importlib.util.find_spec(package) is not None:
            found.append(name)
    return found


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def artefact_dir() -> Path:
    from zoo.cache import cache_dir

    return cache_dir() / "zoo-runtimes"


def artefact_path(spec: ModelSpec, output: str, input_shape, weights_sha256: str,
                  runtime: str) -> Path:
    """Cache path keyed by everything that changes the artefact."""
    versions = [_version(p) for p in ("keras", "tensorflow", *EXPORT_PACKAGES[runtime])]
    key = json.dumps([spec.name, output, list(input_shape), weights_sha256, runtime, versions])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return artefact_dir() / f"{spec.name}-{output}-{digest}{SUFFIX[runtime]}"


class Runner:
    """Runs one model output on batches of raw pixels; ``name`` is the runtime's, and
    ``weights_sha256`` identifies the weights it computes with (set by ``get_runner``)."""

    def __init__(self, name: str, run: Callable[[np.ndarray], np.ndarray]):
        self.name = name
        self._run = run
        self.weights_sha256 = ""

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self._run(np.ascontiguousarray(batch, dtype=np.float32))


def _tf_runner(model, output: str) -> Runner:
    import tensorflow as tf

    # XLA on a GPU only: on CPUs it was measured ~10x slower for these models.
    on_gpu = bool(tf.config.list_physical_devices("GPU"))
    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True,
                       jit_compile=on_gpu)

    def run(batch):
        result = call(tf.convert_to_tensor(batch))
        return np.asarray(result[output] if isinstance(result, dict) else result)

    return Runner("tf", run)


def _onnx_runner(path: Path) -> Runner:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return Runner("onnx", lambda batch: session.run(None, {name: batch})[0])


def _litert_runner(path: Path) -> Runner:
    from ai_edge_litert.interpreter import Interpreter

    from zoo.backend import stderr_silenced

    with stderr_silenced():  # "Created TensorFlow Lite XNNPACK delegate" on every start
        interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count() or 1)
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    shape = [None]

    def run(batch):
        if shape[0] != batch.shape:
            interpreter.resize_tensor_input(input_index, batch.shape)
            with stderr_silenced():
                interpreter.allocate_tensors()
            shape[0] = batch.shape
        interpreter.set_tensor(input_index, batch)
        interpreter.invoke()
        return interpreter.get_tensor(output_index).copy()

    return Runner("litert", run)


_OPENERS = {"onnx": _onnx_runner, "litert": _litert_runner}


def _export_checked(model, output: str, runtime: str, path: Path, input_shape) -> dict:
    """Export ``model`` for ``runtime``, compare with TensorFlow, keep it only if they agree."""
    from zoo.backend import quiet_tensorflow, stderr_silenced

    quiet_tensorflow()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=SUFFIX[runtime])
    os.close(handle)
    try:
        rng = np.random.default_rng(0)
        batch = rng.uniform(0, 255, (CHECK_BATCH, *input_shape)).astype(np.float32)
        expected = _tf_runner(model, output).run(batch)
        model(batch[:1], training=False)  # Keras exports only models that have been called
        try:
            with warnings.catch_warnings(), stderr_silenced():
                warnings.simplefilter("ignore")  # exporters' deprecation and C++ log noise
                model.export(temp, format=runtime, verbose=False)
        except Exception as error:  # exporters raise many types
            raise ConversionError(f"Could not export {model.name} for {runtime}: "
                                  f"{type(error).__name__}: {error}") from None
        actual = _OPENERS[runtime](Path(temp)).run(batch)
        difference = float(np.max(np.abs(actual - expected)))
        scale = float(np.max(np.abs(expected))) or 1.0
        agree = float(np.mean(actual.reshape(len(batch), -1).argmax(1)
                              == expected.reshape(len(batch), -1).argmax(1)))
        report = {"max_abs_difference": difference, "top1_agreement": agree}
        if difference > TOLERANCE * max(1.0, scale) or agree < 1.0:
            raise ConversionError(
                f"The {runtime} export of {model.name} disagrees with TensorFlow (max abs "
                f"difference {difference:.3g}, top-1 agreement {agree:.0%}); it was not kept")
        os.replace(temp, path)
        Path(str(path) + ".json").write_text(json.dumps(report))
        return report
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def default_runtime() -> str:
    """``$ZOO_RUNTIME`` when set (``tf``, ``onnx``, ``litert``, ``auto``), else ``auto``."""
    return os.environ.get("ZOO_RUNTIME") or "auto"


def get_runner(spec: ModelSpec, *, output: str = "predictions", runtime: str | None = None,
               weights: Any = "default", input_shape=None,
               model_factory: Callable[[], Any] | None = None) -> Runner:
    """A runner of ``spec``'s ``output`` (``predictions`` or a feature stage).

    ``model_factory`` builds the Keras model (with that output) when TensorFlow is needed: to
    run, to export, or to check an export. A cached artefact needs neither.
    """
    runtime = runtime or default_runtime()
    if runtime not in ("auto", *RUNTIMES):
        raise InputError(f"Unknown runtime {runtime!r}; valid: auto, {', '.join(RUNTIMES)}")
    if runtime != "auto" and runtime not in installed():
        raise InputError(f"Runtime {runtime!r} is not installed here "
                         "(pip install 'keras-zoo[fast]'); installed: " + ", ".join(installed()))
    from zoo.weights import weights_sha256

    shape = tuple(input_shape or spec.input_shape)
    digest = weights_sha256(spec, weights, include_top=output in ("predictions", "logits"))
    model_cache: list = []

    def model():
        if not model_cache:
            model_cache.append(model_factory())
        return model_cache[0]

    def open_runtime(name: str) -> Runner:
        if name == "tf":
            return _tf_runner(model(), output)
        path = artefact_path(spec, output, shape, digest, name)
        if not path.exists():
            _export_checked(model(), output, name, path, shape)
        return _OPENERS[name](path)

    def opened(name: str) -> Runner:
        runner = open_runtime(name)
        runner.weights_sha256 = digest
        return runner

    if runtime != "auto":
        return opened(runtime)
    if installed() == ["tf"]:
        return opened("tf")
    choice_key = f"{spec.name}|{output}|{shape}|{digest}|{platform.machine()}|{os.cpu_count()}"
    choices = _read_choices()
    if choices.get(choice_key) in installed():
        return opened(choices[choice_key])
    best = _fastest(opened, installed(), shape)
    _remember_choice(choice_key, best.name)
    return best


def _fastest(opener: Callable[[str], Runner], names: list[str], shape) -> Runner:
    """Time each runtime on a batch of 32 (after a warm-up run) and return the fastest."""
    batch = np.random.default_rng(1).uniform(0, 255, (32, *shape)).astype(np.float32)
    best, best_time = None, float("inf")
    for name in names:
        try:
            runner = opener(name)
        except ConversionError:
            continue
        runner.run(batch)
        started = time.perf_counter()
        runner.run(batch)
        elapsed = time.perf_counter() - started
        if elapsed < best_time:
            best, best_time = runner, elapsed
    return best


def _choices_path() -> Path:
    return artefact_dir() / "choices.json"


def _read_choices() -> dict[str, str]:
    try:
        return json.loads(_choices_path().read_text())
    except (OSError, ValueError):
        return {}


def _remember_choice(key: str, runtime: str) -> None:
    choices = _read_choices()
    choices[key] = runtime
    _choices_path().parent.mkdir(parents=True, exist_ok=True)
    _choices_path().write_text(json.dumps(choices, indent=1))
