"""``--engine beam``: zoo features / zoo predict as an Apache Beam pipeline, sharded, resumable
and equal to the single-process outputs (zoo.scale.pipelines, zoo.scale.jobs, zoo.scale.shards)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading

import h5py
import numpy as np
import pytest

import zoo
from zoo.errors import InputError
from zoo.inputs.sources import Source
from zoo.scale import shards as sharding
from zoo.scale.jobs import beam_features

from conftest import SAMPLES, ZOO_COMMAND, make_digit_folders, run_zoo

MULTI_PROCESS = ["--direct_running_mode=multi_processing"]
RUNTIME = "litert"  # a cached artefact: workers start without importing TensorFlow


def _with_bad_files(root):
    """Class folders of digits, plus a text file and a truncated PNG among them."""
    make_digit_folders(root, digits=(1, 4, 7), copies=3)
    (root / "class_4" / "notes.png").write_text("not an image")
    (root / "class_7" / "cut.png").write_bytes((SAMPLES / "digit_7.png").read_bytes()[:200])
    return root


def _rows(path):
    """path -> (features, label) and the errors, of an .h5 feature file."""
    with h5py.File(path, "r") as handle:
        paths = [p.decode() for p in handle["paths"][:]]
        rows = {
            p: (handle["features"][i], int(handle["labels"][i]) if "labels" in handle else None)
            for i, p in enumerate(paths)
        }
        errors = {p.decode() for p in handle["error_paths"][:]}
        return paths, rows, errors, dict(handle.attrs), set(handle)


def test_multi_process_pipeline_equals_single_process_row_for_row(tmp_path):
    source = _with_bad_files(tmp_path / "digits")
    single = zoo.extract_features(
        "mnist_convnet", source, out=tmp_path / "single.h5", runtime=RUNTIME, progress=False
    )
    job = beam_features(
        "mnist_convnet", source, tmp_path / "shards", runtime=RUNTIME, shard_size=4,
        workers=2, options=MULTI_PROCESS, progress=False,
    )  # fmt: skip
    assert (job.shards, job.written, job.rows) == (3, 3, 9)
    assert {os.path.basename(p) for p, _ in job.errors} == {"notes.png", "cut.png"}
    merged = sharding.merge(tmp_path / "shards", tmp_path / "merged.h5")
    assert merged.rows == 9
    order, rows, errors, attrs, datasets = _rows(tmp_path / "merged.h5")
    want_order, want_rows, want_errors, want_attrs, want_datasets = _rows(single.out)
    assert order == want_order and errors == want_errors and datasets == want_datasets
    for path, (features, label) in want_rows.items():
        assert rows[path][1] == label
        np.testing.assert_allclose(rows[path][0], features, rtol=1e-5, atol=1e-6)
    assert {k: v for k, v in attrs.items() if k != "date"} == {
        k: v for k, v in want_attrs.items() if k != "date"
    }
    with h5py.File(tmp_path / "merged.h5") as handle:
        assert [n.decode() for n in handle["label_names"][:]] == ["class_1", "class_4", "class_7"]
    # every shard is itself a file of the single-process layout
    _, _, _, shard_attrs, shard_datasets = _rows(tmp_path / "shards" / "features-00000-of-00003.h5")
    assert shard_datasets == want_datasets and shard_attrs["model"] == "mnist_convnet"


def _zoo_beam(*args, env=None):
    return subprocess.run(
        [str(ZOO_COMMAND), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
        start_new_session=True,  # the kill hook kills this process group, not pytest
    )


def test_killed_run_resumes_and_merges_to_the_same_file(tmp_path):
    source = make_digit_folders(tmp_path / "digits", digits=(0, 2, 3, 5, 8), copies=3)
    out = tmp_path / "shards"
    common = [
        "features", source, "--model", "mnist_convnet", "--engine", "beam", "--runtime",
        RUNTIME, "--shard-size", "2", "--workers", "2", "--quiet", "--out",
    ]  # fmt: skip
    killed = _zoo_beam(*common, out, env={"ZOO_TEST_KILL_AFTER_SHARDS": "2"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    written = sorted(p.name for p in out.glob("features-*.h5"))
    assert 2 <= len(written) < 8, written
    assert (out / "manifest.json").exists()
    resumed = _zoo_beam(*common, out)
    assert resumed.returncode == 0, resumed.stderr
    assert f"({8 - len(written)} written now" in resumed.stdout
    assert not [p for p in os.listdir(out) if p.startswith(".") and p != ".lock"]  # no temp file
    again = _zoo_beam(*common, out)
    assert "(0 written now" in again.stdout  # a finished run is not redone
    run_zoo("features", "--merge", out, "--out", tmp_path / "merged.h5", check=True)
    single = zoo.extract_features(
        "mnist_convnet", source, out=tmp_path / "single.h5", runtime=RUNTIME, progress=False
    )
    order, rows, _, _, _ = _rows(tmp_path / "merged.h5")
    want_order, want_rows, _, _, _ = _rows(single.out)
    assert order == want_order
    for path in want_order:
        np.testing.assert_allclose(rows[path][0], want_rows[path][0], rtol=1e-5, atol=1e-6)


def test_predict_engine_beam_gives_the_json_of_zoo_predict(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for digit in (0, 3, 9):
        shutil.copy(SAMPLES / f"digit_{digit}.png", folder)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n")
    result = run_zoo(
        "predict", folder, "--model", "mnist_convnet", "--engine", "beam", "--runtime", RUNTIME,
        "--out", tmp_path / "shards", "--shard-size", "3", "--top", "2", "--workers", "2",
    )  # fmt: skip
    assert result.returncode == 1  # as zoo predict: an unreadable file fails the command
    assert "broken.png" in result.stdout and "in 2 shards" in result.stdout
    run_zoo("predict", "--merge", tmp_path / "shards", "--out", tmp_path / "all.jsonl", check=True)
    lines = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text().splitlines()]
    local = json.loads(
        run_zoo(
            "predict",
            folder,
            "--model",
            "mnist_convnet",
            "--runtime",
            RUNTIME,
            "--top",
            "2",
            "--json",
        ).stdout  # fmt: skip
    )
    assert [line["file"] for line in lines] == [entry["file"] for entry in local]
    for line, entry in zip(lines, local, strict=True):
        assert ("error" in line) == ("error" in entry)
        if "top" in entry:
            assert [t["label"] for t in line["top"]] == [t["label"] for t in entry["top"]]
            assert line["top"][0]["score"] == pytest.approx(entry["top"][0]["score"], abs=1e-5)


def test_embedded_transform_keeps_keys_and_sends_bad_files_to_errors(tmp_path):
    import apache_beam as beam
    from apache_beam.testing.util import assert_that, equal_to

    from zoo.scale.pipelines import features_pipeline

    (tmp_path / "bad.png").write_text("no")
    good = str(SAMPLES / "digit_5.png")
    expected = zoo.extract_features("mnist_convnet", [good], runtime=RUNTIME).features[0]
    with beam.Pipeline() as pipeline:
        out = (
            pipeline
            | beam.Create([("five", good), ("bad", str(tmp_path / "bad.png")), good])
            | features_pipeline("mnist_convnet", runtime=RUNTIME)
        )
        close = out["features"] | beam.MapTuple(
            lambda key, value: (key, bool(np.allclose(value, expected, atol=1e-5)))
        )
        assert_that(close, equal_to([("five", True), (good, True)]), label="features")
        failed = out["errors"] | beam.Map(lambda error: (error[0], "not an image" in error[2]))
        assert_that(failed, equal_to([("bad", True)]), label="errors")


def test_the_shared_model_runs_one_batch_at_a_time_across_threads():
    """Beam shares a worker's model between its threads; LiteRT fails on concurrent runs."""
    from zoo.scale.pipelines import ZooModelHandler

    handler = ZooModelHandler("mnist_convnet", "pooled", runtime=RUNTIME)
    runner = handler.load_model()
    batch = [np.full((28, 28, 1), value, "float32") for value in range(0, 255, 8)]
    failures = []

    def work():
        try:
            for _ in range(20):
                handler.run_inference(batch, runner)
        except Exception as error:  # "There is at least 1 reference to internal data"
            failures.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


def _job(tmp_path, **changes):
    source = Source([f"img{i}.png" for i in range(5)])
    settings = {"model": "mnist_convnet", "stage": "pooled", **changes}
    return sharding.prepare(tmp_path / "out", "features", source, settings, shard_size=2)


def test_a_rerun_with_other_settings_or_images_is_refused(tmp_path):
    job = _job(tmp_path)
    assert [s.file for s in job.todo] == [f"features-0000{i}-of-00003.h5" for i in range(3)]
    with pytest.raises(InputError, match="stage 'pooled' there, 'logits' here"):
        _job(tmp_path, stage="logits")
    with pytest.raises(InputError, match="other settings or images .*the images"):
        sharding.prepare(
            tmp_path / "out", "features", Source(["other.png"]),
            {"model": "mnist_convnet", "stage": "pooled"}, shard_size=2,
        )  # fmt: skip
    again = sharding.prepare(
        tmp_path / "out", "features", Source(["x.png"]),
        {"model": "mnist_convnet", "stage": "logits"}, shard_size=2, overwrite=True,
    )  # fmt: skip
    assert [s.file for s in again.todo] == ["features-00000-of-00001.h5"]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("keep me")
    with pytest.raises(InputError, match="not a sharded run's"):
        sharding.prepare(tmp_path / "mine", "features", Source(["x.png"]), {})
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "keep me"


def test_a_damaged_shard_is_written_again_and_merge_waits_for_every_shard(tmp_path, capsys):
    job = _job(tmp_path)
    with pytest.raises(InputError, match="holds features shards, not predictions"):
        sharding.merge(job.folder, tmp_path / "all.jsonl", kind="predictions")
    (job.folder / job.todo[0].file).write_bytes(b"HDF5 truncated")
    again = _job(tmp_path)
    assert len(again.todo) == 3 and "written again" in capsys.readouterr().err
    assert not (job.folder / job.todo[0].file).exists()
    with pytest.raises(InputError, match="3 of 3 shards are not written yet"):
        sharding.merge(job.folder, tmp_path / "all.h5")
    with pytest.raises(InputError, match="no sharded run"):
        sharding.merge(tmp_path, tmp_path / "all.h5")


def test_cli_refuses_beam_flags_without_the_beam_engine(tmp_path):
    digit = SAMPLES / "digit_1.png"
    result = run_zoo("features", digit, "--model", "mnist_convnet", "--workers", "2")
    assert result.returncode == 2 and "--workers is for --engine beam" in result.stderr
    result = run_zoo("features", digit, "--model", "mnist_convnet", "--engine", "beam")
    assert result.returncode == 2 and "needs --out DIR" in result.stderr
    result = run_zoo("predict", digit, "--model", "mnist_convnet", "--direct_num_workers=3")
    assert result.returncode == 2 and "unrecognized arguments" in result.stderr
    result = run_zoo("features", "--merge", tmp_path, "--model", "mnist_convnet", "--out", "x.h5")
    assert result.returncode == 2 and "takes no SRC and no --model" in result.stderr
    result = run_zoo(
        "features", digit, "--model", "mnist_convnet", "--engine", "beam", "--out",
        tmp_path / "o", "--direct_running_mode=bogus",
    )  # fmt: skip
    assert result.returncode == 2 and "invalid choice: 'bogus'" in result.stderr
    beam = ["features", digit, "--model", "mnist_convnet", "--engine", "beam", "--out"]
    result = run_zoo(*beam, tmp_path / "o", "--weigths", "none")  # a typo, not Beam's
    assert result.returncode == 2 and "unrecognized arguments: --weigths none" in result.stderr
    result = run_zoo(*beam, tmp_path / "o", "--weigths=none")
    assert result.returncode == 2 and "neither zoo's nor Beam's: --weigths" in result.stderr
    result = run_zoo(*beam, tmp_path / "o", "--runner", "spark", "--workers", "4")
    assert (
        result.returncode == 2 and "--workers is for the direct, dataflow, flink" in result.stderr
    )


def test_a_csv_list_gives_its_path_column(tmp_path):
    from zoo.scale.jobs import beam_sources

    (tmp_path / "list.csv").write_text("label,path\nseven,a/7.png\nnine,/abs/9.png\n")
    assert beam_sources(tmp_path / "list.csv").paths == ["a/7.png", "/abs/9.png"]
    (tmp_path / "plain.csv").write_text("x/1.png\ny/2.png\n")  # no header: the first column
    assert beam_sources(tmp_path / "plain.csv").paths == ["x/1.png", "y/2.png"]


def test_without_beam_the_error_says_what_to_install(monkeypatch):
    from zoo.scale.jobs import require_beam

    monkeypatch.setitem(sys.modules, "apache_beam", None)
    with pytest.raises(InputError, match=r"pip install 'keras-zoo\[beam\]'"):
        require_beam()


def test_a_second_run_on_the_same_folder_at_once_is_refused(tmp_path):
    digit = str(SAMPLES / "digit_1.png")
    with sharding.locked(tmp_path / "out"), pytest.raises(InputError, match="another zoo run"):
        beam_features("mnist_convnet", digit, tmp_path / "out", runtime=RUNTIME)
    assert not (tmp_path / "out" / sharding.MANIFEST).exists()
    assert len(_job(tmp_path).todo) == 3  # free again; the lock file does not count as foreign


def test_random_weights_are_never_mixed_across_workers_or_runs(tmp_path):
    digit = str(SAMPLES / "digit_1.png")
    with pytest.raises(InputError, match="other random weights"):
        beam_features("mnist_convnet", digit, tmp_path / "a", weights="none", runtime="tf")
    job = _job(tmp_path, weights_sha256="none")
    assert len(_job(tmp_path, weights_sha256="none").todo) == 3  # nothing written: no mixing
    first = job.todo[0]
    rows = [(i, path, None, np.zeros(4, "float32")) for i, path in enumerate(first.paths)]
    sharding.write_feature_shard(
        job.folder / first.file, first.paths, rows, [], attrs={}, label_names=None,
        dtype="float32",
    )  # fmt: skip
    with pytest.raises(InputError, match="random weights .* cannot be added to"):
        _job(tmp_path, weights_sha256="none")
    (tmp_path / "logged").mkdir()
    (tmp_path / "logged" / sharding.LOG).write_text("a crashed start")
    (tmp_path / "logged" / "manifest.json.k2x9.tmp").write_text("killed mid-write")
    sharding.prepare(tmp_path / "logged", "features", Source(["x.png"]), {})  # not foreign
    assert not (tmp_path / "logged" / "manifest.json.k2x9.tmp").exists()


def test_images_on_a_beam_filesystem_are_listed_and_read_through_it(tmp_path):
    """gs:// and s3:// go through Beam's FileSystems: here a filesystem of the test's own,
    ``zootest://``, over a local folder."""
    from apache_beam.io.filesystem import FileMetadata
    from apache_beam.io.localfilesystem import LocalFileSystem

    prefix = "zootest://"

    class PrefixedFileSystem(LocalFileSystem):
        @classmethod
        def scheme(cls):
            return "zootest"

        def open(self, path, *args, **kwargs):
            return super().open(path.removeprefix(prefix), *args, **kwargs)

        def match(self, patterns, limits=None):
            results = super().match([p.removeprefix(prefix) for p in patterns], limits)
            for result in results:
                result.metadata_list = [
                    FileMetadata(prefix + m.path, m.size_in_bytes) for m in result.metadata_list
                ]
            return results

    for digit in (2, 6):
        shutil.copy(SAMPLES / f"digit_{digit}.png", tmp_path / f"{digit}.png")
    (tmp_path / "9.png").write_text("not an image")
    job = beam_features(
        "mnist_convnet", f"{prefix}{tmp_path}/*.png", tmp_path / "out", runtime=RUNTIME,
        workers=2, progress=False,
    )  # fmt: skip
    assert job.rows == 2 and [os.path.basename(p) for p, _ in job.errors] == ["9.png"]
    local = zoo.extract_features(
        "mnist_convnet", [tmp_path / "2.png", tmp_path / "6.png"], runtime=RUNTIME
    )
    sharding.merge(tmp_path / "out", tmp_path / "all.h5")
    order, rows, _, _, _ = _rows(tmp_path / "all.h5")
    assert order == [f"{prefix}{tmp_path}/2.png", f"{prefix}{tmp_path}/6.png"]
    np.testing.assert_allclose(
        np.stack([rows[p][0] for p in order]), local.features, rtol=1e-5, atol=1e-6
    )
