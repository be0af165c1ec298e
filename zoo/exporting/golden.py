"""Golden self-checks: a reference input and the output the verified weights gave on it.

A hash check proves a weights file is the one pinned; it cannot see the rest drift: the
preprocessing, a Keras or TensorFlow upgrade, a builder change. A golden record can. It holds
a model's output on a fixed input (one of zoo's sample digits, prepared the model's way; a
fixed random array for models that take no images): the five best indices and the first
outputs, with the weights' sha256. ``zoo verify NAME`` compares a fresh prediction with it and
names what drifted.

Records ship in ``zoo/data/golden.json`` (the classic models, MobileNet v1 0.25 @128);
``zoo verify --record NAME`` writes one for any other model with verified weights to
``$KERAS_HOME/models/zoo-golden.json``.

Example:
    >>> zoo.exporting.golden.check("mnist_convnet")
    {'model': 'mnist_convnet', 'golden': 'ok', 'detail': 'top-5 [7, 3, 2, 9, 1], max diff 0'}
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import numpy as np

from zoo import registry
from zoo.files import atomic_write, file_lock

SHIPPED_FILE = Path(__file__).resolve().parents[1] / "data" / "golden.json"
REFERENCE_IMAGE = Path(__file__).resolve().parents[1] / "data" / "samples" / "digit_7.png"
#: Outputs kept in a record, and how far a fresh one may be from them.
HEAD = 16
TOLERANCE = 1e-4
#: For probabilities the record also keeps their logarithms: a confident classifier puts ~1.0
#: on one class whichever weights it has, and the small probabilities tell models apart.
LOG_TOLERANCE = 1e-3


def _log_head(output: np.ndarray) -> list[float] | None:
    """log-probabilities of the first outputs, when ``output`` is a probability vector."""
    if output.size < 2 or output.min() < 0 or abs(output.sum() - 1) > 1e-3:
        return None
    return [round(float(v), 5) for v in np.log(np.clip(output[:HEAD], 1e-30, 1))]


def user_file() -> Path:
    from zoo.weights.cache import cache_dir

    return cache_dir() / "zoo-golden.json"


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        return {}


def records() -> dict[str, Any]:
    """Every golden record: the user's (``--record``) over the shipped ones."""
    return {**_read(SHIPPED_FILE), **_read(user_file())}


def reference_input(spec) -> np.ndarray:
    """The fixed input of ``spec``'s record: a sample digit prepared the model's way, or a
    fixed random array in 0..1 (28 wide where the model takes any size)."""
    if spec.dataset == "imagenet" or spec.preprocessing == "mnist":
        from zoo.inputs.sources import prepare_file

        return prepare_file(spec, REFERENCE_IMAGE)[np.newaxis].astype("float32")
    shape = tuple(28 if side is None else side for side in spec.input_shape)  # free sides
    return np.random.default_rng(0).uniform(0, 1, (1, *shape)).astype(spec.input_dtype)


def _output(name: str) -> tuple[np.ndarray, str]:
    from zoo.models import load
    from zoo.weights.resolve import weights_sha256

    spec = registry.get_spec(name)
    model = load(spec)
    output = np.asarray(model.predict(reference_input(spec), verbose=0), dtype=np.float64)
    return output.reshape(-1), weights_sha256(spec, "default", include_top=True)


def record(name: str) -> dict[str, Any]:
    """Measure ``name``'s record from its verified default weights and keep it in the user's
    golden file."""
    import keras

    output, digest = _output(name)
    entry = {
        "top5": np.argsort(-output, kind="stable")[:5].tolist(),
        "head": [round(float(v), 7) for v in output[:HEAD]],
        "size": int(output.size),
        "sum": float(output.sum()),
        "l2": float(np.linalg.norm(output)),
        "log_head": _log_head(output),
        "weights_sha256": digest,
        "keras": keras.__version__,
        "recorded": datetime.date.today().isoformat(),
    }
    path = user_file()
    with file_lock(path.with_name(path.name + ".lock")):
        stored = _read(path)
        stored[name] = entry
        atomic_write(path, json.dumps(stored, indent=1, sort_keys=True))
    return entry


def artefact_output(name: str, path: str | Path, trust: bool = False) -> np.ndarray:
    """The output of an exported artefact of ``name`` on the reference input. A SavedModel
    needs ``trust`` and a ``.keras`` file is checked for code first, as ``zoo.load`` does."""
    from zoo.exporting.formats import format_of, runner
    from zoo.user_files import check_model_file, model_file_kind

    spec = registry.get_spec(name)
    path = Path(path).expanduser()
    kind, fmt = model_file_kind(path), format_of(path)
    if fmt == "savedmodel":  # any folder: TensorFlow would run whatever graph it finds there
        kind = "savedmodel"
    if kind in ("keras", "savedmodel"):
        check_model_file(path, kind, trust)
    run = runner(fmt, path, trust)
    return np.asarray(run(reference_input(spec).astype("float32")), dtype=np.float64).reshape(-1)


def check(name: str, artefact: str | Path | None = None, trust: bool = False) -> dict[str, str]:
    """``{"model", "golden", "detail"}``: ``ok``, ``drift`` (what moved), ``weights``
    (other weights than recorded) or ``none`` (no record). With ``artefact``, an exported
    file of ``name`` is checked instead of the Keras model (a SavedModel only with
    ``trust``: it is code)."""
    expected = records().get(name)
    if expected is None:
        return {"model": name, "golden": "none", "detail": "no record (zoo verify --record)"}
    if artefact is not None:
        output, digest = artefact_output(name, artefact, trust), expected["weights_sha256"]
    else:
        output, digest = _output(name)
    if digest != expected["weights_sha256"]:
        return {
            "model": name,
            "golden": "weights",
            "detail": f"weights {digest[:12]} differ from the recorded "
            f"{expected['weights_sha256'][:12]}",
        }
    top5 = np.argsort(-output, kind="stable")[:5].tolist()
    head = np.asarray(expected["head"])
    difference = float(np.max(np.abs(output[: len(head)] - head))) if len(head) else 0.0
    moved = [
        f"{key} {value:.6g} (recorded {expected[key]:.6g})"
        for key, value in (("sum", float(output.sum())), ("l2", float(np.linalg.norm(output))))
        if abs(value - expected[key]) > TOLERANCE * max(1.0, abs(expected[key]))
    ]
    recorded_logs, logs = expected.get("log_head"), _log_head(output)
    if recorded_logs is not None and logs is not None:
        log_difference = float(np.max(np.abs(np.subtract(logs, recorded_logs))))
        if log_difference > LOG_TOLERANCE:
            moved.append(f"log-probabilities by up to {log_difference:.3g}")
    distinct = len(set(np.round(output, 6)[top5])) == len(top5)  # ties may swap places
    if (
        output.size != expected["size"]
        or difference > TOLERANCE
        or moved
        or (distinct and top5 != expected["top5"])
    ):
        return {
            "model": name,
            "golden": "drift",
            "detail": f"top-5 {top5} (recorded {expected['top5']}), max diff {difference:.3g}"
            + (f", {', '.join(moved)}" if moved else "")
            + f" (recorded with Keras {expected['keras']}): preprocessing or backend drift",
        }
    return {"model": name, "golden": "ok", "detail": f"top-5 {top5}, max diff {difference:.2g}"}
