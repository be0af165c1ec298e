"""What the fine-tuning tests share: optdigits class folders, a run's final weights, and a
fine-tune in a child process that kills itself where a test says (finetune_child.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from zoo import run_dir

from conftest import SHARED

OPTDIGITS = SHARED / "data" / "optdigits"
CHILD = Path(__file__).with_name("finetune_child.py")
#: The fastest fine-tune that still trains every layer: no augmentation, no progress bars.
QUICK = {"progress": False, "augment": "none", "unfreeze": "all"}


def digits_folder(folder: Path, per_class: int | None, start: int = 0, classes=range(10)) -> Path:
    """Optdigits images ``start .. start + per_class`` of each class, copied into ``folder``."""
    for label in classes:
        files = sorted((OPTDIGITS / str(label)).glob("*.png"))
        chosen = files[start : None if per_class is None else start + per_class]
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        for file in chosen:
            shutil.copy(file, folder / str(label) / file.name)
    return folder


def final_weights(run: Path) -> list[np.ndarray]:
    import keras

    model = keras.saving.load_model(run / run_dir.MODEL_FILE, compile=False)
    return [np.asarray(w) for w in model.get_weights()]


def child(model: str, data: Path, out: Path, *flags: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            str(CHILD),
            model,
            str(data),
            str(out),
            *flags,
            "--options",
            json.dumps(options),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)},
    )
