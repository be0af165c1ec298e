"""Bad input, as a hostile user gives it (issue 11, items 14-17): decoder exceptions of every
kind, files found by content, bombs (images, weights files, bundles) refused before they
allocate, a fuzz run of the decoding path, and arguments and data files that make no sense."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image, ImageFile

import zoo
from zoo.errors import WeightsError
from zoo.inference.prediction import predict_files
from zoo.inputs.sources import find_sources, prepare_file
from zoo.weights import bundle

from conftest import ROOT, SAMPLES, assert_clean_error, run_zoo, run_zoo_measured

PHOTO = ROOT / "zoo" / "data" / "photos" / "cat.jpg"
MOBILENET = "mobilenet_v1_0.25_128"


# -- decoding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [EOFError("no more data"), struct.error("unpack requires 4 bytes"), NotImplementedError("x")],
)
def test_any_decoder_failure_is_an_error_of_that_file(monkeypatch, tmp_path, error):
    """Pillow's plugins raise many types on damaged files; each is one file's error."""
    real_load = ImageFile.ImageFile.load
    bad = tmp_path / "bad.png"
    shutil.copy(SAMPLES / "digit_1.png", bad)

    def load(image):
        if str(getattr(image.fp, "name", "")) == str(bad):
            raise error
        return real_load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    with pytest.raises(zoo.InputError, match=type(error).__name__):
        prepare_file(zoo.get_spec("mnist_convnet"), bad)
    results = predict_files("mnist_convnet", [bad, SAMPLES / "digit_2.png"], top=1)
    assert type(error).__name__ in results[0]["error"] and results[1]["top"][0]["label"] == "2"
    with pytest.raises(zoo.InputError, match="bad.png"):
        zoo.predict("mnist_convnet", [bad])


def test_a_short_fuzz_run_of_the_decoding_path_finds_nothing():
    """`make fuzz` runs thousands of rounds; this is its smoke run (seeded, so repeatable)."""
    from fuzz_decode import fuzz

    result = fuzz(400, seed=3)
    assert result["findings"] == [], result["findings"]
    assert result["decoded"] > 50 and result["refused"] > 50


def test_images_are_found_by_content_and_the_rest_listed(tmp_path, capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(PHOTO, folder / "a.jfif")
    shutil.copy(PHOTO, folder / "b.jpe")
    shutil.copy(PHOTO, folder / "IMG_0003")  # a photo saved without a suffix
    Image.open(PHOTO).save(folder / "c.webp")
    (folder / "notes.txt").write_text("not a picture")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    source = find_sources(folder)
    assert sorted(os.path.basename(p) for p in source.paths) == [
        "IMG_0003",
        "a.jfif",
        "b.jpe",
        "c.webp",
    ]
    assert sorted(os.path.basename(p) for p in source.skipped) == [".DS_Store", "notes.txt"]
    results = predict_files(MOBILENET, folder, weights=None, top=1)
    assert len(results) == 4 and all("top" in r for r in results)
    assert "skipped, not images: 2 file(s)" in capsys.readouterr().err
    cli = run_zoo("features", folder, "--model", MOBILENET, "--weights", "none", "--quiet")
    assert cli.returncode == 0 and "4 images" in cli.stdout
    assert "skipped, not images: 2 file(s) (.DS_Store, notes.txt)" in cli.stderr
    (folder / "only.txt").write_text("x")
    for name in ("IMG_0003", "a.jfif", "b.jpe", "c.webp"):
        (folder / name).unlink()
    with pytest.raises(zoo.InputError, match="not images: .DS_Store, notes.txt, only.txt"):
        find_sources(folder)


# -- bombs ----------------------------------------------------------------------------------


def _blank_png(path, width: int, height: int) -> None:
    """A PNG of ``width`` x ``height`` black grey pixels, written without holding them."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + pixels
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


PEAK_MEMORY = """
import resource, sys
import zoo
from zoo.inputs.sources import prepare_file
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    prepare_file(zoo.get_spec(sys.argv[2]), sys.argv[1])
    print("decoded", end=" ")
except zoo.InputError as error:
    print("refused", end=" ")
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_an_image_in_pillows_warning_band_is_refused_before_decoding(tmp_path):
    """10,000 x 10,000 pixels: over Pillow's limit (89.5 million) but under twice it, where
    Pillow only warns. Measured in a fresh process: the peak memory it adds, in MiB."""
    path = tmp_path / "bomb.png"
    _blank_png(path, 10_000, 10_000)
    assert path.stat().st_size < 200_000
    result = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY, str(path), MOBILENET],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    verdict, grown_mib = result.stdout.split()
    assert verdict == "refused" and int(grown_mib) < 32, result.stdout


def test_a_weights_file_declaring_a_huge_kernel_is_refused_before_reading(tmp_path):
    """A 28 KB legacy .h5 laid out like the model's weights, but declaring a 16384 x 16384
    first kernel: Keras would read 1 GiB before noticing the shape (measured: +1029 MiB)."""
    model = zoo.load("mnist_convnet", weights=None)
    layers = [layer for layer in model.layers if layer.weights]
    path = tmp_path / "bomb.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["layer_names"] = [layer.name.encode() for layer in layers]
        for index, layer in enumerate(layers):
            names = [f"{layer.name}/{weight.name}:0" for weight in layer.weights]
            group = handle.create_group(layer.name)
            group.attrs["weight_names"] = [name.encode() for name in names]
            for name, weight in zip(names, layer.weights, strict=True):
                huge = index == 0 and name.endswith("kernel:0")
                group.create_dataset(name, (16384, 16384) if huge else weight.shape, "float32")
    assert path.stat().st_size < 100_000
    with pytest.raises(WeightsError, match=r"16384, 16384.*refused before reading"):
        zoo.load("mnist_convnet", weights=path)


def test_a_compressed_bundle_that_would_expand_a_thousandfold_is_refused(tmp_path):
    data = b"\x00" * (64 << 20)
    name = zoo.get_spec("resnet50").weights.file
    manifest = {"files": {name: {"sha256": "0" * 64, "size": len(data)}}}
    path = tmp_path / "bomb.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for member, body in (("zoo-bundle.json", json.dumps(manifest).encode()), (name, data)):
            info = tarfile.TarInfo(member)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    assert path.stat().st_size < 200_000
    home = tmp_path / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(home))
        with pytest.raises(WeightsError, match="decompression bomb"):
            bundle.import_bundle(path)
    written = [p for p in home.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    assert written == []
    assert gzip.decompress(path.read_bytes())  # a real gzip: refused for its ratio alone


def test_a_bundle_of_many_headers_is_refused_reading_no_further_than_the_cap(tmp_path):
    many = tmp_path / "many.tar.gz"  # 20,000 empty members (the review's had 2 million)
    with gzip.open(many, "wb") as stream:
        for index in range(20_000):
            stream.write(tarfile.TarInfo(f"{index:07d}.h5").tobuf(tarfile.USTAR_FORMAT))
        stream.write(bytes(1024))  # the end-of-archive blocks
    long_headers = tmp_path / "pax.tar"  # three members whose pax records hold 600 KB each
    with tarfile.open(long_headers, "w", format=tarfile.PAX_FORMAT) as tar:
        for index in range(3):
            info = tarfile.TarInfo(f"{index}.h5")
            info.pax_headers = {"comment": "x" * 600_000}
            tar.addfile(info, io.BytesIO(b""))
    for path in (many, long_headers):
        message = "over 1024 members or 1 MiB of headers"
        with pytest.raises(WeightsError, match=message):
            bundle.import_bundle(path)
        result = run_zoo("cache", "import", path, env={"KERAS_HOME": str(tmp_path / "k")})
        assert_clean_error(result, message)


# -- arguments and data that make no sense --------------------------------------------------


def test_a_backbone_built_at_another_size_predicts_at_that_size():
    model = zoo.load(MOBILENET, weights=None, include_top=False, input_shape=(96, 96, 3))
    batch = np.random.default_rng(0).integers(0, 256, (2, 96, 96, 3)).astype("float32")
    outputs = zoo.predict(model, batch)
    assert outputs.shape == (2, *model.outputs[0].shape[1:])
    assert len(zoo.predict(model, [PHOTO])) == 1  # the file resized to 96 px
    with pytest.raises(zoo.InputError, match=r"\(N, 96, 96, 3\)"):
        zoo.predict(model, batch[:, :64, :64])


@pytest.mark.parametrize(
    "option, value", [("--epochs", "0"), ("--epochs", "-1"), ("--limit", "-5")]
)
def test_classics_train_refuses_counts_that_are_not_positive(tmp_path, option, value):
    result = run_zoo("classics", "train", "softmax_regression", "--out", tmp_path, option, value)
    assert_clean_error(result, f"{option} must be a positive integer", repr(int(value)))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "damage, message",
    [("label 10", "labels must be 0..9, found 0..10"), ("nan pixel", "NaN or infinite pixel")],
)
def test_a_broken_mnist_file_is_a_clear_error(tmp_path, damage, message):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (20, 28, 28)).astype("float32"),
        "y_train": np.arange(20) % 10,
        "x_test": rng.integers(0, 256, (10, 28, 28)).astype("uint8"),
        "y_test": np.arange(10) % 10,
    }
    if damage == "label 10":
        arrays["y_train"][3] = 10
    else:
        arrays["x_train"][2, 5, 5] = np.nan
    path = tmp_path / "mnist.npz"
    np.savez(path, **arrays)
    result = run_zoo("classics", "train", "softmax_regression", "--out", tmp_path / "o",
                     "--data", path, "--epochs", "1")  # fmt: skip
    assert_clean_error(result, message)


def _npy_header(shape: tuple[int, ...]) -> bytes:
    from numpy.lib import format as npy

    out = io.BytesIO()
    npy.write_array_header_1_0(out, {"descr": "|u1", "fortran_order": False, "shape": shape})
    return out.getvalue()


@pytest.fixture(scope="module")
def mnist_bomb(tmp_path_factory) -> Path:
    """The review's file: 1.5 MB of deflated zeros declaring 2,000,000 digits (1.57 GB)."""
    path = tmp_path_factory.mktemp("bomb") / "mnist.npz"
    count, chunk = 2_000_000, bytes(16 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("x_train.npy", "w", force_zip64=True) as member:
            member.write(_npy_header((count, 28, 28)))
            for start in range(0, count * 784, len(chunk)):
                member.write(chunk[: min(len(chunk), count * 784 - start)])
        for key, shape in (("y_train", (count,)), ("x_test", (1, 28, 28)), ("y_test", (1,))):
            with archive.open(f"{key}.npy", "w") as member:
                member.write(_npy_header(shape) + bytes(int(np.prod(shape))))
    return path


def test_an_mnist_file_declaring_gigabytes_is_refused_before_reading(mnist_bomb, tmp_path):
    assert mnist_bomb.stat().st_size < 2 << 20
    train = ("classics", "train", "softmax_regression", "--out", tmp_path / "o", "--epochs", "1")
    result, peak = run_zoo_measured(*train, "--data", mnist_bomb)
    assert_clean_error(result, "declare 1.46 GiB, over the 1 GiB an MNIST file may hold")
    assert peak < 400, f"peaked at {peak:.0f} MiB"  # 1.56 GB read before
    liar = tmp_path / "liar.npz"  # a header declaring 2,000,000 digits over 1 KB of data
    with zipfile.ZipFile(liar, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("x_train.npy", _npy_header((2_000_000, 28, 28)) + bytes(1024))
        for key, shape in (("y_train", (10,)), ("x_test", (1, 28, 28)), ("y_test", (1,))):
            archive.writestr(f"{key}.npy", _npy_header(shape) + bytes(int(np.prod(shape))))
    result = run_zoo("classics", "table", "softmax_regression", "--data", liar)
    assert_clean_error(result, "x_train declares (2000000, 28, 28) uint8", "more than its")
