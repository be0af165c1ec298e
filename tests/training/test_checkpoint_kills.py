"""Checkpoints survive what a flaky machine does (issue 30, item 2): SIGKILL at random moments
across many checkpoint saves always leaves a last checkpoint that loads whole, and the same
command then finishes; a fine-tune into a full disk ends in one line and resumes once there is
space."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from conftest import ZOO_COMMAND, assert_clean_error, grow_tmpfs, run_zoo, tmpfs
from finetune_helpers import digits_folder

pytestmark = pytest.mark.xdist_group("checkpoint_kills")
#: 14 head epochs and 4 fine-tuning epochs of 24 digits: a checkpoint every few tenths of a second.
COMMAND = ["finetune", "--model", "mnist_convnet", "--head-epochs", "14", "--epochs", "4",
           "--val", "0.25", "--quiet"]  # fmt: skip


def finetune(data, out) -> list[str]:
    return [str(ZOO_COMMAND), COMMAND[0], str(data), "--out", str(out), *COMMAND[1:]]


def last_checkpoint_loads(run) -> dict | None:
    """The state of the run's last checkpoint, each of its files read whole (None: none yet)."""
    from zoo.training.fit_loop import read_checkpoint

    folder = run / "checkpoints"
    state = read_checkpoint(folder) if folder.is_dir() else None
    if state is None:
        return None
    with h5py.File(folder / state["weights"], "r") as weights:
        weights.visititems(lambda _, item: item[()] if isinstance(item, h5py.Dataset) else None)
    with np.load(folder / state["optimizer"]) as optimizer:
        assert all(np.all(np.isfinite(optimizer[name])) for name in optimizer.files)
    return state


def test_sigkill_at_random_moments_always_leaves_a_checkpoint_that_loads(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=8, classes=range(3))
    out = tmp_path / "run"
    rng = np.random.default_rng(30)
    seen, killed = [], 0
    for _ in range(3):
        process = subprocess.Popen(finetune(data, out), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)  # fmt: skip
        deadline = time.monotonic() + 120
        while not (out / "checkpoints" / "state.json").exists() and process.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.05)
        time.sleep(float(rng.uniform(0.0, 1.5)))  # somewhere among the next checkpoint saves
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        killed += process.wait() == -signal.SIGKILL
        state = last_checkpoint_loads(out)
        assert state is not None
        seen.append((state["phase"], state["epoch"]))
    assert killed >= 2, seen  # killed mid-run, not after it had finished
    assert seen == sorted(seen)  # each run went on from the last one
    finished = run_zoo(*finetune(data, out)[1:])
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert json.loads((out / "run.json").read_text())["status"] == "finished"


def test_a_finetune_into_a_full_disk_is_one_line_and_resumes_with_space(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=8, classes=range(3))
    with tmpfs(tmp_path / "disk", "1m") as disk:
        full = run_zoo(*finetune(data, disk / "run")[1:])
        assert_clean_error(full, "No space left on device", "run the same command again")
        grow_tmpfs(disk, "64m")
        again = run_zoo(*finetune(data, disk / "run")[1:])
        assert again.returncode == 0, again.stderr[-2000:]
        assert json.loads((disk / "run" / "run.json").read_text())["status"] == "finished"
