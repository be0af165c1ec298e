"""A full disk never corrupts what zoo wrote (issue 30, item 1): a features run on a 2 MB tmpfs
stops with one line naming the file and the rows it keeps, every row it counts is durably
written and equal to a fresh extraction, and the same command finishes the file once there is
space. Atomic writes keep the previous file whole. Needs root (it mounts a tmpfs), as CI has."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.errors import WriteError
from zoo.files import atomic_write

from conftest import MNIST_PATH, assert_clean_error, grow_tmpfs, run_zoo, tmpfs

pytestmark = pytest.mark.xdist_group("full_disk")


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs at ``tmp_path / "disk"``."""
    with tmpfs(tmp_path / "disk", "2m") as disk:
        yield disk


@pytest.fixture
def digits(tmp_path):
    folder = tmp_path / "digits" / "class_0"
    folder.mkdir(parents=True)
    with np.load(MNIST_PATH) as data:
        for index, pixels in enumerate(data["x_test"][:400]):
            Image.fromarray(pixels).save(folder / f"{index:04d}.png")
    return folder.parent


def rows_of(path):
    with h5py.File(path, "r") as handle:
        count = int(handle["committed"][0])
        paths = [p.decode() for p in handle["paths"][:count]]
        return dict(zip(paths, handle["features"][:count], strict=True))


def test_a_features_run_on_a_full_disk_keeps_whole_rows_and_resumes(small_disk, digits, tmp_path):
    fresh = zoo.extract_features("mnist_convnet", digits, out=tmp_path / "fresh.h5")
    expected = dict(zip(fresh.paths, fresh.features, strict=True))
    out = small_disk / "features.h5"
    full = run_zoo("features", digits, "--model", "mnist_convnet", "--out", out, "--quiet")
    assert full.returncode == 2, full.stderr[-2000:]  # not a crash (it was signal 11)
    assert_clean_error(full, f"Could not write {out}: No space left on device", "It keeps the")
    kept = rows_of(out)
    assert 0 < len(kept) < 400 and f"It keeps the {len(kept)} rows" in full.stderr
    for path, features in kept.items():  # every counted row is whole: none zero, none empty
        assert path and np.array_equal(features, expected[path]), path
    grow_tmpfs(small_disk, "32m")
    run_zoo("features", digits, "--model", "mnist_convnet", "--out", out, "--quiet", check=True)
    resumed = rows_of(out)
    assert sorted(resumed) == sorted(expected)
    assert all(np.array_equal(resumed[p], expected[p]) for p in expected)


def test_an_atomic_write_on_a_full_disk_keeps_the_previous_file(small_disk):
    target = small_disk / "run.json"
    atomic_write(target, '{"status": "finished"}')
    (small_disk / "filler").write_bytes(bytes(2 * 1024 * 1024 - 8192))  # the disk nearly full
    with pytest.raises(
        WriteError, match="No space left on device.*previous file is kept, whole; free some space"
    ):
        atomic_write(target, "x" * (1 << 20))
    assert target.read_text() == '{"status": "finished"}'
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "run.json"]  # no temp


def test_a_features_npy_on_a_full_disk_keeps_the_previous_file(small_disk, digits):
    out = small_disk / "features.npy"
    np.save(out, np.arange(3.0))  # an earlier run's features
    (small_disk / "filler").write_bytes(bytes(1536 * 1024))  # 1 MB of features will not fit
    full = run_zoo("features", digits, "--model", "mnist_convnet", "--out", out, "--quiet")
    assert_clean_error(full, f"Could not write {out}: No space left on device",
                       "The previous file is kept, whole")  # fmt: skip
    assert np.load(out).tolist() == [0.0, 1.0, 2.0]
    assert sorted(p.name for p in small_disk.iterdir()) == ["features.npy", "filler"]  # no temp
