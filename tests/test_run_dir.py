"""A run directory is input like any other (issue 30, item 4): a run.json checked field by field
with bounds before anything is built from it, one line naming the field; its model.keras
checked as a .keras file given directly is, even when the record vouches for its hash."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import h5py
import pytest

import zoo
from zoo.errors import DataError
from zoo.hashing import sha256_file

from conftest import ROOT, SAMPLES, assert_clean_error, run_zoo, run_zoo_measured

RUN = ROOT / "tests" / "data" / "written_by_0.1.0" / "run_softmax"


@pytest.fixture
def run(tmp_path) -> Path:
    """A copy of a finished run that zoo 0.1 wrote (softmax regression on 3 digit classes)."""
    folder = tmp_path / "run"
    shutil.copytree(RUN, folder)
    return folder


def edit_record(folder: Path, change) -> None:
    record = json.loads((folder / "run.json").read_text())
    record = change(record)
    (folder / "run.json").write_text(json.dumps(record))


def test_the_untouched_run_still_loads_and_predicts(run):
    assert zoo.get_spec(run).labels == ("0", "1", "2")
    assert zoo.predict(run, [SAMPLES / "digit_1.png"]).shape == (1, 3)


CASES = {
    "format as a string": (lambda r: {**r, "format": "1"}, "format '1' (this zoo reads 0..1)"),
    "a newer format": (lambda r: {**r, "format": 2}, "format 2 (this zoo reads 0..1)"),
    "no spec": (lambda r: {k: v for k, v in r.items() if k != "spec"}, "without spec"),
    "arguments as a list": (lambda r: {**r, "arguments": ["data"]},
                            "arguments is a list, not an object"),
    "labels: 5": (lambda r: {**r, "spec": {**r["spec"], "labels": 5}},
                  "spec: labels must be a list of 1..100,000 class names"),
    "base_model naming itself": (lambda r: {**r, "base_model": "SELF"},
                                 "is not a registered model"),
    "base_model unknown": (lambda r: {**r, "base_model": "resnet9000"},
                           "base_model 'resnet9000' is not a registered model"),
    "no model_sha256": (lambda r: {k: v for k, v in r.items() if k != "model_sha256"},
                        "without model_sha256"),
    "model_sha256 not a hash": (lambda r: {**r, "model_sha256": "yes"},
                                "model_sha256 'yes' is not a sha256"),
    "the record a list": (lambda r: [r], "a list, not a JSON object"),
    "params a string": (lambda r: {**r, "spec": {**r["spec"], "params": "many"}},
                        "spec: params 'many' is not a count"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_run_record_is_one_line_naming_the_field(run, case):
    change, message = CASES[case]
    edit_record(run, lambda r: json.loads(json.dumps(change(r)).replace('"SELF"', f'"{run}"')))
    with pytest.raises(DataError, match=re.escape(message)):
        zoo.get_spec(run)
    assert_clean_error(run_zoo("info", run), message)  # zoo predict: the huge-input test


def test_a_run_declaring_a_huge_input_is_refused_before_anything_is_allocated(run):
    huge = [12000, 12000, 3]  # 231 bytes of run.json allocated 6.16 GB before this check
    edit_record(run, lambda r: {**r, "spec": {**r["spec"], "input_shape": huge}})
    message = "spec: input shape [12000, 12000, 3]: sides must be 1..8192"
    with pytest.raises(DataError, match=re.escape(message)):
        zoo.get_spec(run)
    result, peak = run_zoo_measured("predict", SAMPLES / "digit_1.png", "--model", run)
    assert_clean_error(result, message)
    assert peak < 1000, f"zoo predict peaked at {peak:.0f} MiB"


def rewrite_model(run: Path, change_config=None, change_weights=None) -> None:
    """Rewrite the run's model.keras (its config or its weights HDF5), and the record's
    model_sha256 with it, as a forger who controls the whole folder would."""
    path = run / "model.keras"
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    if change_config is not None:
        members["config.json"] = json.dumps(change_config(json.loads(members["config.json"])))
    if change_weights is not None:
        weights = run / "weights.h5"
        weights.write_bytes(members["model.weights.h5"])
        with h5py.File(weights, "a") as handle:
            change_weights(handle)
        members["model.weights.h5"] = weights.read_bytes()
        weights.unlink()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    edit_record(run, lambda r: {**r, "model_sha256": sha256_file(path)})


def test_a_run_model_reading_another_file_is_refused_though_its_hash_matches(run, tmp_path):
    secret = tmp_path / "secret.h5"
    with h5py.File(secret, "w") as handle:
        handle["data"] = [1.0, 2.0]
    rewrite_model(run, change_weights=lambda h: h.__setitem__("leak", h5py.ExternalLink(
        str(secret), "/data")))  # fmt: skip
    with pytest.raises(zoo.WeightsError, match="reads other files.*external link"):
        zoo.load(run)
    result = run_zoo("predict", SAMPLES / "digit_1.png", "--model", run)
    assert_clean_error(result, "external link")


def test_a_run_model_naming_code_needs_trust_though_its_hash_matches(run):
    def inject(config):
        layers = config["config"]["layers"]
        dense = next(layer for layer in layers if layer["class_name"] == "Dense")
        dense["config"]["kernel_regularizer"] = {
            "module": "os", "class_name": "system", "config": {}, "registered_name": None,
        }  # fmt: skip
        return config

    rewrite_model(run, change_config=inject)
    with pytest.raises(zoo.InputError, match="os.system"):
        zoo.load(run)
    assert_clean_error(run_zoo("predict", SAMPLES / "digit_1.png", "--model", run), "os.system")
