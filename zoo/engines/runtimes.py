"""Runtimes: choose the engine that runs a model's output, and run batches through it.

``get_runner`` returns a :class:`Runner` on TensorFlow, ONNX Runtime or LiteRT
(``zoo.engines.engine``). The file-based engines run an artefact that ``zoo.engines.conversion``
made once, checked against TensorFlow and cached; a cached artefact runs without importing
TensorFlow. ``auto`` times each installed engine once for a model and output on this machine and
remembers the fastest in ``choices.json``. ONNX Runtime and LiteRT come with the ``fast`` extra
(``pip install keras-zoo[fast]``); without them ``auto`` means TensorFlow.

On a GPU the TensorFlow engine compiles with XLA and, where the spec allows it, builds the
model in mixed float16 (``ZOO_PRECISION=float32`` keeps float32; see ``zoo.backend``); on CPUs
it never uses XLA (measured ~10x slower there) and always runs float32.

Example:
    >>> from zoo.engines.runtimes import get_runner
    >>> runner = get_runner(zoo.get_spec("mobilenet_v2_1.0_224"), output="pooled",
    ...                     runtime="onnx", model_factory=make_model)
    >>> runner.run(np.zeros((32, 224, 224, 3), np.float32)).shape
    (32, 1280)
"""

from __future__ import annotations

import json
import os
import platform
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from zoo.backend import dtype_policy, gpu_available, precision_setting, tf_dtype_policy
from zoo.engines.background import schedule, use_background
from zoo.engines.conversion import (
    ConversionError,
    artefact_dir,
    artefact_path,
    ensure_artefact,
    open_checked,
)
from zoo.engines.engine import ENGINES, Engine, installed, tf_engine
from zoo.engines.int8 import (
    check_precision,
    default_images,
    ensure_int8,
    images_digest,
    split_images,
)
from zoo.errors import InputError, ZooWarning
from zoo.files import atomic_write, file_lock
from zoo.inputs.sources import find_sources
from zoo.spec import ModelSpec

#: ONNX Runtime and LiteRT run a batch in micro-batches of about this many input pixels (four
#: 224x224 images): on CPUs they then stay in cache, measured 15-25 % faster than one call of 32
#: at 224 px (docs/benchmarks.md). Small inputs (MNIST) still run whole batches.
MICRO_BATCH_PIXELS = 4 * 224 * 224
#: Images each engine runs when ``auto`` times it.
TIMING_BATCH = 32


def micro_batch_size(input_shape) -> int | None:
    """Images per engine call for a CPU runtime: about ``MICRO_BATCH_PIXELS`` pixels, at least 1;
    None (whole batches) when the height or width is not fixed.

    Example:
        >>> micro_batch_size((224, 224, 3)), micro_batch_size((28, 28, 1))
        (4, 256)
    """
    height, width = list(input_shape)[:2]
    if not (
        isinstance(height, (int, np.integer))
        and isinstance(width, (int, np.integer))
        and height > 0
        and width > 0
    ):
        return None
    return max(1, MICRO_BATCH_PIXELS // int(height * width))


class Runner:
    """Runs one model output on batches of raw pixels; ``name`` is the engine's, and
    ``weights_sha256`` identifies the weights it computes with (set by ``get_runner``).
    With ``micro_batch`` a batch goes to the engine that many images at a time."""

    def __init__(
        self,
        name: str,
        run: Callable[[np.ndarray], np.ndarray],
        micro_batch: int | None = None,
        precision: str = "float32",
        xla: bool = False,
        casts_input: bool = False,
    ):
        self.name = name
        self._run = run
        self._casts_input = casts_input
        self.micro_batch = micro_batch
        self.precision = precision
        self.xla = xla
        self.weights_sha256 = ""

    @classmethod
    def on(cls, engine: Engine) -> Runner:
        """A runner over ``engine``: micro-batched for the CPU file engines, whole batches on TF."""
        micro = (
            None
            if engine.name == "tf" or engine.input_shape is None
            else micro_batch_size(engine.input_shape)
        )
        return cls(
            engine.name,
            engine.run,
            micro,
            precision=engine.precision,
            xla=engine.xla,
            casts_input=engine.casts_input,
        )

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
            return self._run(self._as_input(batch))
        # Cast each micro-batch on its own, so that it is still in cache when the engine reads it.
        return np.concatenate(
            [
                self._run(self._as_input(batch[start : start + step]))
                for start in range(0, len(batch), step)
            ]
        )

    def _as_input(self, batch: np.ndarray) -> np.ndarray:
        """``batch`` as the engine takes it: as it is when the engine casts it itself (LiteRT
        casts into its own input buffer), else contiguous float32."""
        if self._casts_input:
            return batch
        return np.ascontiguousarray(batch, dtype=np.float32)


def default_runtime() -> str:
    """``$ZOO_RUNTIME`` when set (``tf``, ``onnx``, ``litert``, ``auto``), else ``auto``."""
    return os.environ.get("ZOO_RUNTIME") or "auto"


def get_runner(
    spec: ModelSpec,
    *,
    output: str = "predictions",
    runtime: str | None = None,
    weights: Any = "default",
    input_shape=None,
    model_factory: Callable[[], Any] | None = None,
    precision: str | None = None,
    calibration: Any = None,
    background: dict[str, Any] | None = None,
    images: int | None = None,
) -> Runner:
    """A runner of ``spec``'s ``output`` (``predictions`` or a feature stage).

    ``model_factory`` builds the Keras model (with that output) when TensorFlow is needed: to run,
    to export, or to check an export. A cached artefact needs neither. ``precision="int8"`` runs the
    calibrated, parity-checked int8 LiteRT artefact (``zoo.engines.int8``), calibrated on
    ``calibration`` images (default: zoo's own). ``auto`` with nothing remembered yet and fewer than
    ``zoo.engines.background.FOREGROUND_FROM`` ``images`` runs TensorFlow and prepares the fast
    engine in a detached process as this one exits, when ``background`` says how to rebuild the
    model there (see ``zoo.engines.background``).

    Raises:
        InputError: an unknown runtime or precision, a runtime that is not installed, or a bad
            ``$ZOO_PRECISION``.
        ConversionError: the int8 artefact failed its parity check (it is not kept).
    """
    requested, runtime = runtime, runtime or default_runtime()
    if runtime not in ("auto", *ENGINES):
        raise InputError(f"Unknown runtime {runtime!r}; valid: auto, {', '.join(ENGINES)}")
    precision_setting()  # a bad $ZOO_PRECISION is an error whichever runtime runs
    if runtime != "auto" and runtime not in installed():
        raise InputError(
            f"Runtime {runtime!r} is not installed here "
            "(pip install 'keras-zoo[fast]'); installed: " + ", ".join(installed())
        )
    from zoo.weights.resolve import weights_sha256

    shape = tuple(input_shape or spec.input_shape)
    digest = weights_sha256(spec, weights, include_top=output in ("predictions", "logits"))
    models: dict[str, Any] = {}

    def model(policy: str = "float32"):
        """The Keras model built under ``policy``; exports always use float32."""
        if policy not in models:
            with dtype_policy(policy):
                models[policy] = model_factory()
        return models[policy]

    def opened(name: str) -> Runner:
        if name == "tf":
            on_gpu = gpu_available()  # XLA on a GPU only: ~10x slower on these CPUs
            policy = tf_dtype_policy(spec.mixed_precision, on_gpu)
            runner = Runner.on(tf_engine(model(policy), output, xla=on_gpu))
        else:
            path = artefact_path(spec, output, shape, digest, name)

            def ensure() -> None:
                ensure_artefact(model, output, name, path, shape)

            ensure()
            runner = Runner.on(open_checked(name, path, ensure))
        runner.weights_sha256 = digest
        return runner

    if check_precision(precision) == "int8":
        return _int8_runner(spec, output, requested or "litert", digest, shape, model, calibration)
    if runtime != "auto":
        return opened(runtime)
    if installed() == ["tf"]:
        return opened("tf")
    choice_key = (
        f"{spec.name}|{output}|{shape}|{digest}|{platform.machine()}|{os.cpu_count()}"
        f"|micro {MICRO_BATCH_PIXELS}"
    )  # a new micro-batch size: time again
    remembered = read_choices().get(choice_key)
    if remembered in installed():
        return opened(remembered)
    if use_background(background, images):
        schedule(background)
        return opened("tf")
    best = _fastest(opened, installed(), shape)
    remember_choice(choice_key, best.name)
    return best


def _int8_runner(spec, output, runtime, digest, shape, model, calibration) -> Runner:
    """The int8 LiteRT runner: the artefact made, checked and cached on first use."""
    if runtime not in ("auto", "litert"):
        raise InputError(f"precision int8 runs on LiteRT; received runtime {runtime!r}")
    if "litert" not in installed():
        raise InputError("precision int8 needs LiteRT: pip install 'keras-zoo[fast]'")
    files = find_sources(calibration).paths if calibration is not None else default_images(spec)
    images = split_images(files)
    variant = f"int8-{images_digest(files)}"
    path = artefact_path(spec, output, shape, digest, "litert", variant=variant)
    check = digest != "none"
    if not check:
        warnings.warn(
            f"{spec.name} has random weights: the int8 model is not checked against float32 "
            "(there is nothing to preserve); use it to measure speed, not results",
            ZooWarning,
            stacklevel=3,
        )

    def ensure() -> None:
        ensure_int8(model, spec, output, path, shape, images, check)

    ensure()
    runner = Runner.on(open_checked("litert", path, ensure))
    runner.precision, runner.weights_sha256 = "int8", digest
    return runner


def _fastest(opener: Callable[[str], Runner], names: list[str], shape) -> Runner:
    """Time each runtime on a batch of ``TIMING_BATCH`` (after a warm-up run); the fastest."""
    batch = np.random.default_rng(1).uniform(0, 255, (TIMING_BATCH, *shape)).astype(np.float32)
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


def choices_path() -> Path:
    """Where ``auto`` remembers the fastest runtime per model, output and machine."""
    return artefact_dir() / "choices.json"


def read_choices() -> dict[str, str]:
    """The remembered choices; an unreadable file counts as none remembered (they are timed
    again)."""
    try:
        return json.loads(choices_path().read_text())
    except (OSError, ValueError):
        return {}


def remember_choice(key: str, runtime: str) -> None:
    """Add one choice, under a lock and with an atomic rename: concurrent processes never lose
    each other's entries nor leave a torn file."""
    path = choices_path()
    with file_lock(path.with_name(path.name + ".lock")):
        choices = read_choices()
        choices[key] = runtime
        atomic_write(path, json.dumps(choices, indent=1, sort_keys=True))
