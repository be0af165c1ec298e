"""`zoo bench` runs end to end on a few generated JPEGs and prints its table."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from zoo.bench.runtimes import make_jpegs

from conftest import run_zoo


def test_generated_jpegs_are_real_photos_sized(tmp_path):
    paths = make_jpegs(tmp_path, 3)
    images = [Image.open(path) for path in paths]
    assert [image.format for image in images] == ["JPEG"] * 3
    assert {image.size for image in images} == {(640, 480)}
    assert np.asarray(images[0]).std() > 20 and not np.array_equal(
        np.asarray(images[0]), np.asarray(images[1])
    )


@pytest.mark.slow  # ~1 min of CI's time; the bench's parts are tested below
def test_bench_prints_every_row(tmp_path):
    result = run_zoo(
        "bench",
        "--model",
        "mobilenet_v1_0.25_128",
        "--images",
        "16",
        "--naive-images",
        "4",
        "--batch-size",
        "8",
        "--rounds",
        "1",
        check=True,
        env={"KERAS_HOME": str(tmp_path), "ZOO_RUNTIME": ""},
    )
    table = result.stdout
    for runtime in ("tf", "onnx", "litert"):
        assert f"zoo features, {runtime}, end to end (16 files)" in table
        assert f"| pure compute, {runtime}, batch 8 |" in table
    for runtime in ("onnx", "litert"):  # 128 px: micro-batches of 12 > 8, so none
        assert f"pure compute, {runtime}, batch 8 in micro-batches" not in table
    assert "naive loop" in table and "next, `--runtime auto`" in table
    assert "first call − `--runtime tf`, paired per round (target ≤ 0.5 s) |" in table
    rows = [
        cells
        for cells in (line.split("|")[1:-1] for line in table.splitlines())
        if len(cells) == 4 and cells[1].strip().replace(".", "").isdigit()
    ]
    naive = float(next(cells[1] for cells in rows if cells[0].strip().startswith("naive loop")))
    pure = [float(cells[1]) for cells in rows if cells[0].strip().startswith("pure compute")]
    assert naive > 0 and len(rows) == 7  # naive, 3 end to end, 3 pure compute
    fastest = max(pure)
    for label, rate, versus_naive, versus_fastest in rows:  # the ratios are of the rates shown
        rate = float(rate)  # each shown to 0.1 image/s: the ratios of shown rates carry that
        slack = 0.05 / rate + 0.05 / naive  # rounding (relative), plus the ratio's own
        assert float(versus_naive) == pytest.approx(
            rate / naive, abs=rate / naive * slack + 0.051
        ), label
        slack = 0.05 / rate + 0.05 / fastest
        assert float(versus_fastest) == pytest.approx(
            rate / fastest, abs=rate / fastest * slack + 0.0051
        ), label


@pytest.mark.slow  # `make test-all`: exports both CPU engines' artefacts anew and times them (20 s)
def test_batch_sweep_prints_one_row_per_cpu_engine(tmp_path):
    result = run_zoo(
        "bench",
        "--model",
        "mobilenet_v1_0.25_128",
        "--batch-sweep",
        check=True,
        env={"KERAS_HOME": str(tmp_path)},
    )
    lines = result.stdout.splitlines()
    assert "| batch per call | 1 | 4 | 8 | 16 | 32 |" in lines
    rows = {
        line.split("|")[1].strip(): line.split("|")[2:-1]
        for line in lines
        if line.startswith(("| onnx", "| litert"))
    }
    assert set(rows) == {"onnx", "litert"}
    for cells in rows.values():
        low_high = [tuple(map(float, cell.strip().split("–"))) for cell in cells]
        assert len(low_high) == 5 and all(0 < low <= high for low, high in low_high)


def test_finetune_bench_prints_both_phases_side_by_side():
    from zoo.bench.finetune import finetune_bench

    table = finetune_bench("mnist_convnet", images=64, batch_size=32, repeats=1)
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 6  # the header and five measurements
    rates = [float(row.split("|")[2]) for row in rows[1:]]
    assert all(rate > 0 for rate in rates)
    assert "× a head epoch through the frozen backbone (target ≥ 20×)" in table
    assert "× plain model.fit (target ≥ 0.9×)" in table


@pytest.mark.slow
def test_int8_bench_measures_both_precisions_and_each_calibration_recipe(tmp_path, monkeypatch):
    import shutil

    from zoo.bench.int8 import fidelity, speed

    from conftest import IMAGENET_WEIGHTS

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    table = speed("mnist_convnet", images=8, weights=None, rounds=1)
    rates = {
        line.split("|")[1].strip(): float(line.split("|")[2])
        for line in table.splitlines()
        if line.startswith(("| pure", "| zoo"))
    }
    assert set(rates) == {
        "pure compute, float32, batch 32 in micro-batches",
        "pure compute, int8, batch 32 in micro-batches",
        "zoo features end to end, float32",
        "zoo features end to end, int8",
    }
    assert all(rate > 0 for rate in rates.values())
    assert "skipped, not in the weights cache: mobilenet_2_5_128_tf.h5" in fidelity()
    for name in ("mobilenet_2_5_128_tf.h5", "mobilenet_2_5_128_tf_no_top.h5"):
        shutil.copy(IMAGENET_WEIGHTS / name, tmp_path / "models")
    rows = [line for line in fidelity().splitlines() if line.startswith("| ") and "%" in line]
    assert len(rows) == 3  # one per recipe
    for row in rows:
        agreement, in_top5, cosine = (row.split("|")[i].strip() for i in (2, 3, 4))
        assert 0 <= float(agreement.rstrip("%")) <= float(in_top5.rstrip("%")) <= 100
        assert 0.5 < float(cosine) <= 1.0


def test_an_mnist_model_is_benchmarked_against_the_convnet(monkeypatch):
    import zoo.engines.engine
    from zoo.bench.mnist import mnist_bench

    monkeypatch.setattr(zoo.engines.engine, "installed", lambda: ["tf"])
    report = mnist_bench("mnist_rnn", batch_size=64, rounds=1)
    header, rule, row = report.splitlines()[2:5]
    assert "`mnist_rnn`" in header and "`mnist_rnn` / `mnist_convnet`" in header
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[0] == "tf" and float(cells[1]) > 0 and float(cells[2]) > 0
    assert float(cells[3]) == pytest.approx(float(cells[1]) / float(cells[2]), rel=0.02, abs=0.01)


def test_recipe_bench_times_every_recipe_and_its_augmentation_share():
    from zoo.bench.recipes import RECIPES, recipe_bench

    table = recipe_bench("mnist_convnet", images=64, batch_size=32, repeats=1)
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    cells = {row.split("|")[1].strip(): row.split("|")[2:5] for row in rows[1:]}
    assert list(cells) == [recipe[0] for recipe in RECIPES]
    for (what, _, augment, mix), (rate, ratio, share) in zip(RECIPES, cells.values(), strict=True):
        assert float(rate) > 0 and float(ratio) > 0
        share = float(share.strip().rstrip("%"))
        # nothing to augment or mix: no time in it; otherwise some, and never the whole epoch
        assert (share == 0) == (augment == "none" and mix == "none"), what
        assert share < 100
    assert float(cells[RECIPES[1][0]][1]) == 1.0  # today's default against itself
