"""zoo.export / zoo export: every format loads in its own runtime in a process that cannot
import zoo, agrees with Keras, and a disagreeing artefact is never kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo.cli.app import main
from zoo.exporting.artefact import SUFFIXES, export
from zoo.inputs.sources import prepare_file

from conftest import IMAGENET_WEIGHTS, SAMPLES, SHARED, run_zoo

LOADER = Path(__file__).with_name("no_zoo_loader.py")
MOBILENET_TOP = IMAGENET_WEIGHTS / "mobilenet_2_5_128_tf.h5"
PHOTOS = SHARED / "data" / "photos"


def without_zoo(fmt: str, artefact: Path, batch, tmp_path: Path) -> tuple[np.ndarray, str]:
    """Probabilities (and printed text) from ``artefact`` run by its runtime without zoo."""
    if fmt == "savedmodel_bytes":
        inputs = tmp_path / "files.txt"
        inputs.write_text("\n".join(map(str, batch)))
    else:
        inputs = tmp_path / "batch.npy"
        np.save(inputs, batch)
    out = tmp_path / "out.npy"
    result = subprocess.run(
        [sys.executable, str(LOADER), fmt, str(artefact), str(inputs), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return np.load(out), result.stdout


def digits() -> np.ndarray:
    spec = zoo.get_spec("mnist_convnet")
    return np.stack([prepare_file(spec, p) for p in sorted(SAMPLES.glob("*.png"))])


@pytest.mark.slow  # `make test-all`: CI covers every format with the fine-tuned run below
@pytest.mark.parametrize(
    ("fmt", "quantize"),
    [("keras", None), ("savedmodel", None), ("litert", None), ("litert", "float16"),
     ("onnx", None)],
)  # fmt: skip
def test_every_format_runs_without_zoo_and_agrees_with_keras(tmp_path, fmt, quantize):
    out = tmp_path / f"convnet{SUFFIXES[fmt]}"
    result = export("mnist_convnet", out, format=fmt, quantize=quantize)
    assert result.parity["top1_agreement"] == 1.0 and result.parity["images"] == 10
    assert json.loads(Path(f"{out}.parity.json").read_text())["format"] == fmt
    assert Path(f"{out}.labels.txt").read_text().split() == [str(d) for d in range(10)]
    batch = digits()
    expected = zoo.predict("mnist_convnet", batch)
    actual, _ = without_zoo(fmt, out, batch, tmp_path)
    tolerance = 1e-2 if quantize else 1e-4
    np.testing.assert_allclose(actual, expected, atol=tolerance)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_int8_is_calibrated_checked_and_warns_about_default_images(tmp_path):
    out = tmp_path / "convnet_int8.tflite"
    result = export("mnist_convnet", out, format="litert", quantize="int8")
    assert result.parity["top1_agreement"] >= 0.95
    assert "not on your data" in result.parity["warnings"][0]
    calibrated = set(map(os.path.basename, result.parity["sample_images"]))
    assert len(calibrated) == 5  # the other five sample digits calibrated it
    float_size = export("mnist_convnet", tmp_path / "f.tflite", format="litert").parity["bytes"]
    assert result.parity["bytes"] < float_size / 3


def test_calibration_and_parity_images_are_capped_and_the_report_says_so(tmp_path, monkeypatch):
    import zoo.exporting.artefact as exporting

    monkeypatch.setattr(exporting, "CALIBRATION_LIMIT", 3)
    monkeypatch.setattr(exporting, "SAMPLES_LIMIT", 4)
    calibration = tmp_path / "calibration"
    calibration.mkdir()
    digit_files = sorted(SAMPLES.glob("*.png"))
    for path in digit_files[:7]:
        (calibration / path.name).write_bytes(path.read_bytes())
    out = tmp_path / "capped.tflite"
    parity = export(
        "mnist_convnet", out, format="litert", quantize="int8", calibration=calibration,
        samples=SAMPLES,
    ).parity  # fmt: skip
    assert parity["warnings"] == [
        "calibrated on 3 of the 7 images given, evenly spaced in their order",  # 0, 3 and 6
        "checked on 4 of the 7 images given, evenly spaced in their order",
    ]
    # the parity images are never the calibration images, not even copies of them
    checked = [os.path.basename(p) for p in parity["sample_images"]]
    assert checked == ["digit_1.png", "digit_4.png", "digit_7.png", "digit_9.png"]
    monkeypatch.setattr(exporting, "SAMPLES_LIMIT", 2)
    parity = export("mnist_convnet", out, format="litert", samples=SAMPLES).parity
    assert parity["warnings"] == [
        "checked on 2 of the 10 images given, evenly spaced in their order"
    ]
    assert [os.path.basename(p) for p in parity["sample_images"]] == ["digit_0.png", "digit_9.png"]


def test_an_artefact_that_disagrees_is_not_kept(tmp_path, monkeypatch, capsys):
    import zoo.exporting.artefact as exporting

    real_runner = exporting.runner

    def broken_runner(*args):  # an artefact whose classes come out in the wrong order
        run = real_runner(*args)
        return lambda batch: run(batch)[:, ::-1]

    monkeypatch.setattr(exporting, "runner", broken_runner)
    out = tmp_path / "broken.onnx"
    with pytest.raises(zoo.ZooError, match=r"agrees with Keras on top-1 for \d+\.\d% .*nothing"):
        export("mnist_convnet", out, format="onnx")
    assert list(tmp_path.iterdir()) == []  # no artefact, no report, no temporary folder
    # the command exits non-zero and says what to try
    capsys.readouterr()
    assert main(["export", "mnist_convnet", "--format", "litert", "--quantize", "int8",
                 "--out", str(tmp_path / "broken.tflite")]) == 2  # fmt: skip
    said = capsys.readouterr().err
    assert "nothing was kept" in said and "--calibration DIR" in said and "--min-agreement" in said
    assert list(tmp_path.iterdir()) == []


def test_zoo_export_command(tmp_path):
    out = tmp_path / "convnet.tflite"
    result = run_zoo("export", "mnist_convnet", "--format", "litert", "--out", out, check=True)
    assert "100.0%" in result.stdout and out.is_file()
    refused = run_zoo("export", "mnist_convnet", "--format", "onnx", "--quantize", "int8",
                      "--out", tmp_path / "x.onnx")  # fmt: skip
    assert refused.returncode == 2 and "LiteRT exports take float16 or int8" in refused.stderr
    percent = run_zoo("export", "mnist_convnet", "--format", "litert", "--out",
                      tmp_path / "y.tflite", "--min-agreement", "95")  # fmt: skip
    assert percent.returncode == 2 and "from 0 to 1; received 95.0" in percent.stderr
    assert not (tmp_path / "y.tflite").exists()


def test_an_export_replaces_an_older_artefact_and_nothing_else(tmp_path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.txt").write_text("years of work")
    afile = tmp_path / "notes"
    afile.write_text("mine")
    refusals = {
        precious: ("savedmodel", "holds other files, not a SavedModel"),
        afile: ("savedmodel", "is a file; a savedmodel export is a folder"),
        tmp_path / "dir.tflite": ("litert", "is a folder; a litert export is one file"),
        tmp_path / "m.onnx": ("keras", "keras exports are .keras files; received"),
        tmp_path / "m.tflite": ("onnx", "onnx exports are .onnx files"),
        afile / "m.onnx": ("onnx", "Cannot write the export's folder"),
    }
    (tmp_path / "dir.tflite").mkdir()
    for out, (fmt, message) in refusals.items():
        with pytest.raises(zoo.InputError, match=message):
            export("mnist_convnet", out, format=fmt)
    assert (
        precious / "chapter1.txt"
    ).read_text() == "years of work" and afile.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.tflite", "notes", "thesis"]
    for _ in range(2):  # a rerun replaces its own SavedModel, and leaves nothing hidden behind
        export("mnist_convnet", tmp_path / "served", format="savedmodel")
    assert (tmp_path / "served" / "saved_model.pb").is_file()
    modes = {
        path.stat().st_mode & 0o777
        for path in (tmp_path / "served" / "saved_model.pb", tmp_path / "served.labels.txt")
    }
    assert len(modes) == 1  # the labels travel with the artefact: as readable as it is
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


#: An export in its own process; ``--kill-at-old`` SIGKILLs it as it removes the older
#: SavedModel it replaced (after the second rename, before any ``finally``).
EXPORT_CHILD = """\
import os, signal, sys
import zoo.exporting.artefact as exporting

out, fmt = sys.argv[1], sys.argv[2]
if "--kill-at-old" in sys.argv:
    def killed(path, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    exporting.shutil.rmtree = killed
exporting.export("mnist_convnet", out, format=fmt)
"""


def export_child(out: Path, fmt: str, *flags: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", EXPORT_CHILD, str(out), fmt, *flags], stderr=subprocess.PIPE
    )


def test_what_a_killed_export_leaves_behind_the_next_one_removes(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "saved_model.pb").write_bytes(b"an older SavedModel")
    killed = export_child(served, "savedmodel", "--kill-at-old")
    assert killed.wait(timeout=300) == -9, killed.stderr.read().decode()[-3000:]
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert len(left) == 2, left  # its staging folder and the older SavedModel it moved aside
    assert (served / "saved_model.pb").read_bytes() != b"an older SavedModel"
    running = tmp_path / f".served.export-{os.getpid()}-abcd"  # an export still at work
    running.mkdir()
    export("mnist_convnet", served, format="savedmodel")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [running.name]


@pytest.mark.skipif(not Path("/proc/locks").is_file(), reason="blocked locks are seen in /proc")
def test_two_exports_to_one_out_move_in_one_at_a_time(tmp_path):
    """While one export moves its artefact, labels and report in, another to the same OUT
    waits: without it the second one's report could end up beside the first one's artefact."""
    from zoo.files import folder_lock

    out = tmp_path / "convnet.keras"
    with folder_lock(tmp_path):  # as an export does while it moves in
        child = export_child(out, "keras")
        deadline = time.monotonic() + 300
        while f" {child.pid} " not in "".join(
            line for line in Path("/proc/locks").read_text().splitlines(True) if "->" in line
        ):
            assert child.poll() is None, child.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert not out.exists() and not Path(f"{out}.parity.json").exists()
    assert child.wait(timeout=300) == 0, child.stderr.read().decode()[-3000:]
    assert json.loads(Path(f"{out}.parity.json").read_text())["format"] == "keras"


def test_a_rerun_killed_before_its_report_leaves_no_report_of_the_earlier_export(
    tmp_path, monkeypatch
):
    import zoo.exporting.artefact as exporting

    out = tmp_path / "convnet.tflite"
    export("mnist_convnet", out, format="litert")
    real_write = exporting.atomic_write

    def killed_at_the_report(path, data):
        if str(path).endswith(".parity.json"):
            raise KeyboardInterrupt  # the process dies as it writes the report
        real_write(path, data)

    monkeypatch.setattr(exporting, "atomic_write", killed_at_the_report)
    with pytest.raises(KeyboardInterrupt):
        export("mnist_convnet", out, format="litert", quantize="float16")
    # the float16 artefact is in place; the float32 export's report must not describe it
    assert out.is_file() and not Path(f"{out}.parity.json").exists()


def test_a_users_keras_file_exports_too(tmp_path):
    first = export("mnist_convnet", tmp_path / "mine.keras", format="keras").path
    Path(f"{first}.labels.txt").unlink()  # a file of the user's own, without labels
    result = export(first, tmp_path / "mine.tflite", format="litert")
    assert result.parity["top1_agreement"] == 1.0
    assert Path(f"{result.path}.labels.txt").read_text().split() == [str(d) for d in range(10)]


def test_input_size_resizes_in_graph_and_the_parity_measures_it(tmp_path):
    out = tmp_path / "mobilenet_160.onnx"
    result = export(
        "mobilenet_v1_0.25_128", out, format="onnx", weights=MOBILENET_TOP, input_size=160,
        samples=PHOTOS, min_agreement=0.5,
    )  # fmt: skip
    photos = sorted(PHOTOS.glob("*"))
    spec = zoo.get_spec("mobilenet_v1_0.25_128")
    at_160 = np.stack([prepare_file(spec, p, input_shape=(160, 160, 3)) for p in photos])
    probabilities, _ = without_zoo("onnx", out, at_160.astype("float32"), tmp_path)
    keras_top = zoo.predict("mobilenet_v1_0.25_128", photos, weights=MOBILENET_TOP).argmax(1)
    assert probabilities.shape == (2, 1000) and list(probabilities.argmax(1)) == list(keras_top)
    assert result.parity["images"] == 2 and result.parity["max_abs_difference"] > 1e-4
    with pytest.raises(zoo.errors.InputError, match="input_size applies to the photo"):
        export("mnist_convnet", tmp_path / "m.onnx", format="onnx", input_size=32)
    refused = run_zoo("export", "mnist_convnet", "--format", "onnx", "--out", tmp_path / "x.onnx",
                      "--input-size", "12x")  # fmt: skip
    assert refused.returncode == 2 and "expected N or HxW, received '12x'" in refused.stderr


def test_the_mnist_savedmodel_reads_image_bytes_as_zoo_prepares_digits(tmp_path):
    from PIL import Image, ImageOps

    files = sorted(SAMPLES.glob("*.png"))
    for path in files[:4]:  # dark ink on light paper, stretched, as JPEG: the full recipe
        ink = ImageOps.invert(Image.open(path).convert("L")).convert("RGB")
        ink.resize((ink.width * 3, ink.height * 2)).save(tmp_path / f"{path.stem}.jpg")
    files += sorted(tmp_path.glob("*.jpg"))
    out = tmp_path / "convnet"
    export("mnist_convnet", out, format="savedmodel")
    probabilities, printed = without_zoo("savedmodel_bytes", out, files, tmp_path)
    expected = zoo.predict("mnist_convnet", files)
    assert list(probabilities.argmax(1)) == list(expected.argmax(1))
    assert printed.split() == [str(i) for i in expected.argmax(1)]
    assert np.max(np.abs(probabilities - expected)) < 0.05  # Lanczos of TF vs Pillow


ALL_FORMATS = [("keras", None), ("savedmodel", None), ("litert", None), ("litert", "float16"),
               ("onnx", None)]  # fmt: skip


@pytest.mark.parametrize(
    ("fmt", "quantize"),
    [
        fmt if fmt == ("savedmodel", None) else pytest.param(*fmt, marks=pytest.mark.slow)
        for fmt in ALL_FORMATS
    ],
)  # CI runs the SavedModel (pixels and bytes); `make test-all` every format
def test_every_format_of_mobilenet_with_its_real_weights_runs_without_zoo(tmp_path, fmt, quantize):
    photos = sorted(PHOTOS.glob("*")) + sorted(quantized_photos())
    out = tmp_path / f"mobilenet{SUFFIXES[fmt]}"
    result = export("mobilenet_v1_0.25_128", out, format=fmt, quantize=quantize,
                    weights=MOBILENET_TOP)  # fmt: skip
    assert result.parity["top1_agreement"] >= 0.99 and result.parity["images"] == 10
    spec = zoo.get_spec("mobilenet_v1_0.25_128")
    batch = np.stack([prepare_file(spec, p) for p in photos]).astype("float32")
    probabilities, _ = without_zoo(fmt, out, batch, tmp_path)
    expected = zoo.predict("mobilenet_v1_0.25_128", photos, weights=MOBILENET_TOP)
    assert list(probabilities.argmax(1)) == list(expected.argmax(1))
    assert np.max(np.abs(probabilities - expected)) < (5e-2 if quantize else 1e-4)
    if fmt == "savedmodel":  # and from encoded files, decoded and resized in the graph
        from_bytes, printed = without_zoo("savedmodel_bytes", out, photos, tmp_path)
        assert list(from_bytes.argmax(1)) == list(expected.argmax(1))
        names = zoo.labels.names("imagenet")
        assert printed.split() == [names[i] for i in expected.argmax(1)]
        assert "African_elephant" in printed


def quantized_photos():
    from zoo.engines.int8 import DATA

    return (DATA / "photos").glob("*.jpg")


#: The tests of ``fine_tuned_run`` run on one xdist worker, which builds it once (`make test`'s
#: --dist loadgroup).
FINE_TUNED_RUN = pytest.mark.xdist_group("fine_tuned_run")


@pytest.fixture(scope="module")
def fine_tuned_run(tmp_path_factory):
    from finetune_helpers import QUICK, digits_folder

    root = tmp_path_factory.mktemp("run")
    data = digits_folder(root / "data", per_class=5, classes=range(3))
    zoo.fine_tune("mnist_convnet", data, root / "run", head_epochs=2, epochs=0, **QUICK)
    return root / "run"


@FINE_TUNED_RUN
@pytest.mark.parametrize(("fmt", "quantize"), [*ALL_FORMATS, ("litert", "int8")])
def test_every_format_of_a_fine_tuned_run_runs_without_zoo(tmp_path, fine_tuned_run, fmt, quantize):
    out = tmp_path / f"run{SUFFIXES[fmt]}"
    result = export(fine_tuned_run, out, format=fmt, quantize=quantize)
    assert result.parity["top1_agreement"] >= (0.95 if quantize == "int8" else 0.99)
    assert Path(f"{out}.labels.txt").read_text().split() == ["0", "1", "2"]
    probabilities, _ = without_zoo(fmt, out, digits(), tmp_path)
    expected = zoo.predict(str(fine_tuned_run), digits())
    assert probabilities.shape == (10, 3)
    agreement = np.mean(probabilities.argmax(1) == expected.argmax(1))
    assert agreement >= (0.9 if quantize == "int8" else 1.0)
