"""`zoo cache list | path | pull | import | verify` and `zoo info` on cached ImageNet weights,
run as a user runs them, with a loopback HTTP server standing in for the weights server."""

from __future__ import annotations

import io
import json
import tarfile

from conftest import IMAGENET_WEIGHTS as WEIGHTS_DIR
from conftest import SHARED, assert_clean_error, run_zoo

TOP = "mobilenet_2_5_128_tf.h5"
NO_TOP = "mobilenet_2_5_128_tf_no_top.h5"
MODEL = "mobilenet_v1_0.25_128"


def env_for(home, mirror=None, offline=False):
    env = {"KERAS_HOME": str(home)}
    if mirror is not None:
        env["ZOO_WEIGHTS_MIRROR"] = f"{mirror.url}/good/"
    if offline:
        env["ZOO_OFFLINE"] = "1"
    return env


def test_pull_bundle_import_offline_round_trip(tmp_path, weights_server):
    online, offline = tmp_path / "online", tmp_path / "offline"
    bundle = tmp_path / "weights.tar"
    pulled = run_zoo(
        "cache", "pull", MODEL, "--bundle", bundle, env=env_for(online, weights_server), check=True
    )
    assert f"bundle written to {bundle}" in pulled.stdout
    assert sorted(p for p, _ in weights_server.requests) == [f"/good/{TOP}", f"/good/{NO_TOP}"]
    with tarfile.open(bundle) as tar:
        assert sorted(tar.getnames()) == sorted([TOP, NO_TOP, "zoo-bundle.json"])

    imported = run_zoo("cache", "import", bundle, env=env_for(offline, offline=True), check=True)
    assert "imported 2 files" in imported.stdout
    modes = {
        (home / "models" / name).stat().st_mode & 0o777
        for home in (online, offline)
        for name in (TOP, NO_TOP)
    }
    assert len(modes) == 1  # whoever may read a downloaded file may read an imported one
    listed = json.loads(run_zoo("cache", "list", "--json", env=env_for(offline), check=True).stdout)
    assert {row["file"]: row["trust"] for row in listed} == {
        TOP: "pinned sha256",
        NO_TOP: "pinned sha256",
    }
    verified = json.loads(
        run_zoo("cache", "verify", "--json", env=env_for(offline), check=True).stdout
    )
    assert {row["status"] for row in verified} == {"ok"}
    info = json.loads(run_zoo("info", MODEL, "--json", env=env_for(offline), check=True).stdout)
    assert info["weights"]["status"] == "ok"
    assert info["weights"]["path"] == str(offline / "models" / TOP)
    predicted = run_zoo(
        "predict",
        SHARED / "data" / "photos" / "coffee.png",
        "--model",
        MODEL,
        "--json",
        env=env_for(offline, offline=True),
        check=True,
    )
    assert json.loads(predicted.stdout)[0]["top"][0]["label"] == "espresso"


def test_cache_path_and_empty_list(tmp_path):
    assert run_zoo("cache", "path", env=env_for(tmp_path), check=True).stdout.strip() == str(
        tmp_path / "models"
    )
    assert (
        "holds no weights files"
        in run_zoo("cache", "list", env=env_for(tmp_path), check=True).stdout
    )


def test_verify_catches_a_corrupted_cache_file(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    data = bytearray((WEIGHTS_DIR / TOP).read_bytes())
    data[100] ^= 1
    (models / TOP).write_bytes(bytes(data))
    info = json.loads(run_zoo("info", MODEL, "--json", env=env_for(tmp_path), check=True).stdout)
    assert info["weights"]["status"] == "failed"  # info only looks: the file stays
    assert (models / TOP).exists()
    result = run_zoo("cache", "verify", env=env_for(tmp_path))
    assert result.returncode == 1
    assert "failed" in result.stdout and "expected" in result.stdout
    assert not (models / TOP).exists()  # verify moves a bad file aside
    assert [p.name.split(".bad-")[0] for p in models.glob("*.bad-*")] == [TOP]
    info = json.loads(run_zoo("info", MODEL, "--json", env=env_for(tmp_path), check=True).stdout)
    assert info["weights"]["status"] == "missing"


def _bundle_with(tmp_path, member: tarfile.TarInfo, data: bytes = b"") -> str:
    path = tmp_path / "evil.tar"
    entry = {"sha256": "0" * 64, "size": member.size}
    manifest = json.dumps({"files": {member.name: entry}}).encode()
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("zoo-bundle.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


def test_import_refuses_path_traversal_and_links(tmp_path):
    traversal = tarfile.TarInfo("../escape.h5")
    traversal.size = 3
    result = run_zoo(
        "cache", "import", _bundle_with(tmp_path, traversal, b"abc"), env=env_for(tmp_path / "home")
    )
    assert_clean_error(result, "path traversal")
    assert not (tmp_path / "home" / "escape.h5").exists()

    link = tarfile.TarInfo("mobilenet_2_5_128_tf.h5")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    assert_clean_error(
        run_zoo("cache", "import", _bundle_with(tmp_path, link), env=env_for(tmp_path / "home")),
        "is a link",
    )


def test_import_refuses_a_file_that_does_not_match_its_manifest(tmp_path):
    member = tarfile.TarInfo(TOP)
    data = (WEIGHTS_DIR / TOP).read_bytes()
    member.size = len(data)
    result = run_zoo(
        "cache", "import", _bundle_with(tmp_path, member, data), env=env_for(tmp_path / "home")
    )
    assert_clean_error(result, "its manifest says")
    assert not (tmp_path / "home" / "models" / TOP).exists()


def test_pull_of_a_model_without_downloads_is_a_clear_error(tmp_path):
    assert_clean_error(
        run_zoo("cache", "pull", "mnist_convnet", env=env_for(tmp_path)), "no downloadable weights"
    )
    assert_clean_error(run_zoo("cache", "pull", "resnet5O", env=env_for(tmp_path)), "Did you mean")
