"""mnist_committee: distorted training digits, members trained one at a time (resumable), and
one model averaging them (zoo.classics.distort, zoo.classics.committee)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from zoo.classics import mnist_data
from zoo.classics.distort import ELASTIC, Distortion, distort
from zoo.errors import InputError
from zoo.files import file_lock

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


def test_the_elastic_distortions_move_more_than_the_default_ones():
    digits = np.load(MNIST_PATH)["x_train"][:256]
    moved = {
        name: np.abs(distort(digits, np.random.default_rng(0), distortion) - digits).mean()
        for name, distortion in (("default", Distortion()), ("elastic", ELASTIC))
    }
    assert moved["elastic"] > moved["default"] > 0
    assert "elastic" in ELASTIC.describe() and "elastic" not in Distortion().describe()


def test_the_committee_cycles_through_its_plans_and_their_columns():
    from applications.committee import COMMITTEE_CYCLE, COMMITTEE_MEMBERS
    from zoo.classics.committee import PLAN_CYCLE, PLANS, member_plan, member_seed

    assert tuple(PLANS[plan].column for plan in PLAN_CYCLE) == COMMITTEE_CYCLE
    plans = [member_plan(index) for index in range(COMMITTEE_MEMBERS)]
    seeds = [member_seed(0, index) for index in range(COMMITTEE_MEMBERS)]
    assert plans == ["deep", "deep_elastic", "ciresan"] * 3
    assert seeds == [0, 0, 0, 1, 1, 1, 2, 2, 2]  # within a plan, every member its own seed
    assert member_seed(1, 4) == 1001


def test_the_committee_averages_its_members_and_concatenates_their_features():
    import zoo
    from zoo.classics.committee import _member_model, committee_model
    from zoo.models import feature_model

    committee = committee_model(3)
    digits = np.load(MNIST_PATH)["x_test"][:16, :, :, None].astype("float32")
    expected, features = [], []
    for index, column in enumerate(("deep", "deep", "ciresan")):
        member = _member_model(column)
        for layer in member.layers:
            if layer.weights:
                layer.set_weights(committee.get_layer(f"m{index}_{layer.name}").get_weights())
        expected.append(member.predict(digits, verbose=0))
        stage = member.get_layer("features").output
        features.append(keras_model(member.inputs, stage).predict(digits, verbose=0))
    np.testing.assert_allclose(
        committee.predict(digits, verbose=0), np.mean(expected, axis=0), atol=1e-6
    )
    pooled = feature_model(committee, zoo.get_spec("mnist_committee"), ["pooled"])
    np.testing.assert_allclose(
        pooled.predict(digits, verbose=0)["pooled"], np.concatenate(features, axis=1), atol=1e-5
    )


def keras_model(inputs, outputs):
    import keras

    return keras.Model(inputs, outputs)


def test_the_shipped_committee_has_its_recorded_members_and_pooled_width():
    import zoo
    from applications.committee import COMMITTEE_MEMBERS
    from zoo.weights.shipped import recorded_results

    spec = zoo.get_spec("mnist_committee")
    record = recorded_results()["mnist_committee"]
    assert len(record["members"]) == len(record["committee_curve"]) == COMMITTEE_MEMBERS
    assert record["committee_curve"][-1] == record["accuracy"] >= 99.77
    model = zoo.load("mnist_committee")
    assert model.count_params() == spec.params
    assert spec.feature_stages[0].channels == 6 * 128 + 3 * 150


@pytest.fixture(scope="module")
def small_mnist(tmp_path_factory) -> mnist_data.Mnist:
    """MNIST cut to its first 512 training and 1,000 test digits, as a file of its own: the
    worker processes read ``data.path``, so they score on 1,000 digits too (these tests check
    the workflow, not the figures; an epoch's test accuracy on the full set costs ten times as
    much)."""
    full = mnist_data.load(MNIST_PATH)
    path = tmp_path_factory.mktemp("mnist") / "mnist_small.npz"
    np.savez(
        path,
        x_train=full.x_train[:512],
        y_train=full.y_train[:512],
        x_test=full.x_test[:1000],
        y_test=full.y_test[:1000],
    )
    return mnist_data.load(path)


def test_members_are_trained_one_at_a_time_and_a_rerun_skips_them(tmp_path, small_mnist):
    from zoo.classics.committee import MEMBERS_FOLDER, train_members

    data = small_mnist
    lines: list[str] = []
    first = train_members(data, tmp_path, 2, epochs=1, limit=256, log=lines.append)
    assert [(m["index"], m["plan"]) for m in first] == [(0, "deep"), (1, "deep_elastic")]
    assert len(first[0]["curve"]) == 1
    folder = tmp_path / MEMBERS_FOLDER
    for member in first:
        record = json.loads((folder / f"member_{member['index']:02d}.json").read_text())
        assert record["sha256"] == member["sha256"]
    (folder / "member_01.weights.h5").write_bytes(b"torn by a kill")
    lines.clear()
    again = train_members(data, tmp_path, 2, epochs=1, limit=256, log=lines.append)
    assert "== member 0: done before" in lines[0]  # kept
    assert any(line.startswith("== member 1 (deep_elastic, seed 0)") for line in lines)
    assert again[1]["sha256"] == first[1]["sha256"]  # deterministic
    with pytest.raises(InputError, match=r"other settings \(epochs 1 there, 2 here\)"):
        train_members(data, tmp_path, 2, epochs=2, limit=256, log=lines.append)
    with file_lock(folder / ".lock"):  # another trainer at work on this folder
        with pytest.raises(InputError, match="Another process is training committee members"):
            train_members(data, tmp_path, 2, epochs=1, limit=256, log=lines.append)
    (folder / "settings.json").write_bytes(b"\x00{torn")
    with pytest.raises(InputError, match="settings.json cannot be read"):
        train_members(data, tmp_path, 2, epochs=1, limit=256, log=lines.append)


@pytest.mark.slow  # `make test-all`: 25 s; CI runs the worker processes in the two tests below
def test_members_trained_in_worker_processes_are_the_same_bytes(tmp_path, small_mnist):
    from zoo.classics.committee import MEMBERS_FOLDER, train_members

    data = small_mnist
    alone = train_members(data, tmp_path / "one", 2, epochs=1, limit=128, log=lambda _: None)
    lines: list[str] = []
    together = train_members(
        data, tmp_path / "two", 2, epochs=1, limit=128, jobs=2, log=lines.append
    )
    assert "2 at a time, in worker processes" in lines[0]
    assert [m["sha256"] for m in together] == [m["sha256"] for m in alone]
    assert (tmp_path / "two" / MEMBERS_FOLDER / "member_01.log").read_text().strip()


def test_a_failing_worker_stops_the_run_with_its_log(tmp_path, small_mnist):
    from zoo.classics.committee import train_members

    data = small_mnist._replace(path=tmp_path / "gone.npz")
    with pytest.raises(InputError, match=r"member \d failed .*member_0\d\.log"):
        train_members(data, tmp_path, 2, epochs=1, limit=128, jobs=2, log=lambda _: None)


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_do_not_outlive_a_killed_trainer(tmp_path, small_mnist):
    """SIGKILL leaves the trainer no ``finally``: the workers must still stop."""
    script = (
        "import sys; from pathlib import Path; from zoo.classics import mnist_data; "
        "from zoo.classics.committee import train_members; "
        f"train_members(mnist_data.load({str(small_mnist.path)!r}), Path(sys.argv[1]), 2, "
        "epochs=50, limit=512, jobs=2)"
    )
    trainer = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)])
    logs = [tmp_path / "mnist_committee.members" / f"member_0{i}.log" for i in (0, 1)]
    deadline = time.monotonic() + 120
    while not all(log.is_file() and "epoch 1/50" in log.read_text() for log in logs):
        assert time.monotonic() < deadline and trainer.poll() is None
        time.sleep(0.5)
    workers = _workers_of(tmp_path)
    assert len(workers) == 2
    trainer.kill()
    trainer.wait()
    deadline = time.monotonic() + 20
    while _workers_of(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _workers_of(tmp_path) == []


def _workers_of(folder) -> list[int]:
    """Process ids of committee workers training into ``folder``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"zoo.classics.committee" in command and str(folder).encode() in b" ".join(command):
            found.append(int(entry.name))
    return found


def test_an_unwritable_out_folder_is_one_error_before_any_training(tmp_path):
    from zoo.classics.train import train

    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    with pytest.raises(InputError, match="Cannot write the --out folder"):
        train(["mnist_committee"], blocker / "out", data_path=MNIST_PATH, epochs=1, limit=64)


def test_the_committee_is_assembled_from_its_members_with_its_curve(tmp_path, small_mnist):
    from zoo.classics.committee import train_committee
    from zoo.metrics import accuracy

    data = small_mnist
    model, results = train_committee(
        data, tmp_path, members=2, epochs=1, limit=256, log=lambda _: None
    )
    assert len(results["members"]) == len(results["committee_curve"]) == 2
    assert results["committee_curve"][0] == results["members"][0]
    assert results["accuracy"] == accuracy(model, data.x_test, data.y_test)
    assert results["committee_curve"][1] == pytest.approx(results["accuracy"], abs=0.01)
    assert (tmp_path / "committee.png").stat().st_size > 10_000


@pytest.mark.slow
def test_retraining_a_shipped_member_on_this_machine(tmp_path):
    """The shipped members were trained on a GPU with Keras on JAX, so a CPU retrain cannot
    give their bytes (a rerun on one machine gives the same bytes: tested above): it gives
    their accuracy. Member 2, a Cireșan column, is the quickest (about 20 min on 2 cores)."""
    from zoo.classics.committee import members_folder, train_one
    from zoo.weights.shipped import recorded_results

    data = mnist_data.load(MNIST_PATH)
    member = train_one(data, members_folder(tmp_path, 0, None, None), 2, log=lambda _: None)
    shipped = recorded_results()["mnist_committee"]["members"][2]
    assert member["plan"] == "ciresan" and len(member["curve"]) == 60
    assert member["accuracy"] == pytest.approx(shipped, abs=0.15)
