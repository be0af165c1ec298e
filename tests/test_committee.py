"""mnist_committee: distorted training digits, members trained one at a time (resumable), and
one model averaging them (zoo.classics.distort, zoo.classics.committee)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zoo.classics import mnist_data
from zoo.classics.distort import Distortion, distort
from zoo.errors import InputError

from conftest import MNIST_PATH


def test_distortions_are_seeded_and_keep_the_digit():
    digits = np.load(MNIST_PATH)["x_train"][:64]
    none = Distortion(0, 0, 0, 0, 0)
    assert np.array_equal(distort(digits, np.random.default_rng(0), none), digits)
    first = distort(digits, np.random.default_rng(1))
    assert np.array_equal(first, distort(digits, np.random.default_rng(1)))
    assert not np.array_equal(first, distort(digits, np.random.default_rng(2)))
    assert first.shape == digits.shape and first.min() >= 0 and first.max() <= 255
    moved = np.abs(first - digits).mean(axis=(1, 2)) / digits.mean(axis=(1, 2))
    assert 0.05 < np.median(moved) < 1.0  # changed, not destroyed
    ink = first.sum(axis=(1, 2)) / digits.sum(axis=(1, 2))
    assert 0.7 < np.median(ink) < 1.3  # the digit stays in the frame


def test_the_committee_averages_its_members():
    import keras

    from zoo.classics.committee import _member_model, committee_model

    committee = committee_model(3)
    digits = np.load(MNIST_PATH)["x_test"][:16, :, :, None].astype("float32")
    expected = []
    member = _member_model()
    for index in range(3):
        for layer in member.layers:
            if layer.weights:
                layer.set_weights(committee.get_layer(f"m{index}_{layer.name}").get_weights())
        expected.append(member.predict(digits, verbose=0))
    np.testing.assert_allclose(
        committee.predict(digits, verbose=0), np.mean(expected, axis=0), atol=1e-6
    )
    features = [committee.get_layer(f"m{index}_features").output for index in range(3)]
    pooled = keras.Model(committee.inputs, keras.layers.Concatenate()(features))
    assert pooled.predict(digits, verbose=0).shape == (16, 3 * 150)


def test_members_are_trained_one_at_a_time_and_a_rerun_skips_them(tmp_path):
    from zoo.classics.committee import MEMBERS_FOLDER, train_members

    data = mnist_data.load(MNIST_PATH)
    lines: list[str] = []
    first = train_members(data, tmp_path, 2, epochs=1, limit=256, log=lines.append)
    assert [m["index"] for m in first] == [0, 1] and len(first[0]["curve"]) == 1
    record = json.loads((tmp_path / MEMBERS_FOLDER / "members.json").read_text())
    assert [m["sha256"] for m in record["members"]] == [m["sha256"] for m in first]
    (tmp_path / MEMBERS_FOLDER / "member_01.weights.h5").write_bytes(b"torn by a kill")
    lines.clear()
    again = train_members(data, tmp_path, 2, epochs=1, limit=256, log=lines.append)
    assert "== member 0: done before" in lines[0]  # kept
    assert any(line.startswith("== member 1 (seed") for line in lines)  # trained again
    assert again[1]["sha256"] == first[1]["sha256"]  # deterministic
    with pytest.raises(InputError, match="other settings"):
        train_members(data, tmp_path, 2, epochs=2, limit=256, log=lines.append)


def test_the_committee_is_assembled_from_its_members_with_its_curve(tmp_path):
    from zoo.classics.committee import train_committee
    from zoo.metrics import accuracy

    data = mnist_data.load(MNIST_PATH)
    model, results = train_committee(
        data, tmp_path, members=2, epochs=1, limit=256, log=lambda _: None
    )
    assert len(results["members"]) == len(results["committee_curve"]) == 2
    assert results["committee_curve"][0] == results["members"][0]
    assert results["accuracy"] == accuracy(model, data.x_test, data.y_test)
    assert results["committee_curve"][1] == pytest.approx(results["accuracy"], abs=0.01)
    assert (tmp_path / "committee.png").stat().st_size > 10_000
