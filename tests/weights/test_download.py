"""Downloads and the cache, for real, against an HTTP weights_server on 127.0.0.1 serving the real
Keras MobileNet files from ../shared and deliberately broken versions of them."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import zoo
from zoo.hashing import file_hashes
from zoo.weights import cache
from zoo.weights.cache import MissingWeightsError

from conftest import IMAGENET_WEIGHTS as WEIGHTS_DIR
from conftest import ROOT

FILE = "mobilenet_2_5_128_tf.h5"
SHA256 = "fe295db7f78635f1403127e3ba8cdc6237f83262bdb745063a67c1d81190c7f8"


@pytest.fixture(autouse=True)
def private_cache(private_weights_cache):
    return private_weights_cache


def weights(url: str, sha256: str | None = SHA256):
    base = zoo.get_spec("mobilenet_v1_0.25_128").weights
    return dataclasses.replace(base, url=url, sha256=sha256, md5=None)


def test_spec_carries_the_known_sha256():
    assert zoo.get_spec("mobilenet_v1_0.25_128").weights.sha256 == SHA256
    assert zoo.get_spec("mobilenet_v1_0.25_128").weights.file == FILE


def test_download_verifies_and_moves_into_place(weights_server, private_cache):
    path = cache.fetch(weights(f"{weights_server.url}/good/{FILE}"), progress=False)
    assert path == private_cache / FILE
    assert file_hashes(path)["sha256"] == SHA256
    assert sorted(p.name for p in private_cache.iterdir() if not p.name.endswith(".lock")) == [
        FILE,
        cache.MANIFEST_NAME,
    ]
    manifest = cache.read_manifest()
    assert manifest[FILE]["sha256"] == SHA256 and manifest[FILE]["pinned"] is True
    # a cache hit opens no connection
    before = len(weights_server.requests)
    assert cache.fetch(weights(f"{weights_server.url}/good/{FILE}")) == path
    assert len(weights_server.requests) == before


@pytest.mark.parametrize("mode", ["flipped", "truncated"])
def test_bad_download_is_refused_and_moved_aside(weights_server, private_cache, mode):
    url = f"{weights_server.url}/{mode}/{FILE}"
    with pytest.raises(zoo.WeightsHashError) as caught:
        cache.fetch(weights(url), progress=False)
    message = str(caught.value)
    assert url in message and SHA256 in message and "nothing was loaded" in message
    assert not (private_cache / FILE).exists()
    assert any(".bad-" in p.name for p in private_cache.iterdir())


def test_dropped_connection_resumes_with_range(weights_server, private_cache):
    path = cache.fetch(weights(f"{weights_server.url}/drop/{FILE}"), progress=False)
    assert file_hashes(path)["sha256"] == SHA256
    ranges = [
        header for request_path, header in weights_server.requests if request_path.endswith(FILE)
    ]
    size = (WEIGHTS_DIR / FILE).stat().st_size
    assert ranges == [None, f"bytes={size // 2}-"]


def test_server_error_is_retried(weights_server):
    path = cache.fetch(weights(f"{weights_server.url}/flaky/{FILE}"), progress=False)
    assert file_hashes(path)["sha256"] == SHA256
    assert len(weights_server.requests) == 2


@pytest.mark.parametrize("status, retried", [("404", False), ("500", True)])
def test_http_errors_say_what_and_where(weights_server, private_cache, status, retried):
    url = f"{weights_server.url}/{status}/{FILE}"
    with pytest.raises(MissingWeightsError) as caught:
        cache.fetch(weights(url), progress=False)
    message = str(caught.value)
    assert f"HTTP {status}" in message and url in message
    assert str(private_cache / FILE) in message
    assert len(weights_server.requests) == (5 if retried else 1)
    assert not (private_cache / FILE).exists()


def test_offline_never_connects_and_answers_at_once(weights_server, private_cache, monkeypatch):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    started = time.perf_counter()
    with pytest.raises(MissingWeightsError) as caught:
        cache.fetch(weights(f"{weights_server.url}/good/{FILE}"))
    assert time.perf_counter() - started < 1.0
    message = str(caught.value)
    assert "ZOO_OFFLINE=1" in message
    assert f"{weights_server.url}/good/{FILE}" in message and str(private_cache / FILE) in message
    assert weights_server.requests == []


def test_unreachable_network_gives_the_same_help(private_cache):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/good/{FILE}"
    with pytest.raises(MissingWeightsError) as caught:
        cache.fetch(weights(url), progress=False)
    message = str(caught.value)
    assert "download failed" in message and url in message and str(private_cache / FILE) in message


def test_unpinned_file_is_trusted_on_first_use_then_checked(weights_server, private_cache):
    unpinned = weights(f"{weights_server.url}/good/{FILE}", sha256=None)
    path = cache.fetch(unpinned, progress=False)
    manifest = cache.read_manifest()
    assert manifest[FILE] == {**manifest[FILE], "sha256": SHA256, "pinned": False}
    data = bytearray(path.read_bytes())
    data[1000] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(zoo.WeightsHashError, match=SHA256):
        cache.fetch(unpinned)
    assert not path.exists()  # moved aside


def test_corrupt_cache_hit_is_refused_then_redownloaded(weights_server, private_cache):
    good = weights(f"{weights_server.url}/good/{FILE}")
    path = cache.fetch(good, progress=False)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(zoo.WeightsHashError, match="moved to"):
        cache.fetch(good)
    assert file_hashes(cache.fetch(good, progress=False))["sha256"] == SHA256


def test_concurrent_processes_end_with_one_good_file(weights_server, private_cache):
    code = (
        "import dataclasses, sys, zoo\nfrom zoo import cache\n"
        "w = dataclasses.replace(zoo.get_spec('mobilenet_v1_0.25_128').weights, url=sys.argv[1])\n"
        "print(cache.fetch(w, progress=False))\n"
    )
    env = {**os.environ, "KERAS_HOME": str(private_cache.parent)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", code, f"{weights_server.url}/drop/{FILE}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0] * 4, outputs
    assert {out.strip() for out, _ in outputs} == {str(private_cache / FILE)}
    assert file_hashes(private_cache / FILE)["sha256"] == SHA256
    leftovers = [
        p.name
        for p in private_cache.iterdir()
        if p.name.endswith((".part", ".tmp")) or ".bad-" in p.name
    ]
    assert leftovers == []


def test_mirror_replaces_the_origin(weights_server, monkeypatch):
    monkeypatch.setenv("ZOO_WEIGHTS_MIRROR", f"{weights_server.url}/good/")
    path = cache.fetch(zoo.get_spec("mobilenet_v1_0.25_128").weights, progress=False)
    assert file_hashes(path)["sha256"] == SHA256
    assert weights_server.requests == [(f"/good/{FILE}", None)]


def test_keras_cache_folder_is_shared(private_cache):
    assert cache.cache_dir() == private_cache
    assert json.loads(json.dumps(cache.read_manifest())) == {}
    assert Path(cache.cached_path(weights("http://x/y"))).parent == private_cache
