"""zoo.fine_tune / zoo finetune on real images and real weights, no network: optdigits (1,797
scanned digits, 8x8), MNIST digits saved as RGB PNGs, and the real MobileNet 0.25 weights."""

from __future__ import annotations

import csv
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

import zoo
from zoo import run_dir
from zoo.training.finetune import fine_tune

from conftest import IMAGENET_WEIGHTS, run_zoo
from finetune_helpers import OPTDIGITS, QUICK, child, digits_folder, final_weights

MOBILENET_NO_TOP = IMAGENET_WEIGHTS / "mobilenet_2_5_128_tf_no_top.h5"


def mnist_rgb_folder(folder: Path, mnist, names: dict[int, str], per_class: int) -> Path:
    """MNIST test digits of the given classes as RGB PNGs in class folders named ``names``."""
    x, y = mnist[2], mnist[3]
    for digit, name in names.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i, index in enumerate(np.flatnonzero(y == digit)[:per_class]):
            Image.fromarray(x[index]).convert("RGB").save(folder / name / f"{i:03d}.png")
    return folder


def bomb_png(path: Path) -> None:
    """A PNG whose header claims 30000 x 30000 pixels: Pillow refuses it as a decompression
    bomb before decoding anything."""
    Image.new("L", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    data[16:24] = struct.pack(">II", 30000, 30000)  # IHDR width, height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))


# -- transfer learning works ------------------------------------------------------------------


def test_the_demo_fine_tuned_convnet_beats_the_same_convnet_from_scratch(tmp_path):
    """`zoo classics transfer` (make demo): 300 embedded optdigits, the rest held out."""
    from zoo.classics.transfer import run_transfer

    tuned, scratch = run_transfer(tmp_path)
    assert tuned["train images"] == scratch["train images"] == 300
    assert tuned["held-out images"] == scratch["held-out images"] == 1497
    assert tuned["accuracy"] >= 0.95  # 98.3 % measured
    assert 1 - scratch["accuracy"] > 2 * (1 - tuned["accuracy"])  # 91.8 %: 5x the errors
    samples = sorted((tmp_path / "held-out").glob("*.png"))
    shown = run_zoo("predict", *samples, "--model", tuned["run"], "--top", "1", check=True)
    right = [
        line.split(": 1. ")[1].split()[0] == line.split("_digit")[1][0]
        for line in shown.stdout.splitlines()
    ]
    assert len(right) == 5 and sum(right) >= 4


def test_the_embedded_optdigits_are_the_shared_images(tmp_path):
    from zoo.classics.transfer import optdigits

    script = Path(__file__).parents[2] / "scripts" / "make_optdigits.py"
    subprocess.run(
        [sys.executable, str(script), str(OPTDIGITS), str(tmp_path / "o.npz")], check=True
    )
    x, y = optdigits()
    with np.load(tmp_path / "o.npz") as rebuilt:
        np.testing.assert_array_equal(rebuilt["x"], x)
        np.testing.assert_array_equal(rebuilt["y"], y)
    assert x.shape == (1797, 8, 8) and np.bincount(y).min() >= 174


@pytest.mark.slow  # `make test-all`: 45 s on all 1,797 digits; CI fine-tunes the real weights
# in test_mnist_digits_as_rgb_photos_and_batch_norm_statistics_kept below
def test_mobilenet_with_real_weights_fine_tunes_on_optdigits(tmp_path):
    run = fine_tune(
        "mobilenet_v1_0.25_128",
        OPTDIGITS,
        tmp_path / "run",
        weights=MOBILENET_NO_TOP,
        head_epochs=3,
        epochs=3,
        progress=False,
    )  # the defaults otherwise: top:20 unfrozen, BatchNorm frozen, light augmentation
    assert run.labels == [str(d) for d in range(10)]
    assert sum(run.class_counts.values()) + run.metrics["images"] == 1797
    assert run.metrics["accuracy"] >= 0.85  # 93.6 % measured with 4 phase-2 epochs
    assert [row["phase"] for row in run.history] == [1, 1, 1, 2, 2, 2]


def test_mnist_digits_as_rgb_photos_and_batch_norm_statistics_kept(tmp_path, mnist):
    import keras

    names = {3: "three", 5: "five", 7: "seven"}
    data = mnist_rgb_folder(tmp_path / "digits", mnist, names, per_class=40)
    run = fine_tune(
        "mobilenet_v1_0.25_128",
        data,
        tmp_path / "run",
        weights=MOBILENET_NO_TOP,
        head_epochs=3,
        epochs=3,
        validation=0.25,
        learning_rate=(1e-2, 1e-4),  # zoo 0.1's schedule: 3 + 3 epochs are too few for a
        schedule="constant",  # cosine, and this test is about BatchNorm's statistics
        warmup=0,
        **QUICK,
    )
    assert run.labels == ["five", "seven", "three"]
    assert run.metrics["accuracy"] >= 0.8
    base = zoo.load("mobilenet_v1_0.25_128", weights=MOBILENET_NO_TOP, include_top=False)
    tuned = run.model
    batch_norms = [x for x in base.layers if isinstance(x, keras.layers.BatchNormalization)]
    assert len(batch_norms) == 27
    convs_changed = 0
    for layer in base.layers:
        if not layer.weights:
            continue
        after = tuned.get_layer(layer.name).get_weights()
        if isinstance(layer, keras.layers.BatchNormalization):  # gamma, beta, mean, variance
            for before, now in zip(layer.get_weights(), after, strict=True):
                np.testing.assert_array_equal(before, now)
        else:
            convs_changed += not np.array_equal(layer.get_weights()[0], after[0])
    assert convs_changed >= 20  # unfreeze="all" trained the convolutions


# -- resume, atomic saves, bad files, NaN ------------------------------------------------------


def test_a_run_killed_mid_epoch_twice_resumes_to_the_same_weights(tmp_path):
    """Killed in phase 1, resumed and killed again in phase 2, resumed to the end: the same
    weights and losses as the run never killed (one uninterrupted run serves both kills). 120
    digits: four batches an epoch, so that the kill at the third is inside the epoch."""
    data = digits_folder(tmp_path / "data", per_class=12)
    options = {
        "head_epochs": 2,
        "epochs": 2,
        "unfreeze": "all",
        "augment": "light",  # random draws in phase 2, and dropout
        "validation": None,
        "seed": 3,
    }
    whole = child("mnist_convnet", data, tmp_path / "whole", **options)
    assert whole.returncode == 0, whole.stderr[-3000:]
    state_file = tmp_path / "resumed" / "checkpoints" / "state.json"
    for kill_at, state in (("phase 1 epoch 2", (1, 1)), ("phase 2 epoch 2", (2, 1))):
        killed = child("mnist_convnet", data, tmp_path / "resumed", "--kill-at", kill_at, **options)
        assert killed.returncode == -9, killed.stderr[-3000:]
        saved = json.loads(state_file.read_text())
        assert (saved["phase"], saved["epoch"]) == state, kill_at
    resumed = child("mnist_convnet", data, tmp_path / "resumed", **options)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    for a, b in zip(
        final_weights(tmp_path / "whole"), final_weights(tmp_path / "resumed"), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    history = [run_dir.read_run(tmp_path / name)["history"] for name in ("whole", "resumed")]
    assert [row["loss"] for row in history[0]] == [row["loss"] for row in history[1]]


def test_a_kill_while_saving_the_model_keeps_the_previous_one(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=20)
    out = tmp_path / "run"
    options = {"head_epochs": 2, "epochs": 0, "validation": None, "augment": "none"}
    killed = child("mnist_convnet", data, out, "--kill-in-save", "2", **options)
    assert killed.returncode == -9
    assert [p.name for p in out.glob(".model.keras.*")]  # the half-written temporary file
    state = json.loads((out / "checkpoints" / "state.json").read_text())
    assert (state["phase"], state["epoch"]) == (1, 1)
    import keras

    keras.saving.load_model(out / run_dir.MODEL_FILE)  # epoch 1's model, whole
    resumed = child("mnist_convnet", data, out, **options)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert not list(out.glob(".model.keras.*"))
    assert run_dir.finished(out)


def test_bad_files_are_skipped_and_listed(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=10, classes=range(3))
    good = sorted((data / "1").glob("*.png"))[0]
    (data / "0" / "empty.png").write_bytes(b"")
    (data / "1" / "truncated.png").write_bytes(good.read_bytes()[:40])
    (data / "1" / "notes.jpg").write_text("not an image")
    bomb_png(data / "2" / "bomb.png")
    run = fine_tune("mnist_convnet", data, tmp_path / "run", head_epochs=1, epochs=0, **QUICK)
    reasons = {Path(path).name: why for path, why in run.bad_files}
    assert set(reasons) == {"empty.png", "truncated.png", "notes.jpg", "bomb.png"}
    assert "too many pixels" in reasons["bomb.png"]
    assert "not an image" in reasons["notes.jpg"]
    listed = (tmp_path / "run" / run_dir.BAD_FILES).read_text().splitlines()
    assert sorted(Path(line.split("\t")[0]).name for line in listed) == sorted(reasons)
    assert sum(run.class_counts.values()) + run.metrics["images"] == 30


def test_unusable_data_is_an_error_before_training(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=5, classes=range(3))
    for file in (data / "2").iterdir():
        file.write_bytes(b"broken")
    with pytest.raises(zoo.DataError, match="no readable image in class.*2"):
        fine_tune("mnist_convnet", data, tmp_path / "a", **QUICK)
    shutil.rmtree(data / "1")
    shutil.rmtree(data / "2")
    with pytest.raises(zoo.DataError, match="at least 2 classes, found 1"):
        fine_tune("mnist_convnet", data, tmp_path / "b", **QUICK)
    (data / "loose.png").write_bytes((data / "0" / next(os.scandir(data / "0")).name).read_bytes())
    with pytest.raises(zoo.DataError, match="one sub-folder per class"):
        fine_tune("mnist_convnet", data, tmp_path / "c", **QUICK)
    assert not (tmp_path / "a" / "checkpoints").exists()


def test_a_diverging_loss_stops_with_an_error_and_keeps_the_last_good_checkpoint(tmp_path):
    import keras

    data = digits_folder(tmp_path / "data", per_class=10, classes=range(3))
    out = tmp_path / "run"
    rates = (1e-3, 1e10)  # phase 2 blows up: one step, then NaN
    constant = {"schedule": "constant", "warmup": 0}  # at full rate from its first step
    with pytest.raises(zoo.TrainingError, match="loss became nan at phase 2 epoch 2 batch 1"):
        fine_tune(
            "mnist_convnet", data, out, head_epochs=2, epochs=3, learning_rate=rates,
            **constant, **QUICK,
        )  # fmt: skip
    state = json.loads((out / "checkpoints" / "state.json").read_text())
    assert (state["phase"], state["epoch"]) == (2, 1)
    assert not run_dir.finished(out)
    values = []
    with h5py.File(out / "checkpoints" / state["weights"]) as saved:
        saved.visititems(
            lambda _, item: values.append(item[()]) if isinstance(item, h5py.Dataset) else None
        )
    floats = [v for v in values if np.issubdtype(np.asarray(v).dtype, np.floating)]
    assert floats and all(np.isfinite(v).all() for v in floats)
    best = keras.saving.load_model(out / run_dir.MODEL_FILE)  # the best epoch so far
    assert all(np.isfinite(w).all() for w in best.get_weights())
    # the same call again resumes from that checkpoint, and diverges at the same step
    with pytest.raises(zoo.TrainingError, match="nan at phase 2 epoch 2 batch 1"):
        fine_tune(
            "mnist_convnet", data, out, head_epochs=2, epochs=3, learning_rate=rates,
            **constant, **QUICK,
        )  # fmt: skip
    shutil.copy(next((data / "0").iterdir()), data / "0" / "added.png")
    with pytest.raises(zoo.InputError, match="data differs from what the run in .* started on"):
        fine_tune(
            "mnist_convnet", data, out, head_epochs=2, epochs=3, learning_rate=rates,
            **constant, **QUICK,
        )  # fmt: skip


def test_an_output_folder_that_cannot_be_written_is_an_error_before_any_work(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=2, classes=range(2))
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")  # unwritable for root too, unlike chmod
    with pytest.raises(zoo.InputError, match="Cannot write the run directory .*a_file/run: Not a"):
        fine_tune("mnist_convnet", data, blocker / "run", **QUICK)


def test_one_run_directory_one_writer_and_never_inside_the_data(tmp_path):
    from zoo.files import file_lock

    data = digits_folder(tmp_path / "data", per_class=3, classes=range(2))
    out = tmp_path / "run"
    with file_lock(out / ".lock"):  # as a `zoo finetune` running in another process
        with pytest.raises(zoo.InputError, match="Another fine-tuning run is writing"):
            fine_tune("mnist_convnet", data, out, **QUICK)
    with pytest.raises(zoo.InputError, match="inside the data folder"):
        fine_tune("mnist_convnet", data, data / "runs" / "a", **QUICK)
    held = digits_folder(tmp_path / "held", per_class=2, classes=range(3))
    with pytest.raises(zoo.DataError, match="validation class.*2 .*not among the training"):
        fine_tune("mnist_convnet", data, out, validation=held, **QUICK)


def test_head_on_cached_features_equals_head_through_the_frozen_backbone(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=20)
    options = {"head_epochs": 3, "epochs": 0, "augment": "none", "progress": False, "seed": 5}
    cached = fine_tune("mnist_convnet", data, tmp_path / "cached", cached_head=True, **options)
    through = fine_tune("mnist_convnet", data, tmp_path / "through", cached_head=False, **options)
    for a, b in zip(
        cached.model.get_layer("predictions").get_weights(),
        through.model.get_layer("predictions").get_weights(),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, atol=1e-5)  # float sums in another order
    assert [r["epoch"] for r in cached.history] == [1, 2, 3]


# -- the run directory is a model --------------------------------------------------------------


#: The tests of ``finished_run`` run on one xdist worker, which builds it once (`make test`'s
#: --dist loadgroup).
FINISHED_RUN = pytest.mark.xdist_group("finished_run")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, mnist):
    folder = tmp_path_factory.mktemp("finished")
    names = {0: "zero", 1: "one", 8: "eight"}
    data = mnist_rgb_folder(folder / "digits", mnist, names, per_class=30)
    fine_tune("mnist_convnet", data, folder / "run", head_epochs=2, epochs=1, **QUICK)
    return folder


@FINISHED_RUN
def test_a_run_directory_loads_predicts_and_extracts_like_a_model(finished_run):
    run = finished_run / "run"
    spec = zoo.get_spec(run)
    assert spec.labels == ("eight", "one", "zero") and spec.num_classes == 3
    image = sorted((finished_run / "digits" / "eight").glob("*.png"))[0]
    assert zoo.predict(run, [image]).shape == (1, 3)
    shown = run_zoo("predict", image, "--model", run, "--top", "1", check=True).stdout
    assert shown.split(": 1. ")[1].split()[0] == "eight"
    features = run_zoo("features", finished_run / "digits", "--model", run, "--quiet", check=True)
    assert "90 images -> pooled features (625)" in features.stdout
    info = run_zoo("info", run, "--json", check=True)
    described = json.loads(info.stdout)
    assert described["run"]["base_model"] == "mnist_convnet"
    assert described["weights"]["status"] == "ok"
    listed = run_zoo("list", finished_run, check=True).stdout
    assert "mnist_convnet" in listed and "finished" in listed
    for name in ("curves.png", "confusion.png", "history.csv", "metrics.json", "labels.json"):
        assert (run / name).stat().st_size > 0, name


@FINISHED_RUN
def test_a_run_model_loads_in_a_fresh_process(finished_run):
    code = (
        "import zoo, keras, numpy as np, sys; "
        "m = keras.saving.load_model(sys.argv[1]); "
        "print(m.predict(np.zeros((1, 28, 28, 1)), verbose=0).shape)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(finished_run / "run" / "model.keras")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("(1, 3)")


@FINISHED_RUN
def test_a_finished_run_is_not_retrained_and_other_arguments_are_an_error(finished_run):
    run = finished_run / "run"
    data = finished_run / "digits"
    stamp = (run / "model.keras").stat().st_mtime_ns
    again = fine_tune("mnist_convnet", data, run, head_epochs=2, epochs=1, **QUICK)
    assert (run / "model.keras").stat().st_mtime_ns == stamp
    assert again.labels == ["eight", "one", "zero"]
    with pytest.raises(zoo.InputError, match="epochs 1 there, 2 here.*--overwrite"):
        fine_tune("mnist_convnet", data, run, head_epochs=2, epochs=2, **QUICK)
    other = finished_run / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(zoo.InputError, match="holds other files and no run"):
        fine_tune("mnist_convnet", data, other, overwrite=True, **QUICK)
    assert (other / "notes.txt").read_text() == "mine"


def test_bad_arguments_say_what_is_valid(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=2, classes=range(2))
    cases = [
        ({"unfreeze": "top20"}, "unfreeze must be 'all', 'none', 'top:N'"),
        ({"bn": "freeze"}, "bn must be one of frozen, train"),
        ({"augment": "heavy"}, "augment must be one of none, light, strong"),
        ({"learning_rate": -1}, "learning_rate must be"),
        ({"image_size": 64}, "image_size applies to the ImageNet models"),
        ({"validation": 1.5}, r"validation as a fraction must be in \(0, 1\)"),
        ({"epochs": 0, "head_epochs": 0}, "nothing to train"),
        ({"class_weight": "auto"}, "class_weight must be None or 'balanced'"),
        ({"batch_size": 0}, "batch size must be a positive integer"),
    ]
    for options, message in cases:
        with pytest.raises(zoo.InputError, match=message):
            fine_tune("mnist_convnet", data, tmp_path / "run", **options)
    with pytest.raises(zoo.InputError, match="no classifier head to fine-tune"):
        fine_tune("perceptron", data, tmp_path / "run")
    with pytest.raises(zoo.UnknownModelError, match="Did you mean 'mnist_convnet'"):
        fine_tune("mnist_cnn", data, tmp_path / "run")
    assert not (tmp_path / "run").exists()


# -- other forms of data -----------------------------------------------------------------------


def test_lists_arrays_and_datasets_train_too(tmp_path):
    import tensorflow as tf

    data = digits_folder(tmp_path / "data", per_class=8, classes=range(3))
    listing = tmp_path / "data" / "train.csv"
    rows = ["path,label"] + [
        f"{p.parent.name}/{p.name},digit{p.parent.name}" for p in sorted(data.rglob("*.png"))
    ]
    listing.write_text("\n".join(rows) + "\n")
    from_list = fine_tune(
        "mnist_convnet", listing, tmp_path / "list", head_epochs=1, epochs=0, **QUICK
    )
    assert from_list.labels == ["digit0", "digit1", "digit2"]
    assert sum(from_list.class_counts.values()) + from_list.metrics["images"] == 24

    x = np.stack([np.asarray(Image.open(p)) for p in sorted(data.rglob("*.png"))])
    y = np.repeat(np.arange(3), 8)
    from_arrays = fine_tune(
        "mnist_convnet",
        (x, y),
        tmp_path / "arrays",
        head_epochs=1,
        epochs=0,
        class_weight="balanced",
        **QUICK,
    )
    assert from_arrays.labels == ["0", "1", "2"]
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(5)
    from_dataset = fine_tune(
        "mnist_convnet", dataset, tmp_path / "dataset", head_epochs=1, epochs=0, **QUICK
    )
    assert from_dataset.metrics["images"] == from_arrays.metrics["images"]


def test_zoo_finetune_command(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=6, classes=range(3))
    out = tmp_path / "run"
    result = run_zoo(
        "finetune",
        data,
        "--model",
        "mnist_convnet",
        "--out",
        out,
        "--epochs",
        "1",
        "--head-epochs",
        "1",
        "--augment",
        "none",
        "--quiet",
        check=True,
    )
    assert "classes (3), training images: 0 " in result.stdout
    assert f"run directory: {out}" in result.stdout
    record = run_dir.read_run(out)
    assert record["status"] == "finished" and "finetune" in record["command"]
    again = run_zoo("finetune", data, "--model", "mnist_convnet", "--out", out, "--epochs", "2")
    assert again.returncode == 2 and "epochs 1 there, 2 here" in again.stderr


# -- zoo probe ---------------------------------------------------------------------------------


def test_zoo_probe_ranks_backbones_and_skips_uncached_ones_offline(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=25)
    keras_home = tmp_path / "keras"
    (keras_home / "models").mkdir(parents=True)
    shutil.copy(MOBILENET_NO_TOP, keras_home / "models" / MOBILENET_NO_TOP.name)
    result = run_zoo(
        "probe", data, "--models", "mnist_convnet", "mobilenet_v1_0.25_1*", "--offline",
        "--out", tmp_path / "probe", "--quiet",
        env={"KERAS_HOME": str(keras_home)}, check=True,
    )  # fmt: skip
    rows = list(csv.DictReader((tmp_path / "probe" / "probe.csv").open()))
    probed = {row["model"]: row for row in rows}
    assert set(probed) == {
        "mnist_convnet",
        "mobilenet_v1_0.25_128",
        "mobilenet_v1_0.25_160",
        "mobilenet_v1_0.25_192",
    }
    assert probed["mobilenet_v1_0.25_160"]["status"].startswith("skipped: weights not in the cache")
    ranked = [float(row["accuracy"]) for row in rows if row["accuracy"]]
    assert len(ranked) == 2 and ranked == sorted(ranked, reverse=True)
    assert float(probed["mnist_convnet"]["accuracy"]) >= 0.9
    assert float(probed["mobilenet_v1_0.25_128"]["accuracy"]) >= 0.5
    assert int(probed["mnist_convnet"]["params"]) > 0
    assert (tmp_path / "probe" / "probe.png").stat().st_size > 0
    assert result.stdout.index("mnist_convnet") < result.stdout.index("mobilenet_v1_0.25_128")
    with pytest.raises(zoo.UnknownModelError, match=r"No image classifier matches 'resnext\*'"):
        zoo.probe(data, ["resnext*"], out=None)


def test_cached_features_come_from_the_prediction_runtime(tmp_path, monkeypatch):
    keras_home = tmp_path / "keras"
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.setenv("ZOO_RUNTIME", "onnx")
    data = digits_folder(tmp_path / "data", per_class=15, classes=range(4))
    run = fine_tune("mnist_convnet", data, tmp_path / "run", head_epochs=4, epochs=0, **QUICK)
    exported = [p.name for p in (keras_home / "models" / "zoo-runtimes").glob("*.onnx")]
    assert exported and all(name.startswith("mnist_convnet-pooled-") for name in exported)
    assert run.metrics["accuracy"] >= 0.9


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("mobilenet_v2_0.35_96", {"image_size": 32, "unfreeze": "stage4+", "augment": "strong"}),
        pytest.param(  # `make test-all`: 20 s; CI takes the same options on MobileNetV2 above
            "efficientnet_b0",
            {"image_size": 32, "unfreeze": "stage4+", "augment": "strong"},
            marks=pytest.mark.slow,
        ),
        ("convnext_tiny", {"image_size": 32, "unfreeze": "top:2", "bn": "train"}),
        ("mnist_rnn", {"unfreeze": "all", "augment": "light"}),
    ],
)
def test_other_families_fine_tune(tmp_path, name, options):
    """Random weights at the smallest input: the recipe runs for each kind of backbone (ConvNeXt's
    head input is not its pooled stage: its features come from the model itself)."""
    data = digits_folder(tmp_path / "data", per_class=4, classes=range(2))
    run = fine_tune(
        name, data, tmp_path / "run", weights=None, head_epochs=1, epochs=1, validation=None,
        progress=False, **options,
    )  # fmt: skip
    assert [row["phase"] for row in run.history] == [1, 2]
    assert run.model.output.shape[-1] == 2
    record = run_dir.read_run(tmp_path / "run")
    expected = [options.get("image_size") or 28] * 2
    assert record["spec"]["input_shape"][:2] == expected


@FINISHED_RUN
def test_a_run_whose_model_was_changed_is_refused(finished_run, tmp_path):
    copy = tmp_path / "copied_run"
    shutil.copytree(finished_run / "run", copy)
    assert zoo.load(copy).output.shape[-1] == 3  # a copied run directory still loads
    data = bytearray((copy / "model.keras").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "model.keras").write_bytes(bytes(data))
    with pytest.raises(zoo.WeightsHashError, match="model.keras failed its sha256 check"):
        zoo.load(copy)
    unfinished = tmp_path / "unfinished"
    shutil.copytree(finished_run / "run", unfinished)
    record = json.loads((unfinished / "run.json").read_text())
    (unfinished / "run.json").write_text(json.dumps({**record, "status": "running"}))
    with pytest.raises(zoo.DataError, match="has not finished.*again to resume it"):
        zoo.predict(unfinished, np.zeros((1, 28, 28), "uint8"))


def test_overwrite_starts_a_run_again_and_touches_nothing_else(tmp_path):
    data = digits_folder(tmp_path / "data", per_class=4, classes=range(2))
    out = tmp_path / "run"
    fine_tune("mnist_convnet", data, out, head_epochs=1, epochs=0, **QUICK)
    (out / "notes.txt").write_text("mine")
    again = fine_tune("mnist_convnet", data, out, head_epochs=2, epochs=0, overwrite=True, **QUICK)
    assert [row["epoch"] for row in again.history] == [1, 2]
    assert run_dir.read_run(out)["arguments"]["head_epochs"] == 2
    assert (out / "notes.txt").read_text() == "mine"
