"""Inference runtimes: TensorFlow, ONNX Runtime and LiteRT (XNNPACK), behind one ``run``.

ONNX and LiteRT artefacts are exported once with Keras' own ``model.export`` and cached in
``$KERAS_HOME/models/zoo-runtimes/``, keyed by model, output, input shape, the weights' sha256
and the exporter versions. Every export is checked against TensorFlow on a few inputs (max
absolute difference and top-1 agreement) and refused if they disagree. A cached artefact runs
without importing TensorFlow. ``auto`` times each installed runtime once for a model and output
on this machine and remembers the fastest. ONNX Runtime and LiteRT come with the ``fast`` extra
(``pip install keras-zoo[fast]``); without them ``auto`` means TensorFlow.

On a GPU the TensorFlow runtime compiles with XLA and, where the spec allows it, builds the
model in mixed float16 (``ZOO_PRECISION=float32`` keeps float32); on CPUs it never uses XLA
(measured ~10x slower there) and always runs float32.

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
#: ONNX Runtime and LiteRT run a batch in micro-batches of about this many input pixels (four
#: 224x224 images): on CPUs they then stay in cache, measured 15-25 % faster than one call of 32
#: at 224 px (docs/benchmarks.md). Small inputs (MNIST) still run whole batches.
MICRO_BATCH_PIXELS = 4 * 224 * 224


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


def micro_batch_size(input_shape) -> int | None:
    """Images per engine call for a CPU runtime: about ``MICRO_BATCH_PIXELS`` pixels, at least 1;
    None (whole batches) when the height or width is not fixed.

    Example:
        >>> micro_batch_size((224, 224, 3)), micro_batch_size((28, 28, 1))
        (4, 256)
    """
    height, width = list(input_shape)[:2]
    if not (isinstance(height, (int, np.integer)) and isinstance(width, (int, np.integer))
            and height > 0 and width > 0):
        return None
    return max(1, MICRO_BATCH_PIXELS // int(height * width))


class Runner:
    """Runs one model output on batches of raw pixels; ``name`` is the runtime's, and
    ``weights_sha256`` identifies the weights it computes with (set by ``get_runner``).
    With ``micro_batch`` a batch goes to the engine that many images at a time."""

    def __init__(self, name: str, run: Callable[[np.ndarray], np.ndarray],
                 micro_batch: int | None = None, precision: str = "float32", xla: bool = False):
        self.name = name
        self._run = run
        self.micro_batch = micro_batch
        self.precision = precision
        self.xla = xla
        self.weights_sha256 = ""

    @property
    def description(self) -> str:
        """The runtime's name, with its precision and XLA when not plain float32:
        ``tf (mixed_float16, XLA)``."""
        extras = [self.precision] if self.precision != "float32" else []
        extras += ["XLA"] if self.xla else []
        return f"{self.name} ({', '.join(extras)})" if extras else self.name

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Outputs for ``batch`` (raw pixels, any numeric dtype), one row per image."""
        step = self.micro_batch
        if not step or len(batch) <= step:
            return self._run(np.ascontiguousarray(batch, dtype=np.float32))
        # Cast each micro-batch on its own, so that it is still in cache when the engine reads it.
        return np.concatenate([self._run(np.ascontiguousarray(batch[start: start + step],
                                                              dtype=np.float32))
                               for start in range(0, len(batch), step)])


PRECISIONS = ("auto", "float32")


def gpu_available() -> bool:
    """True when TensorFlow sees a GPU (imports TensorFlow)."""
    from zoo.backend import quiet_tensorflow

    quiet_tensorflow()
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def precision_setting() -> str:
    """``$ZOO_PRECISION``: ``auto`` (the default) or ``float32``."""
    choice = os.environ.get("ZOO_PRECISION") or "auto"
    if choice not in PRECISIONS:
        raise InputError(f"ZOO_PRECISION must be one of {', '.join(PRECISIONS)}; "
                         f"received {choice!r}")
    return choice


def tf_dtype_policy(spec: ModelSpec, on_gpu: bool) -> str:
    """``mixed_float16`` on a GPU for a spec that allows it, unless ``$ZOO_PRECISION`` is
    ``float32``; else ``float32``."""
    allowed = on_gpu and spec.mixed_precision and precision_setting() == "auto"
    return "mixed_float16" if allowed else "float32"


def _computes_in_float16(layer) -> bool:
    if getattr(layer, "compute_dtype", None) == "float16":
        return True
    return any(_computes_in_float16(inner) for inner in getattr(layer, "layers", ()))


def _tf_runner(model, output: str, xla: bool = False) -> Runner:
    import tensorflow as tf

    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True,
                       jit_compile=xla)

    def run(batch):
        result = call(tf.convert_to_tensor(batch))
        result = result[output] if isinstance(result, dict) else result
        return np.asarray(result, dtype=np.float32)  # float16 under mixed precision

    precision = "mixed_float16" if _computes_in_float16(model) else "float32"
    return Runner("tf", run, precision=precision, xla=xla)


def _onnx_runner(path: Path) -> Runner:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # Threads that wait instead of spinning leave the cores to the decoding threads between
    # micro-batches (measured faster end to end on 2 cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return Runner("onnx", lambda batch: session.run(None, {name: batch})[0],
                  micro_batch=micro_batch_size(session.get_inputs()[0].shape[1:]))


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

    input_shape = interpreter.get_input_details()[0]["shape"][1:]
    return Runner("litert", run, micro_batch=micro_batch_size(input_shape))


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
    precision_setting()  # a bad $ZOO_PRECISION is an error whichever runtime runs
    if runtime != "auto" and runtime not in installed():
        raise InputError(f"Runtime {runtime!r} is not installed here "
                         "(pip install 'keras-zoo[fast]'); installed: " + ", ".join(installed()))
    from zoo.weights import weights_sha256

    shape = tuple(input_shape or spec.input_shape)
    digest = weights_sha256(spec, weights, include_top=output in ("predictions", "logits"))
    models: dict[str, Any] = {}

    def model(policy: str = "float32"):
        """The Keras model built under ``policy``; exports always use float32."""
        if policy not in models:
            from zoo.backend import dtype_policy

            with dtype_policy(policy):
                models[policy] = model_factory()
        return models[policy]

    def open_runtime(name: str) -> Runner:
        if name == "tf":
            on_gpu = gpu_available()  # XLA on a GPU only: ~10x slower on these CPUs
            return _tf_runner(model(tf_dtype_policy(spec, on_gpu)), output, xla=on_gpu)
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
    choice_key = (f"{spec.name}|{output}|{shape}|{digest}|{platform.machine()}|{os.cpu_count()}"
                  f"|micro {MICRO_BATCH_PIXELS}")  # a new micro-batch size: time again
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
