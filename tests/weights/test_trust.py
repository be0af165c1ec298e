"""Trust in the weights cache, attacked (issue 11): bundles that try to rewrite the trust store,
first downloads that are not weights files, files no hash vouches for, a corrupt manifest, bad
copies piling up, file systems without locks, a read-only cache and a download killed midway.
Downloads come from a real HTTP server on 127.0.0.1 serving the real Keras MobileNet files."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time

import pytest

import zoo
from zoo.errors import WeightsError
from zoo.hashing import file_hashes
from zoo.weights import bundle, cache, download

from conftest import IMAGENET_WEIGHTS as WEIGHTS_DIR
from conftest import ROOT, assert_clean_error, run_zoo

TOP = "mobilenet_2_5_128_tf.h5"
SHA256 = "fe295db7f78635f1403127e3ba8cdc6237f83262bdb745063a67c1d81190c7f8"
#: A file of a registered model that no hash is pinned for (trusted on first use).
UNPINNED_MODEL = "mobilenet_v2_1.0_224"


@pytest.fixture(autouse=True)
def private_cache(private_weights_cache):
    return private_weights_cache


def unpinned(url: str):
    """The MobileNet 0.25 @128 file's spec with its pin removed: trusted on first use."""
    base = zoo.get_spec("mobilenet_v1_0.25_128").weights
    return dataclasses.replace(base, url=url, sha256=None, md5=None)


def write_bundle(path, files: dict[str, bytes], manifest: dict | None = None) -> None:
    """A bundle holding ``files``; its manifest lists them truthfully unless ``manifest``."""
    if manifest is None:
        manifest = {
            "files": {
                name: {"sha256": file_hashes_of(data), "size": len(data)}
                for name, data in files.items()
            }
        }
    with tarfile.open(path, "w") as tar:
        for name, data in {"zoo-bundle.json": json.dumps(manifest).encode(), **files}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def file_hashes_of(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# -- bundles --------------------------------------------------------------------------------


def test_a_bundle_cannot_replace_the_trust_manifest(tmp_path, private_cache):
    """The attack of issue 11 item 1: a chosen manifest vouching for a chosen weights file."""
    victim = zoo.get_spec(UNPINNED_MODEL).weights.file
    evil = b"not the weights"
    chosen_manifest = json.dumps(
        {"files": {victim: {"sha256": file_hashes_of(evil), "url": "x", "pinned": False}}}
    ).encode()
    path = tmp_path / "evil.tar"
    write_bundle(path, {"zoo-manifest.json": chosen_manifest, victim: evil})
    with pytest.raises(WeightsError, match="zoo-manifest.json is not a weights file"):
        bundle.import_bundle(path)
    assert not (private_cache / "zoo-manifest.json").exists()
    assert not (private_cache / victim).exists()
    for bookkeeping in ("zoo-runtimes", f"{victim}.lock", "choices.json"):
        write_bundle(path, {bookkeeping: b"x"})
        with pytest.raises(WeightsError, match="not a weights file"):
            bundle.import_bundle(path)


def test_a_bundled_file_no_hash_is_pinned_for_must_be_weights_of_its_spec(tmp_path, private_cache):
    victim = zoo.get_spec(UNPINNED_MODEL).weights.file
    path = tmp_path / "b.tar"
    write_bundle(path, {victim: b"<html>Please sign in</html>"})
    with pytest.raises(WeightsError, match="not a readable HDF5 weights file"):
        bundle.import_bundle(path)
    other_weights = (WEIGHTS_DIR / TOP).read_bytes()  # HDF5, but MobileNet v1's layers
    write_bundle(path, {victim: other_weights})
    with pytest.raises(WeightsError, match="lacks layers"):
        bundle.import_bundle(path)
    assert sorted(p.name for p in private_cache.iterdir() if not p.name.endswith(".lock")) == []


def test_a_bundle_member_larger_than_its_manifest_says_is_refused_unread(tmp_path, private_cache):
    data = (WEIGHTS_DIR / TOP).read_bytes()
    path = tmp_path / "b.tar"
    write_bundle(path, {TOP: data}, {"files": {TOP: {"sha256": SHA256, "size": 1000}}})
    with pytest.raises(WeightsError, match=f"{len(data)} bytes, its manifest says 1000"):
        bundle.import_bundle(path)
    assert not private_cache.exists() or list(private_cache.iterdir()) == []


@pytest.mark.parametrize(
    "damage, message",
    [
        ("truncated", "not a readable tar file"),
        ("bad json", "not a bundle manifest"),
        ("no files field", "not a bundle manifest"),
        ("no sha256", "no valid sha256"),
        ("no size", "no size"),
        ("folder member", "not a regular file"),
    ],
)
def test_a_malformed_bundle_is_a_clear_error(tmp_path, private_cache, damage, message):
    data = (WEIGHTS_DIR / TOP).read_bytes()
    path = tmp_path / "b.tar"
    entry = {"sha256": SHA256, "size": len(data)}
    if damage == "truncated":
        write_bundle(path, {TOP: data})
        path.write_bytes(path.read_bytes()[: len(data) // 2])
    elif damage == "bad json":
        with tarfile.open(path, "w") as tar:
            info = tarfile.TarInfo("zoo-bundle.json")
            info.size = 5
            tar.addfile(info, io.BytesIO(b"{oops"))
    elif damage == "no files field":
        write_bundle(path, {TOP: data}, {"file": {TOP: entry}})
    elif damage in ("no sha256", "no size"):
        key = "sha256" if damage == "no sha256" else "size"
        write_bundle(
            path, {TOP: data}, {"files": {TOP: {k: v for k, v in entry.items() if k != key}}}
        )
    else:
        write_bundle(path, {TOP: data})
        with tarfile.open(path, "a") as tar:
            folder = tarfile.TarInfo("weights")
            folder.type = tarfile.DIRTYPE
            tar.addfile(folder)
    with pytest.raises(WeightsError, match=message):
        bundle.import_bundle(path)
    assert_clean_error(
        run_zoo("cache", "import", path, env={"KERAS_HOME": str(tmp_path / "k")}), message
    )


# -- first use ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["html", "short"])
def test_first_use_records_only_a_real_weights_file(weights_server, private_cache, mode):
    """An HTML '200 OK' page, or a body cut short with no Content-Length, never becomes the
    trusted hash of a file no hash is pinned for."""
    spec = unpinned(f"{weights_server.url}/{mode}/{TOP}")
    with pytest.raises(WeightsError, match="was refused") as caught:
        cache.fetch(spec, progress=False)
    assert "nothing was recorded" in str(caught.value)
    assert cache.read_manifest() == {}
    assert sorted(p.name for p in private_cache.iterdir() if not p.name.endswith(".lock")) == []
    path = cache.fetch(unpinned(f"{weights_server.url}/good/{TOP}"), progress=False)
    assert cache.read_manifest()[TOP]["sha256"] == SHA256 == file_hashes(path)["sha256"]


def test_a_cached_file_no_hash_vouches_for_is_checked_then_recorded(private_cache):
    """A file someone else put in the cache (Keras' get_file) gets the first-use checks."""
    spec = unpinned("http://127.0.0.1:9/unused")
    private_cache.mkdir(parents=True)
    (private_cache / TOP).write_bytes(b"<html>not weights</html>")
    with pytest.raises(WeightsError, match="no recorded hash; nothing was loaded"):
        cache.fetch(spec, offline=True)
    assert not (private_cache / TOP).exists()
    (private_cache / TOP).write_bytes((WEIGHTS_DIR / TOP).read_bytes())
    assert cache.fetch(spec, offline=True) == private_cache / TOP
    assert cache.read_manifest()[TOP]["sha256"] == SHA256
    data = bytearray((private_cache / TOP).read_bytes())
    data[5000] ^= 1  # from now on the recorded hash guards it
    (private_cache / TOP).write_bytes(bytes(data))
    with pytest.raises(zoo.WeightsHashError):
        cache.fetch(spec, offline=True)


def test_a_corrupt_manifest_is_an_error_never_a_silent_reset(private_cache):
    private_cache.mkdir(parents=True)
    (private_cache / TOP).write_bytes((WEIGHTS_DIR / TOP).read_bytes())
    manifest = private_cache / cache.MANIFEST_NAME
    for garbage in ('{"files": {"a.h5": {"sha2', '{"files": [1, 2]}', "[]"):
        manifest.write_text(garbage)
        with pytest.raises(WeightsError, match="is corrupt") as caught:
            cache.fetch(unpinned("http://127.0.0.1:9/unused"), offline=True)
        assert str(manifest) in str(caught.value)
        assert manifest.read_text() == garbage
    assert_clean_error(
        run_zoo("cache", "list", env={"KERAS_HOME": str(private_cache.parent)}), "is corrupt"
    )


def test_only_the_last_bad_copy_is_kept(weights_server, private_cache):
    private_cache.mkdir(parents=True)
    older = [private_cache / f"{TOP}.bad-20250101-000000-{pid}" for pid in (1, 2)]
    for path in older:  # left by earlier failed downloads
        path.write_bytes(b"bad")
    bad = dataclasses.replace(unpinned(f"{weights_server.url}/flipped/{TOP}"), sha256=SHA256)
    with pytest.raises(zoo.WeightsHashError):
        cache.fetch(bad, progress=False)
    kept = [p for p in private_cache.iterdir() if ".bad-" in p.name]
    assert len(kept) == 1 and kept[0] not in older
    assert kept[0].stat().st_size == (WEIGHTS_DIR / TOP).stat().st_size


def test_trust_is_stated_per_file(private_cache):
    info = json.loads(
        run_zoo(
            "info",
            "mobilenet_v1_0.25_128",
            "--json",
            check=True,
            env={"KERAS_HOME": str(private_cache.parent)},
        ).stdout
    )
    assert info["weights"]["trust"] == info["weights_no_top"]["trust"] == "pinned sha256"
    info = json.loads(
        run_zoo(
            "info",
            UNPINNED_MODEL,
            "--json",
            check=True,
            env={"KERAS_HOME": str(private_cache.parent)},
        ).stdout
    )
    assert info["weights"]["trust"] == "trusted on first use"
    info = json.loads(
        run_zoo(
            "info", "resnet50", "--json", check=True, env={"KERAS_HOME": str(private_cache.parent)}
        ).stdout
    )
    assert info["weights"]["trust"] == "pinned md5 (upstream's)"


def test_verify_checks_the_headless_file_too(private_cache):
    model = "mobilenet_v1_0.25_128"
    private_cache.mkdir(parents=True)
    for name in (TOP, "mobilenet_2_5_128_tf_no_top.h5"):
        (private_cache / name).write_bytes((WEIGHTS_DIR / name).read_bytes())
    no_top = private_cache / "mobilenet_2_5_128_tf_no_top.h5"
    no_top.write_bytes(no_top.read_bytes()[:-100])
    rows = zoo.verify([model])
    assert {row["weights"]: row["status"] for row in rows} == {"top": "ok", "no top": "failed"}
    result = run_zoo("verify", model, env={"KERAS_HOME": str(private_cache.parent)})
    assert result.returncode == 1 and "no top" in result.stdout and "failed" in result.stdout


# -- faults ---------------------------------------------------------------------------------

FETCH = (
    "import contextlib, dataclasses, sys, zoo\nfrom zoo import cache\n"
    "if sys.argv[2] == 'nolock':\n"
    "    cache.file_lock = lambda *a, **k: contextlib.nullcontext()\n"
    "w = dataclasses.replace(zoo.get_spec('mobilenet_v1_0.25_128').weights, url=sys.argv[1])\n"
    "print(cache.fetch(w, progress=False))\n"
)


def test_without_a_working_lock_eight_processes_end_with_one_good_file(
    weights_server, private_cache
):
    """NFS and friends: the lock does nothing, and correctness must not depend on it."""
    env = {**os.environ, "KERAS_HOME": str(private_cache.parent)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", FETCH, f"{weights_server.url}/drop/{TOP}", "nolock"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(8)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0] * 8, outputs
    assert {out.strip() for out, _ in outputs} == {str(private_cache / TOP)}
    assert file_hashes(private_cache / TOP)["sha256"] == SHA256
    names = sorted(p.name for p in private_cache.iterdir() if not p.name.endswith(".lock"))
    assert names == sorted([cache.MANIFEST_NAME, TOP])


def test_a_download_killed_midway_leaves_nothing_at_the_final_path(weights_server, private_cache):
    env = {**os.environ, "KERAS_HOME": str(private_cache.parent)}
    worker = subprocess.Popen(
        [sys.executable, "-c", FETCH, f"{weights_server.url}/slow/{TOP}", "lock"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    # the kill comes once the first half, all but its last partial chunk, is on disk
    written = (WEIGHTS_DIR / TOP).stat().st_size // 2 // download.CHUNK_SIZE * download.CHUNK_SIZE
    while time.monotonic() < deadline:
        parts = list(private_cache.glob("*.part")) if private_cache.exists() else []
        if parts and parts[0].stat().st_size >= written > 0:
            break
        time.sleep(0.05)
    else:
        worker.kill()
        pytest.fail("the download never wrote its first half")
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    weights_server.release.set()
    assert not (private_cache / TOP).exists()
    spec = dataclasses.replace(zoo.get_spec("mobilenet_v1_0.25_128").weights)
    spec = dataclasses.replace(spec, url=f"{weights_server.url}/good/{TOP}")
    assert file_hashes(cache.fetch(spec, progress=False))["sha256"] == SHA256


def test_an_interrupted_download_is_resumed_by_the_next_call(weights_server, private_cache):
    spec = dataclasses.replace(
        zoo.get_spec("mobilenet_v1_0.25_128").weights, url=f"{weights_server.url}/good/{TOP}"
    )
    private_cache.mkdir(parents=True)
    data = (WEIGHTS_DIR / TOP).read_bytes()
    (private_cache / f"{TOP}.part").write_bytes(data[:1000])  # left by an interrupted call
    assert file_hashes(cache.fetch(spec, progress=False))["sha256"] == SHA256
    assert weights_server.requests == [(f"/good/{TOP}", "bytes=1000-")]
    assert not list(private_cache.glob("*.part"))


READ_ONLY = """
set -e
mount --bind "$CACHE" "$CACHE"
mount -o remount,ro,bind "$CACHE"
touch "$CACHE/models/probe" 2>/dev/null && { echo "cache is writable"; exit 3; }
exec "$PYTHON" -c "$CODE"
"""


def test_a_read_only_cache_serves_valid_files(weights_server, private_cache):
    """A shared, pre-filled KERAS_HOME mounted read-only (a read-only bind mount in a private
    mount namespace: root ignores permission bits)."""
    spec = dataclasses.replace(
        zoo.get_spec("mobilenet_v1_0.25_128").weights, url=f"{weights_server.url}/good/{TOP}"
    )
    cache.fetch(spec, progress=False)
    (private_cache / f"{TOP}.lock").unlink(missing_ok=True)
    code = (
        "import zoo, zoo.weights.cache as c\n"
        "print(c.fetch(zoo.get_spec('mobilenet_v1_0.25_128').weights))\n"
        "try:\n"
        "    c.fetch(zoo.get_spec('mobilenet_v1_0.25_128').weights_no_top)\n"
        "except zoo.WeightsError as e:\n"
        "    print('REFUSED', e)\n"
    )
    env = {
        **os.environ,
        "CACHE": str(private_cache.parent),
        "KERAS_HOME": str(private_cache.parent),
        "PYTHON": sys.executable,
        "CODE": code,
        "ZOO_WEIGHTS_MIRROR": f"{weights_server.url}/good/",
    }
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", READ_ONLY], env=env, cwd=ROOT, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == str(private_cache / TOP)
    assert lines[1].startswith("REFUSED") and "read-only" in lines[1]
    assert "Traceback" not in result.stderr
