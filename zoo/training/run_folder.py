"""A fine-tune's run directory while it is written: whether ``out`` starts a new run, resumes
one or holds a finished one, what the run records (``run.json``), and the run read back.

The files themselves (names, the spec a run directory stands for) are ``zoo.run_dir``'s.

Example:
    >>> run_folder.prepare_out(Path("runs/digits"), arguments, overwrite=False)
    'resume'
    >>> run_folder.open_run("runs/digits").metrics["accuracy"]
    0.98
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo import registry, run_dir
from zoo.backend import quiet_tensorflow
from zoo.errors import InputError
from zoo.files import (
    atomic_write,
)
from zoo.inputs.labelled import LabelledImages
from zoo.version import __version__

#: Held while a process writes a run directory: a second one is refused, not interleaved.
LOCK_FILE = ".lock"
#: Files of a run directory that ``overwrite=True`` may remove (nothing else is touched).
RUN_FILES = (
    run_dir.MODEL_FILE,
    run_dir.LABELS_FILE,
    run_dir.RUN_FILE,
    run_dir.HISTORY_FILE,
    run_dir.METRICS_FILE,
    run_dir.CURVES_FILE,
    run_dir.CONFUSION_FILE,
    run_dir.TOP_LOSSES_FILE,
    run_dir.LR_FIND_FILE,
    run_dir.BAD_FILES,
)


@dataclass
class FineTuneRun:
    """A finished fine-tuning run.

    Attributes:
        directory: the run directory (a model name for ``zoo.load``/``zoo.predict``).
        model: the best epoch's ``keras.Model``: raw 0..255 pixels in, probabilities out.
        labels: class names in index order.
        history: one dict per epoch of both phases (``phase``, ``epoch``, ``loss``,
            ``accuracy``, ``val_loss``, ``val_accuracy``, ``images_per_s``, ...).
        metrics: the best model on the validation images (the training ones without
            validation): ``accuracy``, ``per_class`` precision/recall, ``confusion``.
        bad_files: (path, reason) of each file that was skipped.
        class_counts: training images per class.
        role: ``chief`` (the process that wrote ``directory``), or ``worker N`` of a
            multi-worker run, whose ``directory`` was a temporary folder, removed.
    """

    directory: Path
    model: Any
    labels: list[str]
    history: list[dict[str, Any]]
    metrics: dict[str, Any]
    bad_files: list[tuple[str, str]] = field(default_factory=list)
    class_counts: dict[str, int] = field(default_factory=dict)
    role: str = "chief"

    def __repr__(self) -> str:
        accuracy = self.metrics.get("accuracy")
        shown = "n/a" if accuracy is None else f"{accuracy:.1%}"
        return (
            f"FineTuneRun({str(self.directory)!r}, classes={len(self.labels)}, "
            f"{self.metrics.get('evaluated_on', 'validation')} accuracy={shown})"
        )


#: Arguments added since run directories were first written, and the value a run recorded
#: before them had.
ADDED_ARGUMENTS = {
    "strategy": "auto",
    "head_dropout": 0.0,
    "label_smoothing": 0.0,
    "mix": "none",
    "mix_alpha": 0.2,
    "ema": None,
    "layer_decay": None,
    "warmup": 0,
    "schedule": "constant",
    "patience": None,
    "mirror": True,
}


def argument_differences(recorded: dict[str, Any], arguments: dict[str, Any]) -> list[str]:
    return run_dir.differences({**ADDED_ARGUMENTS, **recorded}, arguments)


def prepare_out(out: Path, arguments: dict[str, Any], overwrite: bool) -> str:
    """'new', 'resume' or 'finished' for ``out``; raise when it holds something else."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a folder; name a new or empty folder")
    if run_dir.is_run_dir(out):
        if overwrite:
            for name in RUN_FILES:
                (out / name).unlink(missing_ok=True)
            shutil.rmtree(out / run_dir.CHECKPOINTS, ignore_errors=True)
            return "new"
        recorded = run_dir.read_run(out)
        differences = argument_differences(recorded.get("arguments", {}), arguments)
        if differences:
            raise InputError(
                f"{out} holds a run with other arguments ({'; '.join(differences)}). Name "
                "another output folder, or pass --overwrite to start this one again"
            )
        return "finished" if recorded.get("status") == "finished" else "resume"
    if out.exists() and any(path.name != LOCK_FILE for path in out.iterdir()):
        raise InputError(
            f"{out} is a folder that holds other files and no run; name a new or empty folder"
        )
    return "new"


def open_run(folder: str | Path) -> FineTuneRun:
    """The finished run in ``folder``, read back (its model loaded)."""
    quiet_tensorflow()
    import keras

    folder = Path(folder).expanduser()
    spec = registry.get_spec(folder)
    model = keras.saving.load_model(folder / run_dir.MODEL_FILE, compile=False)
    record = run_dir.read_run(folder)
    metrics = run_dir.read_json(folder / run_dir.METRICS_FILE)
    return FineTuneRun(
        directory=folder,
        model=model,
        labels=list(spec.labels),
        history=record.get("history", []),
        metrics=metrics,
        bad_files=[tuple(row) for row in record.get("bad_files", [])],
        class_counts=record.get("class_counts", {}).get("training", {}),
    )


def data_digest(train: LabelledImages, validation: LabelledImages | None) -> str:
    digest = hashlib.sha256()
    for part in (train, validation):
        if part is not None:
            digest.update(np.ascontiguousarray(part.x).tobytes())
            digest.update(np.ascontiguousarray(part.y).tobytes())
            digest.update(json.dumps(part.class_names).encode())
    return digest.hexdigest()


def versions() -> dict[str, str]:
    from importlib import metadata

    found = {"zoo": __version__}
    for package in ("keras", "tensorflow", "numpy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "absent"
    return found


def write_record(out: Path, record: dict[str, Any]) -> None:
    atomic_write(out / run_dir.RUN_FILE, json.dumps(record, indent=1, default=str))


def resume_problem(out: Path, digest: str, setup: dict[str, Any]) -> InputError | None:
    """Why the run in ``out`` cannot be resumed with this data and distribution, or None."""
    recorded = run_dir.read_run(out)
    if recorded.get("data_sha256") != digest:
        return InputError(
            f"The data differs from what the run in {out} started on (images added, "
            "removed or changed). Pass --overwrite to start again, or another output folder"
        )
    before = recorded.get("distribution") or {
        "replicas": 1,
        "global_batch": recorded.get("arguments", {}).get("batch_size"),
    }
    if (before["replicas"], before["global_batch"]) != (setup["replicas"], setup["global_batch"]):
        return InputError(
            f"The run in {out} trained on {before['replicas']} replica(s) with batches of "
            f"{before['global_batch']}; this one has {setup['replicas']} and "
            f"{setup['global_batch']}. Resume it on as many devices, or pass --overwrite"
        )
    return None


def start_run_dir(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / run_dir.CHECKPOINTS, ignore_errors=True)


def remove_partial_writes(out: Path) -> None:
    """Temporary files of writes a kill interrupted (``.model.keras.x1y2.keras``)."""
    for name in RUN_FILES:
        for partial in out.glob(f".{name}.*"):
            partial.unlink(missing_ok=True)
