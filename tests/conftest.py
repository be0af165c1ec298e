"""Shared fixtures: the read-only ../shared folder, MNIST, and running the installed `zoo`."""

from __future__ import annotations

import contextlib
import gc
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ZOO_SHARED", ROOT.parent / "shared"))
MNIST_PATH = SHARED / "data" / "mnist" / "mnist.npz"
IMAGENET_WEIGHTS = SHARED / "weights" / "imagenet"
SAMPLES = ROOT / "zoo" / "data" / "samples"
ZOO_COMMAND = Path(sys.executable).with_name("zoo")
# Tests run on TensorFlow unless they ask for a runtime (test_runtimes.py), so that `auto` does
# not export and time ONNX/LiteRT for every model and cache folder a test makes.
os.environ.setdefault("ZOO_RUNTIME", "tf")
# No detached preparers outliving a test: tests/engines/test_background.py turns them on where
# it asks.
os.environ.setdefault("ZOO_BACKGROUND", "0")


@pytest.fixture(autouse=True)
def frozen_heap():
    """Once a test has imported TensorFlow, what is alive then (TensorFlow's and Keras' own
    hundreds of thousands of objects) is moved out of the garbage collector's way
    (``gc.freeze``): every later collection, ``keras.backend.clear_session()``'s included, then
    scans only what the tests made. A full collection over TensorFlow's objects took 0.2-1.4 s,
    and test_models.py makes three per model."""
    yield
    if "tensorflow" in sys.modules and not gc.get_freeze_count():
        gc.collect()
        gc.freeze()


@pytest.fixture
def weights_server():
    """A real HTTP server on 127.0.0.1 serving ../shared/weights/imagenet, well and badly."""
    from weights_server import WeightsServer

    with WeightsServer(IMAGENET_WEIGHTS) as server:
        yield server


@pytest.fixture
def private_weights_cache(tmp_path, monkeypatch):
    """An empty Keras cache of the test's own, online, with fast download retries."""
    from zoo.weights import download

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)
    monkeypatch.delenv("ZOO_WEIGHTS_MIRROR", raising=False)
    monkeypatch.setattr(download, "RETRY_BACKOFF", 0.01)
    return tmp_path / "keras" / "models"


def make_digit_folders(root: Path, digits=(1, 7), copies: int = 2) -> Path:
    """``root`` with one class folder per digit (``class_1`` ...), ``copies`` slightly rotated
    copies of zoo's sample digit in each."""
    from PIL import Image

    for digit in digits:
        (root / f"class_{digit}").mkdir(parents=True)
        for copy in range(copies):
            Image.open(SAMPLES / f"digit_{digit}.png").rotate(copy * 5, fillcolor="white").save(
                root / f"class_{digit}" / f"{copy}.png"
            )
    return root


@pytest.fixture(scope="session")
def mnist():
    """The full MNIST from ../shared (Keras layout)."""
    from zoo.classics import mnist_data

    if not MNIST_PATH.is_file():
        pytest.fail(f"MNIST is needed for this test: expected at {MNIST_PATH}")
    return mnist_data.load(MNIST_PATH)


def run_zoo(
    *args: str, check: bool = False, env: dict | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run the installed `zoo` console script as a user would."""
    assert ZOO_COMMAND.exists(), f"`zoo` is not installed next to {sys.executable}"
    result = subprocess.run(
        [str(ZOO_COMMAND), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"zoo {' '.join(map(str, args))} failed:\n{result.stderr}")
    return result


@contextlib.contextmanager
def tmpfs(folder: Path, size: str):
    """A tmpfs of ``size`` (``2m``) mounted at ``folder`` for the block (``grow_tmpfs`` resizes
    it): a disk that really fills up. Mounting needs root, as CI and the project's machines
    have; elsewhere the test is skipped, naming why."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def grow_tmpfs(folder: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(folder)], check=True)


def run_zoo_measured(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    """``run_zoo(*args)`` and the peak resident memory of that one process, in MiB (measured
    by a fresh parent, so no other child of the test process counts)."""
    import json

    measure = (
        "import json, resource, subprocess, sys; "
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "print(json.dumps([done.returncode, done.stdout, done.stderr, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024]))"
    )
    out = subprocess.run([sys.executable, "-c", measure, str(ZOO_COMMAND), *map(str, args)],
                         capture_output=True, text=True, timeout=600, check=True)  # fmt: skip
    code, stdout, stderr, peak = json.loads(out.stdout)
    return subprocess.CompletedProcess(args, code, stdout, stderr), peak


def assert_clean_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """A non-zero exit with a one-line `zoo: error:` message and no Python traceback."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert "zoo: error:" in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture
def digits(mnist):
    """The first 32 MNIST test digits and labels."""
    return mnist.x_test[:32], mnist.y_test[:32]


def uint8_noise(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
