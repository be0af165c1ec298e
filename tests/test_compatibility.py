"""What users saved with zoo 0.1 still loads after the code moved into subpackages (issue 27):
a fine-tune run directory, an HDF5 feature file and a Beam run's shards, all written by the
code of commit 7f7c918 (tests/data/written_by_0.1.0/README.md), and zoo 0.1's module paths."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

import zoo
from zoo.moved import MOVED

from conftest import ROOT, run_zoo

WRITTEN = ROOT / "tests" / "data" / "written_by_0.1.0"
DIGITS = [f"samples/digit_{i}.png" for i in range(5)]


@pytest.fixture
def old_files(tmp_path, monkeypatch):
    """A copy of the files 0.1 wrote, as the current folder (the feature files hold paths
    relative to the folder they were written in)."""
    folder = tmp_path / "old"
    shutil.copytree(WRITTEN, folder)
    monkeypatch.chdir(folder)
    return folder


def test_a_run_directory_from_0_1_predicts_what_0_1_predicted(old_files):
    run = old_files / "run_softmax"
    spec = zoo.get_spec(run)
    assert spec.labels == ("0", "1", "2") and spec.num_classes == 3
    assert spec.input_shape == (28, 28, 1)
    probabilities = zoo.predict(run, DIGITS)
    recorded = json.loads((old_files / "predictions.json").read_text())
    for row, then in zip(probabilities, recorded, strict=True):
        for entry in then["top"]:
            assert row[entry["index"]] == pytest.approx(entry["score"], abs=2e-6)
    model = zoo.load(run)
    assert model.count_params() == json.loads((run / "run.json").read_text())["spec"]["params"]


def test_a_finished_0_1_run_is_finished_for_today_s_fine_tune(old_files):
    """A rerun with the arguments the 0.1 run recorded finds it finished (it is not retrained
    nor refused for arguments added since)."""
    from zoo.training.run_folder import prepare_out

    run = old_files / "run_softmax"
    recorded = json.loads((run / "run.json").read_text())["arguments"]
    assert prepare_out(run, recorded, overwrite=False) == "finished"
    with pytest.raises(zoo.InputError, match="epochs 1 there, 2 here"):
        prepare_out(run, {**recorded, "epochs": 2}, overwrite=False)


def test_zoo_info_and_zoo_list_read_a_0_1_run(old_files):
    info = json.loads(run_zoo("info", "run_softmax", "--json", check=True).stdout)
    assert info["name"] == "run_run_softmax" and info["labels"] == ["0", "1", "2"]
    assert info["run"]["status"] == "finished"
    assert "run_softmax" in run_zoo("list", str(old_files), check=True).stdout


def test_a_0_1_feature_file_resumes_with_nothing_to_redo_then_grows(old_files):
    with h5py.File("features.h5", "r") as handle:
        before = handle["features"][:]
        committed = handle["committed"][:].tolist()
        paths = [p.decode() for p in handle["paths"][:]]
    assert committed == [5, 1] and paths == DIGITS
    again = zoo.extract_features(
        "softmax_regression", "samples", stage="logits", out="features.h5", progress=False
    )
    assert again.paths == DIGITS and np.array_equal(again.features, before)
    assert [path for path, _ in again.errors] == ["samples/broken.png"]
    for i in range(5, 10):
        shutil.copy(ROOT / "zoo" / "data" / "samples" / f"digit_{i}.png", "samples")
    grown = zoo.extract_features(
        "softmax_regression", "samples", stage="logits", out="features.h5", progress=False
    )
    fresh = zoo.extract_features("softmax_regression", "samples", stage="logits", progress=False)
    assert sorted(grown.paths) == sorted(fresh.paths) and len(grown.paths) == 10
    assert np.array_equal(grown.features[:5], before)
    order = [fresh.paths.index(path) for path in grown.paths]
    np.testing.assert_allclose(grown.features, fresh.features[order], rtol=1e-5, atol=1e-5)


def test_a_0_1_feature_file_refuses_another_run_naming_what_differs(old_files):
    with pytest.raises(zoo.InputError, match="stage"):
        zoo.extract_features(
            "softmax_regression", "samples", stage="pooled", out="features.h5", progress=False
        )


def test_the_shards_of_a_0_1_beam_run_merge_into_its_feature_file(old_files):
    from zoo.scale.shards import merge

    summary = merge("shards", "merged.h5")
    assert summary.rows == 5 and len(summary.errors) == 1
    with h5py.File("merged.h5", "r") as merged, h5py.File("features.h5", "r") as single:
        assert [p.decode() for p in merged["paths"][:]] == DIGITS
        np.testing.assert_allclose(
            merged["features"][:], single["features"][:], rtol=1e-5, atol=1e-5
        )
        assert merged.attrs["model"] == single.attrs["model"] == "softmax_regression"


def test_zoo_0_1_module_paths_import_the_moved_modules_with_a_warning():
    """In a fresh process (none of the modules imported yet), each old path gives the module
    at its new path, and a DeprecationWarning that names it."""
    code = (
        "import importlib, json, sys, warnings\n"
        "import zoo\n"
        "from zoo.moved import MOVED\n"
        "wrong = {}\n"
        "for old, new in MOVED.items():\n"
        "    with warnings.catch_warnings(record=True) as caught:\n"
        "        warnings.simplefilter('always')\n"
        "        module = importlib.import_module(old)\n"
        "    said = [str(w.message) for w in caught if w.category is DeprecationWarning]\n"
        "    if module is not importlib.import_module(new) or not any(new in m for m in said):\n"
        "        wrong[old] = said\n"
        "print(json.dumps(wrong))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}
    assert len(MOVED) == 39  # every flat module of 0.1 whose name no package took


def test_the_moved_table_names_free_old_paths_and_real_new_ones():
    for old, new in MOVED.items():
        assert not (ROOT / (old.replace(".", "/") + ".py")).exists(), old
        assert not (ROOT / old.replace(".", "/")).is_dir(), old
        assert (ROOT / (new.replace(".", "/") + ".py")).is_file(), new


def test_the_public_api_of_0_1_is_unchanged():
    names = {
        "DataError", "InputError", "ModelSpec", "TrainingError", "UnknownModelError",
        "WeightsError", "WeightsHashError", "WeightsSpec", "ZooError", "__version__",
        "get_spec", "list_models", "load", "predict", "extract_features", "verify",
        "fine_tune", "probe", "export", "tune",
    }  # fmt: skip
    assert names <= set(zoo.__all__)
    for name in names:
        assert getattr(zoo, name) is not None
    from zoo.cli import main
    from zoo.exporting import export

    assert export is zoo.export and callable(main)
