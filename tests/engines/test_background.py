"""A first `auto` call answers with TensorFlow and prepares the fast engine in a detached
process; the next call runs that engine without TensorFlow; preparers never race."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

import zoo.engines.background as background
import zoo.engines.runtimes as runtimes
import zoo.inference.preparer as preparer
from zoo.files import file_lock

from conftest import SAMPLES, run_zoo

PROBE = (
    "import sys, zoo.cli.app; code = zoo.cli.app.main(sys.argv[1:]); "
    "print('TF', 'tensorflow' in sys.modules); sys.exit(code)"
)


def zoo_in_process(*args: str, env: dict) -> subprocess.CompletedProcess:
    """`zoo ARGS` in a fresh interpreter that says whether TensorFlow was imported."""
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


def wait_for_choice(home, timeout: float = 240) -> dict:
    path = home / "models" / "zoo-runtimes" / "choices.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and json.loads(path.read_text()):
            return json.loads(path.read_text())
        time.sleep(0.5)
    log = path.with_name("background.log")
    raise AssertionError(f"no choice remembered; log: {log.read_text() if log.exists() else ''}")


def test_first_call_uses_tensorflow_then_the_prepared_engine(tmp_path):
    env = {"KERAS_HOME": str(tmp_path), "ZOO_RUNTIME": "auto", "ZOO_BACKGROUND": "1"}
    args = ("predict", str(SAMPLES / "digit_7.png"), "--model", "mnist_convnet", "--top", "1")
    first = zoo_in_process(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert "digit_7.png: 1. 7" in first.stdout and "TF True" in first.stdout
    made = list((tmp_path / "models").rglob("*.onnx")) + list(
        (tmp_path / "models").rglob("*.tflite")
    )
    assert made == []  # it answered without exporting (the preparer needs seconds to start)
    choices = wait_for_choice(tmp_path)
    assert list(choices.values())[0] in ("onnx", "litert", "tf")
    second = zoo_in_process(*args, env=env)
    assert second.stdout.splitlines()[0] == first.stdout.splitlines()[0]
    if list(choices.values())[0] != "tf":
        assert "TF False" in second.stdout


def test_off_switch_and_big_jobs_prepare_in_the_foreground(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    request = {"source": "mnist_convnet", "output": "predictions", "weights": "default"}
    monkeypatch.setenv("ZOO_BACKGROUND", "1")
    assert background.use_background(request, images=5)
    assert not background.use_background(request, images=background.FOREGROUND_FROM)
    assert not background.use_background(None, images=5)
    monkeypatch.setenv("ZOO_BACKGROUND", "off")
    assert not background.use_background(request, images=5)
    result = run_zoo(
        "predict", SAMPLES / "digit_2.png", "--model", "mnist_convnet",
        env={"KERAS_HOME": str(tmp_path), "ZOO_RUNTIME": "auto", "ZOO_BACKGROUND": "0"},
        check=True,
    )  # fmt: skip
    assert "digit_2.png: 1. 2" in result.stdout
    assert runtimes.read_choices()  # chosen before answering, as before


def test_a_second_preparer_exits_and_failures_are_logged(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    request = {"source": "mnist_convnet", "output": "predictions", "weights": "default"}
    with file_lock(background.lock_path(request)):
        assert preparer.main([json.dumps(request)]) == 0
    assert not runtimes.read_choices()  # it did nothing while the other held the lock
    broken = {"source": "mnist_convnett", "output": "predictions", "weights": "default"}
    assert preparer.main([json.dumps(broken)]) == 1
    assert "Did you mean 'mnist_convnet'" in background.log_path().read_text()


@pytest.mark.parametrize("output", ["predictions", "pooled"])
def test_prepare_remembers_a_choice_for_what_the_call_will_ask(tmp_path, monkeypatch, output):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    request = {"source": "mnist_convnet", "output": output, "weights": "default"}
    name = preparer.prepare(request)
    (key,) = runtimes.read_choices()
    assert key.startswith(f"mnist_convnet|{output}|") and runtimes.read_choices()[key] == name
