"""Weights: random or shipped or a user's file, hash checks before anything is loaded, clear
errors for missing, corrupt and mismatched files."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import zoo
from zoo.weights.shipped import shipped_path

from conftest import uint8_noise

MNIST_MODELS = zoo.list_models(dataset="mnist")


@pytest.mark.parametrize("name", MNIST_MODELS)
def test_mnist_models_take_raw_digits_in_any_layout(name):
    model = zoo.load(name)
    images = uint8_noise((3, 28, 28))
    as_uint8 = model.predict(images, verbose=0)
    as_float_channel = model.predict(images[..., None].astype("float32"), verbose=0)
    assert as_uint8.shape == (3, 10)
    np.testing.assert_allclose(as_uint8.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(as_uint8, as_float_channel, rtol=1e-5, atol=1e-6)


def test_random_weights_differ_from_shipped():
    images = uint8_noise((4, 28, 28))
    shipped = zoo.load("softmax_regression").predict(images, verbose=0)
    random = zoo.load("softmax_regression", weights=None).predict(images, verbose=0)
    assert not np.allclose(shipped, random)


def test_weights_from_a_path_load(tmp_path):
    model = zoo.load("mlp_625")
    path = tmp_path / "mine.weights.h5"
    model.save_weights(str(path))
    images = uint8_noise((2, 28, 28))
    np.testing.assert_allclose(
        zoo.load("mlp_625", weights=path).predict(images, verbose=0),
        model.predict(images, verbose=0),
        rtol=1e-6,
    )


def test_hash_mismatch_is_refused_and_names_everything(tmp_path):
    spec = zoo.get_spec("softmax_regression")
    wrong = "f" * 64
    bad_spec = dataclasses.replace(spec, weights=dataclasses.replace(spec.weights, sha256=wrong))
    with pytest.raises(zoo.WeightsHashError) as caught:
        zoo.load(bad_spec)
    message = str(caught.value)
    assert str(shipped_path(spec)) in message
    assert wrong in message and spec.weights.sha256 in message
    assert "nothing was loaded" in message


def test_corrupt_weights_file_is_refused(tmp_path):
    from zoo.hashing import sha256_file
    from zoo.weights.cache import check_file

    corrupt = tmp_path / "softmax_regression.weights.h5"
    data = bytearray(shipped_path(zoo.get_spec("softmax_regression")).read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    with pytest.raises(zoo.WeightsHashError, match=sha256_file(corrupt)):
        check_file(corrupt, zoo.get_spec("softmax_regression").weights, move_bad=False)


def test_a_file_is_hashed_once_per_process_while_it_is_unchanged(tmp_path, monkeypatch):
    import hashlib
    import os
    import time

    from zoo import hashing
    from zoo.hashing import file_hashes

    path = tmp_path / "w.weights.h5"
    path.write_bytes(b"a" * 1000)
    assert file_hashes(path)["sha256"] == hashlib.sha256(b"a" * 1000).hexdigest()
    path.write_bytes(b"b" * 1000)  # rewritten at once, same size: within the racy window
    assert file_hashes(path)["sha256"] == hashlib.sha256(b"b" * 1000).hexdigest()
    monkeypatch.setattr(hashing, "RACY_SECONDS", -1.0)  # as if the file were older
    old = (1_600_000_000, 1_600_000_000)
    os.utime(path, old)
    reads = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: reads.append(a[0]) or real_open(*a, **k))
    assert file_hashes(path)["md5"] == hashlib.md5(b"b" * 1000).hexdigest()
    assert file_hashes(path)["md5"] == hashlib.md5(b"b" * 1000).hexdigest()
    assert len(reads) == 1  # remembered: read once
    time.sleep(0.05)  # beyond the file system's timestamp granularity
    with real_open(path, "r+b") as handle:  # same inode and size, modification time set back:
        handle.write(b"c")  # the inode's change time still moves, so it is read again
    os.utime(path, old)
    assert file_hashes(path)["sha256"] == hashlib.sha256(b"c" + b"b" * 999).hexdigest()
    os.utime(path, (1_600_000_001, 1_600_000_001))  # any new modification time: read again
    assert file_hashes(path)["sha256"] == hashlib.sha256(b"c" + b"b" * 999).hexdigest()
    assert len(reads) == 3


def test_garbage_weights_path_gives_clear_error(tmp_path):
    garbage = tmp_path / "garbage.weights.h5"
    garbage.write_text("not hdf5")
    with pytest.raises(zoo.WeightsError, match="garbage.weights.h5"):
        zoo.load("mlp_625", weights=garbage)
    with pytest.raises(zoo.WeightsError, match="not found"):
        zoo.load("mlp_625", weights=tmp_path / "missing.weights.h5")


def test_weights_of_another_model_are_refused():
    with pytest.raises(zoo.WeightsError, match="mlp_625"):
        zoo.load("mlp_625", weights=shipped_path(zoo.get_spec("softmax_regression")))


def test_wrong_input_shape_is_a_clear_error():
    with pytest.raises(zoo.InputError, match=r"\(N, 28, 28, 1\) or \(N, 28, 28\).*\(2, 32, 32\)"):
        zoo.predict("softmax_regression", np.zeros((2, 32, 32), "uint8"))
    with pytest.raises(zoo.InputError, match="numeric"):
        zoo.predict("softmax_regression", np.array([["a"] * 28] * 28, dtype=object)[None])


def test_verify_reports_every_shipped_file():
    rows = {row["model"]: row for row in zoo.verify()}
    assert all(rows[name]["status"] == "ok" for name in MNIST_MODELS + ["perceptron"])
    assert rows["prewitt"]["status"] == "builtin"
