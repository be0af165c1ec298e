"""Lazy, quiet TensorFlow: imported only when a model is built or run.

TensorFlow's C++ start-up prints several lines (oneDNN notes, CUDA probing on machines without
a GPU) straight to the process' stderr, before its log level is read. ``quiet_tensorflow``
imports it with file descriptor 2 pointed at /dev/null, so the CLI prints only what it means
to. Set ``ZOO_TF_LOGS=1`` to see TensorFlow's own messages.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

_imported = False


@contextlib.contextmanager
def stderr_silenced():
    """Point file descriptor 2 at /dev/null (C++ libraries' logs included) while inside;
    ``ZOO_TF_LOGS=1`` keeps it."""
    if os.environ.get("ZOO_TF_LOGS"):
        yield
        return
    with stderr_redirected(Path(os.devnull)):
        yield


@contextlib.contextmanager
def stderr_redirected(path: Path):
    """Point file descriptor 2 (this process's, and that of the processes it starts) at
    ``path``, appended to, while inside; yields a descriptor of the console's standard error.

    Example:
        >>> with stderr_redirected(Path("beam.log")) as console:
        ...     os.write(console, b"still on the console\n")
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(target, 2)
        os.close(target)
        yield saved
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def dtype_policy(name: str):
    """Build Keras layers under the dtype policy ``name`` (``mixed_float16``) while inside;
    the previous global policy comes back on exit."""
    quiet_tensorflow()
    import keras

    saved = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(saved)


def quiet_tensorflow() -> None:
    """Import TensorFlow (and probe its devices) once, without its start-up noise."""
    global _imported
    if _imported:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        pass  # Keras on JAX or PyTorch (e.g. training on a GPU machine without TensorFlow)
    elif os.environ.get("ZOO_TF_LOGS"):
        import tensorflow  # noqa: F401
    else:
        with stderr_silenced():
            import tensorflow as tf

            tf.config.list_physical_devices()
            import keras  # noqa: F401
    import zoo.layers  # noqa: F401  (registers zoo's custom objects, so .keras files load)

    _imported = True


def seed_everything(seed: int) -> None:
    """Fix Python, NumPy and the backend's seeds; on TensorFlow, make its ops deterministic too
    (on JAX, set ``XLA_FLAGS=--xla_gpu_deterministic_ops=true`` for a GPU)."""
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        quiet_tensorflow()
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    import keras

    keras.utils.set_random_seed(seed)


# -- GPU and precision policy -----------------------------------------------------------------

#: Values of ``$ZOO_PRECISION``.
PRECISIONS = ("auto", "float32")


def gpu_available() -> bool:
    """True when TensorFlow sees a GPU (imports TensorFlow)."""
    quiet_tensorflow()
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def precision_setting() -> str:
    """``$ZOO_PRECISION``: ``auto`` (the default) or ``float32``.

    Raises:
        InputError: any other value, naming the valid ones.
    """
    from zoo.errors import InputError

    choice = os.environ.get("ZOO_PRECISION") or "auto"
    if choice not in PRECISIONS:
        raise InputError(
            f"ZOO_PRECISION must be one of {', '.join(PRECISIONS)}; received {choice!r}"
        )
    return choice


def tf_dtype_policy(mixed_precision_allowed: bool, on_gpu: bool) -> str:
    """``mixed_float16`` on a GPU for a model that allows it (``ModelSpec.mixed_precision``),
    unless ``$ZOO_PRECISION`` is ``float32``; else ``float32``."""
    allowed = on_gpu and mixed_precision_allowed and precision_setting() == "auto"
    return "mixed_float16" if allowed else "float32"
