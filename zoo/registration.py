"""Register zoo's custom Keras objects as soon as Keras is imported, without importing it.

``keras.saving.load_model`` finds a ``zoo>HeavisideStep`` layer only once ``zoo.layers`` has
been imported. ``import zoo`` must not import TensorFlow, so :func:`register_keras_objects`
imports ``zoo.layers`` right away only if Keras already is imported; otherwise it waits for
the first ``import keras`` (from the user, from TensorFlow or from zoo) with a one-shot import
hook and imports ``zoo.layers`` just after Keras has finished importing. This module itself
imports neither Keras nor TensorFlow.

Example:
    >>> import zoo.registration
    >>> zoo.registration.register_keras_objects()
    >>> import keras            # zoo.layers is imported here, after Keras
    >>> model = keras.saving.load_model("perceptron.keras")
"""

from __future__ import annotations

import importlib
import sys
import threading
import warnings

_LAYERS_MODULE = "zoo.layers"
_lock = threading.Lock()
_hook: _KerasImportHook | None = None


def register_keras_objects() -> None:
    """Make zoo's custom Keras objects known to Keras: now if Keras is imported, else as soon
    as it is. Safe to call any number of times; never imports Keras itself."""
    global _hook
    if "keras" in sys.modules:
        _import_layers()
        return
    with _lock:
        if _hook is None or _hook not in sys.meta_path:
            _hook = _KerasImportHook()
            sys.meta_path.insert(0, _hook)


def _import_layers() -> None:
    """Import ``zoo.layers`` (registering its classes); a failure is a warning, never an error
    in the user's ``import keras``."""
    try:
        importlib.import_module(_LAYERS_MODULE)
    except Exception as exc:  # noqa: BLE001 - must not break the import of Keras
        warnings.warn(
            f"keras-zoo could not register its Keras layers ({_LAYERS_MODULE}): {exc!r}; "
            "`.keras` files of zoo's classic models will not load until it is imported",
            RuntimeWarning,
            stacklevel=2,
        )


class _KerasImportHook:
    """A ``sys.meta_path`` finder for the top-level ``keras`` module only: it returns the spec
    the other finders give, with a loader that imports ``zoo.layers`` once Keras' own module has
    executed, then removes itself from ``sys.meta_path``."""

    def __init__(self) -> None:
        self._searching = False

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras" or path is not None or self._searching:
            return None
        self._searching = True
        try:
            spec = _find_real_spec(self, fullname, target)
        finally:
            self._searching = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None  # not found, or nothing to wrap: the import goes on as without us
        spec.loader = _LoaderWrapper(spec.loader, self)
        return spec

    def remove(self) -> None:
        with _lock:
            while self in sys.meta_path:
                sys.meta_path.remove(self)

    def invalidate_caches(self) -> None:
        pass


def _find_real_spec(hook, fullname, target):
    """The spec of ``fullname`` from the finders on sys.meta_path other than ``hook``."""
    for finder in list(sys.meta_path):
        if finder is hook:
            continue
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        spec = find_spec(fullname, None, target)
        if spec is not None:
            return spec
    return None


class _LoaderWrapper:
    """Delegates to Keras' real loader; after its ``exec_module`` imports ``zoo.layers``."""

    def __init__(self, loader, hook: _KerasImportHook) -> None:
        self._loader = loader
        self._hook = hook

    def create_module(self, spec):
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module) -> None:
        # Keras sees its own loader, as if zoo were not there.
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self._loader
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = self._loader
        self._loader.exec_module(module)  # a failing import of Keras raises as usual
        self._hook.remove()
        _import_layers()

    def __getattr__(self, name):
        return getattr(self._loader, name)
