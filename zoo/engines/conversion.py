"""Export a Keras model to a runtime's file format, check it against TensorFlow, keep it only
if they agree.

Exports use Keras' own ``model.export`` (ONNX through tf2onnx, LiteRT through TensorFlow's
converter). The artefact is compared with the TensorFlow model on random inputs (max absolute
difference and top-1 agreement) and refused if they disagree; what was measured is written
beside it as ``FILE.json``. Exports are made under a lock per file and moved into place
atomically, so processes exporting the same artefact at once end with one good file.

Example:
    >>> from zoo.engines import conversion
    >>> path = conversion.artefact_path(spec, "predictions", (28, 28, 1), sha256, "onnx")
    >>> conversion.ensure_artefact(lambda: zoo.load("mnist_convnet"), "predictions",
    ...                              "onnx", path, (28, 28, 1))
    {'max_abs_difference': 1.2e-07, 'top1_agreement': 1.0}
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from zoo.engines.engine import SUFFIX, open_engine, tf_engine
from zoo.errors import ZooError, ZooWarning
from zoo.files import atomic_path, atomic_write, file_lock
from zoo.hashing import sha256_file
from zoo.spec import ModelSpec

#: Packages each format needs to export (besides Keras and TensorFlow).
EXPORT_PACKAGES = {"onnx": ("tf2onnx", "onnx"), "litert": ()}
CHECK_BATCH = 4
TOLERANCE = 1e-3


class ConversionError(ZooError):
    """An exported model that disagrees with TensorFlow (or failed to convert); not kept."""


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def artefact_dir() -> Path:
    """``$KERAS_HOME/models/zoo-runtimes``: where exported artefacts are cached."""
    from zoo.weights.cache import cache_dir

    return cache_dir() / "zoo-runtimes"


def artefact_path(
    spec: ModelSpec,
    output: str,
    input_shape,
    weights_sha256: str,
    engine: str,
    variant: str = "",
) -> Path:
    """Cache path of an artefact, keyed by everything that changes it: model, output, input
    shape, weights, engine, the exporters' versions and ``variant`` (e.g. ``int8`` and its
    calibration images' digest)."""
    versions = [_version(p) for p in ("keras", "tensorflow", *EXPORT_PACKAGES[engine])]
    key = [spec.name, output, list(input_shape), weights_sha256, engine, versions]
    key += [variant] if variant else []  # float32 artefacts keep their names
    digest = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]
    kind = f"-{variant.split('-')[0]}" if variant else ""
    return artefact_dir() / f"{spec.name}-{output}{kind}-{digest}{SUFFIX[engine]}"


def export_model(model, path: Path | str, engine: str, **options: Any) -> None:
    """``model.export`` to ``path`` for ``engine`` (``onnx``, ``litert``, with converter
    ``options``), the exporters' warnings and C++ log noise silenced.

    Raises:
        ConversionError: the exporter failed (whatever it raised is named).
    """
    from zoo.backend import stderr_silenced

    try:
        with warnings.catch_warnings(), stderr_silenced():
            warnings.simplefilter("ignore")  # exporters' deprecation and C++ log noise
            model.export(str(path), format=engine, verbose=False, **options)
    except Exception as error:  # exporters raise many types
        raise ConversionError(
            f"Could not export {model.name} for {engine}: {type(error).__name__}: {error}"
        ) from None


def publish_checked(path: Path, make: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
    """``make(temp)`` writes an artefact to a temporary file beside ``path``, checks it and
    returns its report (or raises ``ConversionError``); only then is it moved to ``path``, with
    the report as ``PATH.json``. A refused or interrupted artefact leaves nothing behind."""
    with atomic_path(path) as temp:
        report = {**make(temp), "sha256": sha256_file(temp)}
    atomic_write(report_path(path), json.dumps(report, indent=1))
    return report


def report_path(path: Path) -> Path:
    """``PATH.json``: what was measured when the artefact at ``path`` was made, its sha256."""
    return Path(str(path) + ".json")


def artefact_problem(path: Path) -> str | None:
    """What is wrong with the cached artefact at ``path`` (its sha256 against the one recorded
    when it was made), or None."""
    try:
        recorded = json.loads(report_path(path).read_text()).get("sha256")
    except (OSError, ValueError, AttributeError):
        return "has no readable report beside it"
    if not recorded:
        return "was made by an older zoo (no sha256 recorded)"
    actual = sha256_file(path)
    if actual != recorded:
        return f"has sha256 {actual[:12]}..., not the {recorded[:12]}... recorded when it was made"
    return None


def open_checked(engine: str, path: Path, ensure: Callable[[], Any]):
    """Open the cached artefact at ``path`` for ``engine`` after checking its sha256; one that
    fails the check or does not load is removed, made again once by ``ensure()`` (which
    exports it when missing), and a ``ZooWarning`` says so.

    Raises:
        ConversionError: the artefact made again fails too.
    """
    problem = artefact_problem(path)
    if problem is None:
        try:
            return open_engine(engine, path)
        except Exception as error:  # engines raise many types on a damaged file
            problem = f"does not load ({type(error).__name__}: {error})"
    warnings.warn(
        f"The cached {engine} artefact {path} {problem}: exporting it again",
        ZooWarning,
        stacklevel=2,
    )
    for stale in (path, report_path(path)):
        stale.unlink(missing_ok=True)
    ensure()
    try:
        return open_engine(engine, path)
    except Exception as error:
        raise ConversionError(
            f"The {engine} artefact {path}, exported again, does not load: "
            f"{type(error).__name__}: {error}"
        ) from None


def export_checked(model, output: str, engine: str, path: Path, input_shape) -> dict[str, Any]:
    """Export ``model`` for ``engine`` to ``path``, compare it with TensorFlow, and move it
    into place only if they agree; return the comparison.

    Raises:
        ConversionError: the exporter failed, or the artefact disagrees with TensorFlow.
    """
    from zoo.backend import quiet_tensorflow

    quiet_tensorflow()

    def make(temp: Path) -> dict[str, Any]:
        rng = np.random.default_rng(0)
        batch = rng.uniform(0, 255, (CHECK_BATCH, *input_shape)).astype(np.float32)
        expected = tf_engine(model, output).run(batch)
        model(batch[:1], training=False)  # Keras exports only models that have been called
        export_model(model, temp, engine)
        actual = open_engine(engine, temp).run(batch)
        difference = float(np.max(np.abs(actual - expected)))
        scale = float(np.max(np.abs(expected))) or 1.0
        agree = float(
            np.mean(
                actual.reshape(len(batch), -1).argmax(1)
                == expected.reshape(len(batch), -1).argmax(1)
            )
        )
        if difference > TOLERANCE * max(1.0, scale) or agree < 1.0:
            raise ConversionError(
                f"The {engine} export of {model.name} disagrees with TensorFlow (max abs "
                f"difference {difference:.3g}, top-1 agreement {agree:.0%}); it was not kept"
            )
        return {"max_abs_difference": difference, "top1_agreement": agree}

    return publish_checked(path, make)


def ensure_file(path: Path, make: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """``make()`` the artefact at ``path`` unless it exists, under a lock per file: of several
    processes asking at once one makes it and the others wait and reuse its file. Returns
    ``make``'s report, or None when the file was there.

    A file already there is used without the lock, as before there was one: a read-only cache
    that holds its artefacts (a shared or pre-filled one) still serves them."""
    if path.exists():
        return None
    with file_lock(path.with_name(path.name + ".lock")):
        if path.exists():
            return None
        return make()


def ensure_artefact(
    model_factory: Callable[[], Any], output: str, engine: str, path: Path, input_shape
) -> dict[str, Any] | None:
    """Export and check the artefact at ``path`` unless it exists (``ensure_file``): returns
    the comparison when this call exported, None when the file was there."""
    return ensure_file(
        path, lambda: export_checked(model_factory(), output, engine, path, input_shape)
    )
