"""zoo.evaluate / zoo evaluate on real MNIST digits with the shipped convnet: the figures equal a
hand computation, the gallery holds the images with the highest loss (the ones we mislabelled),
bad files are listed, a model of other classes is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.evaluation import report
from zoo.inputs.labelled import read_labelled

from conftest import run_zoo

CLASSES = (3, 5, 8)
PER_CLASS = 12


@pytest.fixture(scope="module")
def digits(tmp_path_factory, mnist):
    """Real test digits 3, 5, 8 in class folders, and four of them put in the wrong folder."""
    folder = tmp_path_factory.mktemp("digits") / "data"
    x, y = mnist[2], mnist[3]
    wrong = []
    for digit in CLASSES:
        for i, index in enumerate(np.flatnonzero(y == digit)[:PER_CLASS]):
            label = digit
            if i < 2 and digit != 8:  # two 3s filed as 5s, two 5s filed as 8s
                label = CLASSES[CLASSES.index(digit) + 1]
                wrong.append(f"{digit}_{i:02d}.png")
            (folder / str(label)).mkdir(parents=True, exist_ok=True)
            Image.fromarray(x[index]).save(folder / str(label) / f"{digit}_{i:02d}.png")
    return folder, wrong


def test_the_figures_equal_a_hand_computation(digits, tmp_path):
    folder, wrong = digits
    result = zoo.evaluate("mnist_convnet", folder, out=tmp_path / "ev", progress=False)
    held = read_labelled(folder, zoo.get_spec("mnist_convnet"))
    probabilities = zoo.load("mnist_convnet").predict(held.x.astype("float32"), verbose=0)
    truth = np.array([int(held.class_names[v]) for v in held.y])
    predicted = probabilities.argmax(axis=1)
    assert result["images"] == 3 * PER_CLASS
    assert result["accuracy"] == pytest.approx(np.mean(predicted == truth))
    for digit in map(str, CLASSES):
        d = int(digit)
        hits = np.sum((predicted == d) & (truth == d))
        precision, recall = hits / np.sum(predicted == d), hits / np.sum(truth == d)
        row = result["per_class"][digit]
        assert row["precision"] == pytest.approx(precision)
        assert row["recall"] == pytest.approx(recall)
        assert row["f1"] == pytest.approx(2 * precision * recall / (precision + recall))
        assert row["support"] == np.sum(truth == d)
    # the gallery and the report hold the highest losses, highest first: the misfiled digits
    losses = -np.log(np.clip(probabilities[np.arange(len(truth)), truth], 1e-12, 1))
    shown = [row["loss"] for row in result["top_losses"]]
    assert shown == sorted(shown, reverse=True)
    np.testing.assert_allclose(shown, np.sort(losses)[::-1][:16], rtol=1e-4)
    worst = {row["file"].rsplit("/", 1)[-1] for row in result["top_losses"][: len(wrong)]}
    assert worst == set(wrong)
    pairs = {(t, p): n for t, p, n in result["most_confused"]}
    assert pairs[("5", "3")] >= 2 and pairs[("8", "5")] >= 2  # filed as 5, are 3s
    written = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    assert written["accuracy"] == result["accuracy"]
    for name in ("confusion.png", "top_losses.png"):
        assert (tmp_path / "ev" / name).stat().st_size > 10_000


def test_an_unreadable_image_is_listed_not_fatal(digits, tmp_path):
    folder, _ = digits
    data = tmp_path / "data"
    for sub in folder.iterdir():
        (data / sub.name).mkdir(parents=True)
        for file in sub.iterdir():
            (data / sub.name / file.name).write_bytes(file.read_bytes())
    (data / "3" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    result = zoo.evaluate("mnist_convnet", data, progress=False)
    assert [path.rsplit("/", 1)[-1] for path, _ in result["bad_files"]] == ["broken.png"]
    assert result["images"] == 3 * PER_CLASS and result["written"] == []


def test_a_model_of_other_classes_is_refused_with_both_sides_named(digits, tmp_path):
    folder, _ = digits
    other = tmp_path / "letters"
    for name in ("a", "b"):
        (other / name).mkdir(parents=True)
        for file in list((folder / "3").iterdir())[:2]:
            (other / name / file.name).write_bytes(file.read_bytes())
    with pytest.raises(zoo.InputError, match=r"classes of .*letters \(a, b\) are not among"):
        zoo.evaluate("mnist_convnet", other, progress=False)
    with pytest.raises(zoo.InputError, match="not a classifier"):
        zoo.evaluate("prewitt", folder, progress=False)
    with pytest.raises(zoo.InputError, match="inside the data folder"):
        zoo.evaluate("mnist_convnet", folder, out=folder / "ev", progress=False)


def test_zoo_evaluate_prints_the_table_and_writes_json(digits, tmp_path):
    folder, _ = digits
    shown = run_zoo(
        "evaluate", "mnist_convnet", folder, "--out", tmp_path / "ev", "--quiet", check=True
    )
    assert "mnist_convnet: accuracy" in shown.stdout and "most confused: 5 as 3" in shown.stdout
    as_json = run_zoo("evaluate", "mnist_convnet", folder, "--out", tmp_path / "j", "--json")
    assert json.loads(as_json.stdout)["images"] == 3 * PER_CLASS


def test_most_confused_orders_by_count_then_labels():
    confusion = np.array([[5, 2, 0], [3, 4, 2], [0, 0, 7]])
    assert report.most_confused(confusion, ["a", "b", "c"]) == [
        ["b", "a", 3],
        ["a", "b", 2],
        ["b", "c", 2],
    ]
