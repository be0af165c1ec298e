"""The `zoo` command as a user runs it: info, verify, classics table/backprop/prewitt, errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
from PIL import Image

import zoo
from zoo.weights.shipped import PACKAGE_WEIGHTS_DIR

from conftest import MNIST_PATH, SAMPLES, assert_clean_error, run_zoo


def test_info_shows_spec_weights_and_figures():
    result = run_zoo("info", "mnist_convnet", check=True)
    text = result.stdout
    spec = zoo.get_spec("mnist_convnet")
    assert spec.weights.sha256 in text
    assert "status: ok" in text
    assert "input_shape: (28, 28, 1)" in text
    assert "preprocessing: mnist" in text
    assert "stage2: pool2 (stride 4, 64 channels)" in text
    assert "pooled: dense625 (625 channels)" in text
    assert "accuracy: 99.5" in text  # the deck's figure
    info = json.loads(run_zoo("info", "mnist_convnet", "--json", check=True).stdout)
    assert info["params"] == spec.params
    assert info["ours"]["accuracy"] >= spec.accuracy_floor
    assert info["weights"]["path"].endswith("mnist_convnet.weights.h5")


def test_unknown_model_is_one_line_not_a_traceback():
    assert_clean_error(run_zoo("info", "mnist_cnn"), "Did you mean 'mnist_convnet'?")


def _tampered_weights_dir(tmp_path):
    folder = tmp_path / "weights"
    shutil.copytree(PACKAGE_WEIGHTS_DIR, folder)
    target = folder / "mnist_convnet.weights.h5"
    data = bytearray(target.read_bytes())
    data[-100] ^= 0x01
    target.write_bytes(bytes(data))
    return folder


def test_tampered_shipped_weights_are_refused(tmp_path):
    env = {"ZOO_WEIGHTS_DIR": str(_tampered_weights_dir(tmp_path))}
    result = run_zoo("predict", SAMPLES / "digit_1.png", "--model", "mnist_convnet", env=env)
    assert_clean_error(
        result,
        "mnist_convnet.weights.h5",
        zoo.get_spec("mnist_convnet").weights.sha256,
        "nothing was loaded",
    )
    verify = run_zoo("verify", env=env)
    assert verify.returncode == 1
    rows = [line.split() for line in verify.stdout.splitlines()[1:]]
    statuses = {row[0]: row[2] for row in rows if row[1] == "top"}
    assert statuses["mnist_convnet"] == "failed" and statuses["mlp_625"] == "ok"


def test_verify_passes_on_the_shipped_files():
    result = run_zoo("verify", "--json", check=True)
    assert {row["status"] for row in json.loads(result.stdout)} == {"ok", "builtin"}


def test_classics_table_measures_the_shipped_weights():
    """Two rows, named: every model's floor is measured in test_accuracy, and the committee
    alone takes minutes on 2 cores."""
    named = ("mnist_convnet", "softmax_regression", "mnist_convnet")
    result = run_zoo("classics", "table", *named, "--data", MNIST_PATH, "--json", check=True)
    table = json.loads(result.stdout)
    assert "measured now" in table["source"]
    rows = {row["model"]: row for row in table["rows"]}
    assert [row["model"] for row in table["rows"]] == ["softmax_regression", "mnist_convnet"]
    assert rows["mnist_convnet"]["deck"] == 99.5
    assert rows["mnist_convnet"]["ours"] >= 99.5
    assert rows["softmax_regression"]["ours"] >= 92.2
    assert all(row["train_seconds"] > 0 and row["measured"] for row in rows.values())


def test_classics_table_rows_must_be_mnist_models():
    assert_clean_error(
        run_zoo("classics", "table", "mnist_cnn", "--recorded"),
        "Unknown model 'mnist_cnn'. Did you mean 'mnist_convnet'?",
    )
    assert_clean_error(
        run_zoo("classics", "table", "mobilenet_v1_0.25_128", "--recorded"),
        "'mobilenet_v1_0.25_128' is not an MNIST model",
        "valid: ",
        "mnist_committee",
    )
    shown = run_zoo("classics", "table", "mnist_rnn", "--recorded", check=True).stdout
    assert "| mnist_rnn |" in shown and "mnist_convnet" not in shown


def test_classics_table_without_data_falls_back_to_recorded(tmp_path):
    result = run_zoo("classics", "table", check=True, env={"KERAS_HOME": str(tmp_path)})
    assert "(recorded)" in result.stdout
    assert "| mnist_convnet | 99.50 % |" in result.stdout


def test_classics_table_bad_data_path(tmp_path):
    assert_clean_error(
        run_zoo("classics", "table", "--data", tmp_path / "nope.npz"), "MNIST file not found"
    )


def test_classics_backprop_prints_ours_beside_published():
    result = run_zoo("classics", "backprop", "--steps", "3", check=True)
    assert "0.298371109" in result.stdout
    step_one = next(line for line in result.stdout.splitlines() if "step 1 " in line)
    assert "0.291027774" in step_one and "0.291027924" in step_one
    assert_clean_error(run_zoo("classics", "backprop", "--steps", "0"), "at least 1")


def test_classics_prewitt_writes_an_edge_png(tmp_path):
    source = tmp_path / "steps.png"
    array = np.vstack([np.full((20, 30), 40, np.uint8), np.full((20, 30), 10, np.uint8)])
    Image.fromarray(array).save(source)
    out = tmp_path / "edges.png"
    result = run_zoo("classics", "prewitt", source, "--out", out, check=True)
    assert "strongest response 90.0" in result.stdout
    edges = np.asarray(Image.open(out))
    assert edges.shape == (38, 28)
    assert edges[18].min() == 255 and edges[0].max() == 0  # the edge rows light up, nothing else
    assert_clean_error(run_zoo("classics", "prewitt", tmp_path / "none.png"), "no such file")


def test_a_closed_pipe_ends_quietly():
    import subprocess

    from conftest import ZOO_COMMAND

    process = subprocess.Popen(
        [str(ZOO_COMMAND), "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()  # like `zoo list | head -0`: the reader is gone before zoo writes
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert stderr == ""
