"""A features file never mixes runs and never shifts rows against paths (issue 11, items 6-9
and 12): a kill injected at every write point, resumes with other settings, failed files
retried, loose images beside class folders, and a decoding thread that fails or is left."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.inputs import sources as inputs
from zoo.inputs.sources import Source

from conftest import ROOT, SAMPLES, assert_clean_error, make_digit_folders, run_zoo

# -- the store, killed at every write point -------------------------------------------------

#: A child that writes features of fake files through the store (no model: the values are a
#: function of the path), and kills itself with SIGKILL at write point number argv[2].
STORE_CHILD = r"""
import hashlib, os, signal, sys
import numpy as np
import zoo
from zoo import feature_store
from zoo.inputs.sources import Source

out, kill_at = sys.argv[1], int(sys.argv[2])
PATHS = [f"/data/{i:03d}.png" for i in range(10)]
BAD = {"/data/003.png", "/data/008.png"}
source = Source(PATHS, [i % 3 for i in range(10)], ["a", "b", "c"])
count = 0

def hook(step):
    global count
    count += 1
    if count == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)

def values(path):
    return np.frombuffer(hashlib.sha256(path.encode()).digest(), np.uint8)[:6].astype("float32")

feature_store.WRITE_POINT_HOOK = hook
store = feature_store.open_store(
    out, zoo.get_spec("mnist_convnet"), "pooled", source, dtype="float32",
    weights_sha256="ab" * 32, runtime="test",
)
todo = [i for i, p in enumerate(PATHS) if p not in store.done]
for start in range(0, len(todo), 4):
    rows = todo[start:start + 4]
    for i in rows:
        if PATHS[i] in BAD:
            store.add_error(PATHS[i], "unreadable")
    good = [i for i in rows if PATHS[i] not in BAD]
    if good:
        store.add(np.stack([values(PATHS[i]) for i in good]), [PATHS[i] for i in good],
                  [i % 3 for i in good])
store.finish()
print(count)
"""
STORE_PATHS = [f"/data/{i:03d}.png" for i in range(10)]
STORE_BAD = {"/data/003.png", "/data/008.png"}


def _store_child(out, kill_at: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", STORE_CHILD, str(out), str(kill_at)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _expected_row(path: str) -> np.ndarray:
    return np.frombuffer(hashlib.sha256(path.encode()).digest(), np.uint8)[:6].astype("float32")


def _check_rows(handle, complete: bool) -> int:
    """Every committed row matches its path; returns how many there are."""
    rows, errors = (int(n) for n in handle["committed"][:])
    paths = [p.decode() for p in handle["paths"][:rows]]
    assert len(set(paths)) == rows and not set(paths) & STORE_BAD
    for index, path in enumerate(paths):
        np.testing.assert_array_equal(handle["features"][index], _expected_row(path))
        assert handle["labels"][index] == STORE_PATHS.index(path) % 3
    failed = [p.decode() for p in handle["error_paths"][:errors]]
    assert set(failed) <= STORE_BAD and len(failed) == len(set(failed))
    if complete:
        assert sorted(paths) == sorted(set(STORE_PATHS) - STORE_BAD)
        assert sorted(failed) == sorted(STORE_BAD)
        assert handle["features"].shape[0] == rows == len(handle["paths"])
    return rows


def test_a_kill_at_every_write_point_never_shifts_rows(tmp_path):
    """The kill is injected (SIGKILL from a hook at each write step), not timed. After each:
    what a reader sees is whole batches, and the resumed file holds every row exactly once,
    each equal to a fresh computation for its path."""
    total = int(_store_child(tmp_path / "count.h5", 10**9).stdout)
    assert total >= 20  # 3 batches and 2 errors, several steps each
    for kill_at in range(1, total + 1):
        out = tmp_path / f"killed-{kill_at}.h5"
        killed = _store_child(out, kill_at)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
        try:  # a reader, now (before the first batch switched on SWMR, none can open it)
            with h5py.File(out, "r", libver="latest", swmr=True) as handle:
                _check_rows(handle, complete=False)
        except OSError as error:
            assert "not already open for SWMR writing" in str(error), (kill_at, error)
        resumed = _store_child(out, 10**9)
        assert resumed.returncode == 0, (kill_at, resumed.stderr)
        with h5py.File(out, "r") as handle:
            _check_rows(handle, complete=True)


def test_an_extraction_killed_midway_resumes_to_the_right_rows(tmp_path):
    """`zoo features` for real, killed after writing a batch's rows but before counting them;
    every stored row is then checked against a fresh computation for its path."""
    folder = tmp_path / "many"
    folder.mkdir()
    source = Image.open(SAMPLES / "digit_3.png")
    for index in range(40):
        source.rotate(index * 7 % 60, fillcolor="white").save(folder / f"{index:04d}.png")
    out = tmp_path / "feats.h5"
    child = (
        "import os, signal, sys\n"
        "from zoo import feature_store\nfrom zoo.cli.app import main\n"
        "steps = []\n"
        "def hook(step):\n"
        "    steps.append(step)\n"
        "    if steps.count('paths') == 3:\n"  # the third batch's paths are written, uncounted
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "feature_store.WRITE_POINT_HOOK = hook\n"
        "main(sys.argv[1:])\n"
    )
    args = ["features", str(folder), "--model", "mnist_rnn", "--out", str(out), "--batch-size", "8"]
    killed = subprocess.run(
        [sys.executable, "-c", child, *args, "--quiet"], cwd=ROOT, capture_output=True, timeout=300
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with h5py.File(out, "r", libver="latest", swmr=True) as handle:
        assert handle["committed"][0] == 16  # two whole batches; the third is not counted
        assert handle["paths"].shape[0] in (16, 24) and handle["features"].shape[0] in (16, 24)
    assert "40 images" in run_zoo(*args, "--quiet", check=True).stdout
    fresh = zoo.extract_features("mnist_rnn", folder, stage="pooled", batch_size=8)
    expected = dict(zip(fresh.paths, fresh.features, strict=True))
    with h5py.File(out, "r") as handle:
        paths = [p.decode() for p in handle["paths"][:]]
        assert sorted(paths) == sorted(expected) and handle["features"].shape[0] == 40
        for path, row in zip(paths, handle["features"][:], strict=True):
            np.testing.assert_allclose(row, expected[path], rtol=1e-5, atol=1e-5)


# -- resuming only the same run -------------------------------------------------------------


@pytest.fixture
def digits(tmp_path):
    return make_digit_folders(tmp_path / "digits")


def test_a_resume_with_other_settings_is_refused_naming_the_difference(digits, tmp_path):
    out = tmp_path / "f.h5"
    first = zoo.extract_features("mnist_convnet", digits, out=out)
    with pytest.raises(zoo.InputError, match="weights sha256: the file has"):
        zoo.extract_features("mnist_convnet", digits, out=out, weights="none")
    with pytest.raises(zoo.InputError, match="dtype: the file has 'float32', this run 'float16'"):
        zoo.extract_features("mnist_convnet", digits, out=out, dtype="float16")
    (digits / "class_9").mkdir()
    Image.open(SAMPLES / "digit_9.png").save(digits / "class_9" / "0.png")
    with pytest.raises(
        zoo.InputError,
        match="class names: the file has class_1, class_7, this run class_1, class_7, class_9",
    ):
        zoo.extract_features("mnist_convnet", digits, out=out)
    with h5py.File(out, "r") as handle:  # nothing was added by the refused runs
        assert handle["features"].shape[0] == len(first.paths) == 4
    overwritten = run_zoo("features", digits, "--model", "mnist_convnet", "--out", out,
                          "--overwrite", "--quiet", check=True)  # fmt: skip
    assert "5 images" in overwritten.stdout
    again = zoo.extract_features("mnist_convnet", digits, out=out)  # resumes the new file
    assert again.label_names == ["class_1", "class_7", "class_9"] and len(again.paths) == 5
    result = run_zoo("features", digits, "--model", "mnist_convnet", "--out", out, "--dtype",
                     "float16", "--quiet")  # fmt: skip
    assert_clean_error(result, "dtype", "--overwrite")


def test_random_weights_are_never_resumed(digits, tmp_path):
    out = tmp_path / "f.h5"
    zoo.extract_features("mnist_convnet", digits, out=out, weights="none")
    with pytest.raises(zoo.InputError, match="random"):
        zoo.extract_features("mnist_convnet", digits, out=out, weights="none")


def test_files_that_failed_are_retried_on_resume(digits, tmp_path):
    out = tmp_path / "f.h5"
    broken = digits / "class_7" / "late.png"
    broken.write_bytes(b"half-copied")  # e.g. still being copied when the run read it
    first = zoo.extract_features("mnist_convnet", digits, out=out)
    assert [p for p, _ in first.errors] == [str(broken)]
    shutil.copy(SAMPLES / "digit_7.png", broken)
    kept = zoo.extract_features("mnist_convnet", digits, out=out, retry=False)
    assert [p for p, _ in kept.errors] == [str(broken)] and str(broken) not in kept.paths
    cli = run_zoo("features", digits, "--model", "mnist_convnet", "--out", out, "--no-retry",
                  "--quiet", check=True)  # fmt: skip
    assert "4 images" in cli.stdout and "1 unreadable files" in cli.stdout
    retried = zoo.extract_features("mnist_convnet", digits, out=out)
    assert retried.errors == [] and str(broken) in retried.paths and len(retried.paths) == 5
    assert retried.labels[retried.paths.index(str(broken))] == 1


def _tampered(clean: Path, out: Path, change) -> Path:
    shutil.copy(clean, out)
    with h5py.File(out, "r+") as handle:
        change(handle)
    return out


def _replace(name: str, data):
    def change(handle):
        del handle[name]
        handle.create_dataset(name, data=data)

    return change


def test_a_damaged_feature_file_is_one_line_naming_what_is_wrong_on_resume(digits, tmp_path):
    clean = tmp_path / "clean.h5"
    zoo.extract_features("mnist_convnet", digits, out=clean)
    shutil.copy(SAMPLES / "digit_7.png", digits / "class_7" / "new.png")  # work for a resume

    def narrower(handle):
        rows = len(handle["features"])
        _replace("features", np.zeros((rows, 7), "float32"))(handle)

    cases = {
        "committed = [1e9, 0]": (_replace("committed", np.array([10**9, 0])),
                                 "'committed' = [1000000000, 0], but the file holds 4 rows"),
        "committed = [-3, 0]": (_replace("committed", np.array([-3, 0])), "'committed' = [-3, 0]"),
        "committed as floats": (_replace("committed", np.array([1e9, 0.0])),
                                "must be two integer counts"),
        "committed of 3": (_replace("committed", np.array([1, 0, 0])),
                           "must be two integer counts"),
        "no paths": (lambda handle: handle.__delitem__("paths"), "no paths dataset"),
        "other width": (narrower, "holds features of shape (7,) per image; this run gives"),
    }  # fmt: skip
    for case, (change, message) in cases.items():
        out = _tampered(clean, tmp_path / "f.h5", change)
        with pytest.raises(zoo.InputError, match=re.escape(message)):
            zoo.extract_features("mnist_convnet", digits, out=out)
        if case == "committed = [1e9, 0]":  # the command line too (one case: TF start-up)
            cli = run_zoo("features", digits, "--model", "mnist_convnet", "--out", out, "--quiet")
            assert_clean_error(cli, message)


def test_a_loose_image_beside_class_folders_is_an_error(digits):
    shutil.copy(SAMPLES / "digit_3.png", digits / "stray.png")
    with pytest.raises(zoo.InputError, match=r"1 loose image\(s\) beside them \(stray.png\)"):
        zoo.extract_features("mnist_convnet", digits)
    cli = run_zoo("features", digits, "--model", "mnist_convnet", "--quiet")
    assert_clean_error(cli, f"{digits} has class folders", f"'{digits / '**' / '*'}'")
    everything = zoo.extract_features("mnist_convnet", str(digits / "**" / "*"))
    assert len(everything.paths) == 5 and everything.labels is None


# -- the decoding thread --------------------------------------------------------------------


class _NumpyWithoutMemory:
    """numpy, except that stacking a batch runs out of memory."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def stack(*args, **kwargs):
        raise MemoryError("no memory for the batch")


def _decoder_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == inputs.DECODER_THREAD]


def test_a_failing_decoder_thread_raises_in_the_consumer(monkeypatch):
    spec = zoo.get_spec("mnist_convnet")
    monkeypatch.setattr(inputs, "np", _NumpyWithoutMemory())
    batches = inputs.prepared_batches(spec, [str(SAMPLES / "digit_1.png")] * 4, 2)
    with pytest.raises(MemoryError, match="no memory for the batch"):
        next(batches)


def test_a_consumer_that_leaves_early_stops_the_decoder():
    spec = zoo.get_spec("mnist_convnet")
    paths = [str(SAMPLES / "digit_1.png")] * 400
    before = len(_decoder_threads())
    batches = inputs.prepared_batches(spec, paths, 2)
    next(batches)
    time.sleep(0.3)  # the producer fills the queue and blocks on it
    batches.close()
    deadline = time.monotonic() + 10
    while len(_decoder_threads()) > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_decoder_threads()) == before


def test_decoding_workers_keep_each_file_in_its_place_and_its_error_with_it(tmp_path):
    spec = zoo.get_spec("mnist_convnet")
    digits = sorted(SAMPLES.glob("digit_*.png"))
    (tmp_path / "broken.png").write_bytes(b"not a png")
    paths = [str(digits[i % len(digits)]) for i in range(23)]
    bad = {3, 4, 11, 22}
    for i in bad:
        paths[i] = str(tmp_path / "broken.png")
    seen, failed = [], []
    for indices, batch, errors in inputs.prepared_batches(spec, paths, 5, workers=3):
        failed += [i for i, _ in errors]
        for row, index in enumerate(indices):
            expected = inputs.prepare_file(spec, paths[index])
            np.testing.assert_array_equal(batch[row], expected)
            seen.append(index)
    assert seen == [i for i in range(23) if i not in bad]
    assert failed == sorted(bad)


def test_a_consumer_that_leaves_mid_batch_stops_the_workers_at_the_next_file():
    spec = zoo.get_spec("mnist_convnet")
    data = (SAMPLES / "digit_1.png").read_bytes()
    reads = []

    def slow_read(path: str) -> bytes:
        reads.append(path)
        time.sleep(0.02)
        return data

    before = len(_decoder_threads())
    batches = inputs.prepared_batches(spec, ["remote.png"] * 200, 32, workers=2, read=slow_read)
    next(batches)  # the first batch of 32; the producer is now decoding the second
    batches.close()
    deadline = time.monotonic() + 10
    while len(_decoder_threads()) > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_decoder_threads()) == before
    # Each worker finishes the file it holds, and takes no other: far from a second batch of 32.
    assert len(reads) <= 32 + 2 * 2


def test_the_whole_of_a_source_is_what_a_folder_without_labels_reads(tmp_path):
    (tmp_path / "a").mkdir()
    shutil.copy(SAMPLES / "digit_1.png", tmp_path / "a" / "1.png")
    shutil.copy(SAMPLES / "digit_2.png", tmp_path / "2.png")
    source = inputs.find_sources(tmp_path)
    assert source.labels is None and source.loose == [str(tmp_path / "2.png")]
    assert sorted(os.path.basename(p) for p in source.paths) == ["1.png", "2.png"]
    assert isinstance(source, Source)
