"""Predicting files: the MNIST-like digit pipeline, the shipped samples, bad files, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.inference.prediction import predict_files
from zoo.inputs.images import open_image, to_mnist_digit

from conftest import SAMPLES, SHARED, assert_clean_error, run_zoo

SAMPLE_FILES = sorted(SAMPLES.glob("digit_*.png"))
SHARED_PHOTO = SHARED / "data" / "photos" / "elephant.jpg"
SHARED_TOP = SHARED / "weights" / "imagenet" / "mobilenet_2_5_128_tf.h5"


def test_ten_sample_digits_are_shipped():
    assert [path.stem for path in SAMPLE_FILES] == [f"digit_{d}" for d in range(10)]


def test_mnist_digit_is_inverted_cropped_and_centred():
    paper = np.full((100, 60), 250, np.uint8)
    paper[10:40, 5:15] = 0  # a dark bar off-centre on light paper
    digit = to_mnist_digit(Image.fromarray(paper))
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    assert digit[0].max() == 0 and digit[:, 0].max() == 0  # background black
    rows, cols = np.nonzero(digit > 128)
    assert rows.max() - rows.min() + 1 in (19, 20, 21)  # longest side scaled to the 20 px box
    ys, xs = np.indices(digit.shape)
    mass = digit.astype(float)
    assert abs((ys * mass).sum() / mass.sum() - 14) < 1
    assert abs((xs * mass).sum() / mass.sum() - 14) < 1


def test_dark_and_light_versions_give_the_same_digit():
    light = Image.open(SAMPLE_FILES[3]).convert("L")
    dark = Image.fromarray(255 - np.asarray(light))
    np.testing.assert_array_equal(to_mnist_digit(light), to_mnist_digit(dark))


def test_mnist_test_digits_survive_the_pipeline(mnist):
    """Real MNIST digits, upscaled and inverted onto paper, come back classified the same."""
    model = zoo.load("mnist_convnet")
    originals = mnist.x_test[:64]
    redrawn = np.stack(
        [
            to_mnist_digit(
                Image.fromarray(255 - digit).resize((112, 112), Image.Resampling.BICUBIC)
            )
            for digit in originals
        ]
    )
    agreement = np.mean(
        model.predict(redrawn, verbose=0).argmax(1) == model.predict(originals, verbose=0).argmax(1)
    )
    assert agreement >= 0.95


def test_blank_image_is_a_clear_error(tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("L", (40, 40), 255).save(blank)
    with pytest.raises(zoo.InputError, match="blank"):
        to_mnist_digit(open_image(blank))


def test_convnet_reads_the_shipped_samples():
    probabilities = zoo.predict("mnist_convnet", SAMPLE_FILES)
    assert probabilities.argmax(axis=1).tolist() == list(range(10))


def test_image_modes_are_all_readable(tmp_path):
    base = Image.open(SAMPLE_FILES[7])
    variants = {
        "l.png": base.convert("L"),
        "p.png": base.convert("P"),
        "cmyk.jpg": base.convert("CMYK"),
        "rgba.png": base.convert("RGBA"),
        "la.png": base.convert("LA"),
        "i16.png": Image.fromarray(np.asarray(base.convert("L"), np.uint16) * 257),
    }
    paths = []
    for name, image in variants.items():
        image.save(tmp_path / name)
        paths.append(tmp_path / name)
    assert zoo.predict("mnist_convnet", paths).argmax(axis=1).tolist() == [7] * len(paths)


def test_bad_files_get_error_entries_and_the_rest_is_predicted(tmp_path):
    fake = tmp_path / "fake.png"
    fake.write_text("this is text, not a PNG")
    missing = tmp_path / "missing.png"
    results = predict_files(
        "mnist_convnet", [SAMPLE_FILES[2], fake, missing, SAMPLE_FILES[5]], top=2
    )
    assert [r.get("top", [{}])[0].get("label") for r in results] == ["2", None, None, "5"]
    assert "not an image" in results[1]["error"] and str(fake) in results[1]["error"]
    assert "no such file" in results[2]["error"]


def test_cli_predict_json_layout():
    result = run_zoo(
        "predict",
        SAMPLE_FILES[7],
        SAMPLE_FILES[1],
        "--model",
        "mnist_convnet",
        "--top",
        "3",
        "--json",
        check=True,
    )
    entries = json.loads(result.stdout)
    assert [entry["file"] for entry in entries] == [str(SAMPLE_FILES[7]), str(SAMPLE_FILES[1])]
    first = entries[0]
    assert first["model"] == "mnist_convnet"
    assert [item["rank"] for item in first["top"]] == [1, 2, 3]
    assert first["top"][0]["index"] == 7 and first["top"][0]["label"] == "7"
    assert first["top"][0]["score"] >= first["top"][1]["score"] >= first["top"][2]["score"]
    assert set(first["top"][0]) == {"rank", "index", "label", "score"}


def test_cli_predict_reports_bad_files_and_exits_non_zero(tmp_path):
    fake = tmp_path / "fake.png"
    fake.write_text("text")
    result = run_zoo(
        "predict",
        fake,
        tmp_path / "gone.png",
        SAMPLE_FILES[4],
        "--model",
        "mnist_convnet",
        "--json",
    )
    assert_clean_error(result, str(fake), "gone.png")
    entries = json.loads(result.stdout)
    assert "error" in entries[0] and "error" in entries[1]
    assert entries[2]["top"][0]["label"] == "4"


def test_cli_predict_bad_model_and_corrupt_weights(tmp_path):
    assert_clean_error(
        run_zoo("predict", SAMPLE_FILES[0], "--model", "mnist_cnn"), "Did you mean 'mnist_convnet'?"
    )
    corrupt = tmp_path / "corrupt.weights.h5"
    corrupt.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    assert_clean_error(
        run_zoo("predict", SAMPLE_FILES[0], "--model", "mnist_convnet", "--weights", corrupt),
        "corrupt.weights.h5",
    )


def _digit_tree(tmp_path):
    """digits/ with images two levels deep, a note that is not an image, and a list file."""
    root = tmp_path / "digits"
    (root / "a" / "deeper").mkdir(parents=True)
    (root / "b").mkdir()
    for digit, folder in ((3, root / "a"), (5, root / "a" / "deeper"), (8, root / "b")):
        (folder / f"digit_{digit}.png").write_bytes(SAMPLE_FILES[digit].read_bytes())
    (root / "b" / "notes.txt").write_text("not an image")
    listing = tmp_path / "list.txt"
    listing.write_text(f"{SAMPLE_FILES[1]}\n\n{SAMPLE_FILES[2]}\n")
    return root, listing


def test_predict_takes_a_folder_a_glob_and_a_list_like_features(tmp_path):
    root, listing = _digit_tree(tmp_path)
    by_folder = predict_files("mnist_convnet", root, top=1)
    assert [Path(r["file"]).name for r in by_folder] == [
        "digit_5.png",
        "digit_3.png",
        "digit_8.png",
    ]  # sorted paths, recursive
    assert [r["top"][0]["label"] for r in by_folder] == ["5", "3", "8"]
    by_glob = predict_files("mnist_convnet", str(root / "**" / "digit_*.png"), top=1)
    assert sorted(r["file"] for r in by_glob) == sorted(r["file"] for r in by_folder)
    mixed = predict_files("mnist_convnet", [listing, str(root / "b" / "*.png")], top=1)
    assert [r["top"][0]["label"] for r in mixed] == ["1", "2", "8"]
    probabilities = zoo.predict("mnist_convnet", root)  # the Python API resolves them too
    assert probabilities.argmax(axis=1).tolist() == [5, 3, 8]
    with pytest.raises(zoo.InputError, match="no file matches"):
        predict_files("mnist_convnet", str(tmp_path / "nothing" / "*.png"))


def test_cli_predict_on_a_folder_prints_each_error_once(tmp_path):
    root, _ = _digit_tree(tmp_path)
    (root / "b" / "broken.png").write_text("not a PNG")
    result = run_zoo("predict", root, "--model", "mnist_convnet", "--top", "1")
    assert result.returncode == 1
    assert [line.split(": ")[0] for line in result.stdout.splitlines()] == [
        str(root / "a" / "deeper" / "digit_5.png"),
        str(root / "a" / "digit_3.png"),
        str(root / "b" / "digit_8.png"),
    ]
    assert "broken.png" not in result.stdout
    assert result.stderr.count("broken.png") == 1 and "zoo: error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_crop_fraction_implies_a_centre_crop():
    """``--crop-fraction F`` alone means ``--crop center --crop-fraction F``: both give the
    same fraction, and the command with it alone predicts what a centre crop predicts, which
    is not what the whole image predicts (one command run; the others in this process)."""
    import argparse

    from zoo.cli.inference import _crop_fraction

    def flags(crop, fraction):
        return argparse.Namespace(crop=crop, crop_fraction=fraction)

    assert _crop_fraction(flags(None, 0.5)) == _crop_fraction(flags("center", 0.5)) == 0.5
    assert _crop_fraction(flags(None, None)) is None is _crop_fraction(flags("none", None))
    command = ("predict", SHARED_PHOTO, "--model", "mobilenet_v1_0.25_128", "--weights")
    shown = run_zoo(*command, SHARED_TOP, "--json", "--top", "1", "--crop-fraction", "0.5")
    assert shown.returncode == 0, shown.stderr
    implied = json.loads(shown.stdout)[0]["top"][0]
    options = {"weights": SHARED_TOP, "top": 1}
    cropped = predict_files("mobilenet_v1_0.25_128", [SHARED_PHOTO], crop_fraction=0.5, **options)
    plain = predict_files("mobilenet_v1_0.25_128", [SHARED_PHOTO], **options)
    cropped, plain = cropped[0]["top"][0], plain[0]["top"][0]
    assert implied["index"] == cropped["index"]
    assert implied["score"] == pytest.approx(cropped["score"], abs=1e-5)
    assert (cropped["index"], round(cropped["score"], 3)) != (
        plain["index"],
        round(plain["score"], 3),
    )
    assert_clean_error(
        run_zoo(*command, SHARED_TOP, "--crop", "none", "--crop-fraction", "0.5"),
        "needs --crop center",
    )
