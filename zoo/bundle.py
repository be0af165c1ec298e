"""``zoo cache``: list and verify the weights cache, and move it to air-gapped machines as a
tar bundle with a sha256 manifest. No TensorFlow import.

Example:
    $ zoo cache pull resnet50 mobilenet_v2_1.0_224 --bundle weights.tar   # on a connected machine
    $ zoo cache import weights.tar                                        # on the offline one
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path

from zoo import registry
from zoo.cache import (
    MANIFEST_NAME,
    cache_dir,
    check_file,
    expected_hash,
    fetch,
    manifest_entry,
    read_manifest,
    record_in_manifest,
)
from zoo.errors import WeightsError, WeightsHashError, ZooError
from zoo.hashing import file_hashes
from zoo.spec import WeightsSpec

BUNDLE_MANIFEST = "zoo-bundle.json"


def known_files() -> dict[str, tuple[WeightsSpec, list[str]]]:
    """Cache file name -> (its weights spec, the models that use it), over the registry."""
    files: dict[str, tuple[WeightsSpec, list[str]]] = {}
    for name in registry.list_models():
        spec = registry.get_spec(name)
        for weights in (spec.weights, spec.weights_no_top):
            if weights is not None and weights.source == "url":
                files.setdefault(weights.file, (weights, []))[1].append(name)
    return files


def weights_of(names: Iterable[str], include_no_top: bool = True) -> list[WeightsSpec]:
    """The downloadable weights files of ``names`` (with their headless files)."""
    result = []
    for name in names:
        spec = registry.get_spec(name)
        candidates = [spec.weights] + ([spec.weights_no_top] if include_no_top else [])
        downloadable = [w for w in candidates if w is not None and w.source == "url"]
        if not downloadable:
            raise ZooError(
                f"Model {name!r} has no downloadable weights (its weights are "
                f"{spec.weights.source if spec.weights else 'none'})"
            )
        result.extend(w for w in downloadable if w not in result)
    return result


def list_cache() -> list[dict]:
    """One row per file in the cache folder: name, size, models, and how it is trusted."""
    folder = cache_dir()
    known = known_files()
    manifest = read_manifest()
    rows = []
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        if (
            not path.is_file()
            or path.name.endswith((".lock", ".part", ".tmp"))
            or path.name == MANIFEST_NAME
            or ".bad-" in path.name
        ):
            continue
        weights, models = known.get(path.name, (None, []))
        if weights is not None and (weights.sha256 or weights.md5):
            trust = "pinned hash"
        elif path.name in manifest:
            trust = "sha256 recorded at first download"
        else:
            trust = "unknown to zoo"
        rows.append(
            {"file": path.name, "size": path.stat().st_size, "models": models, "trust": trust}
        )
    return rows


def verify_cache() -> list[dict]:
    """Check every known file in the cache; bad files are moved aside."""
    manifest = read_manifest()
    rows = []
    for row in list_cache():
        weights = known_files().get(row["file"], (None, []))[0]
        if weights is None:
            rows.append(
                {**row, "status": "skipped", "detail": "not a file of any registered model"}
            )
            continue
        path = cache_dir() / row["file"]
        if expected_hash(weights, manifest) is None:
            rows.append({**row, "status": "unverified", "detail": "no pinned or recorded hash"})
            continue
        try:
            check_file(path, weights, manifest)
            rows.append({**row, "status": "ok", "detail": ""})
        except WeightsHashError as error:
            rows.append({**row, "status": "failed", "detail": str(error)})
    return rows


def pull(
    names: Iterable[str],
    bundle: Path | None = None,
    *,
    offline: bool | None = None,
    progress: bool | None = None,
) -> list[Path]:
    """Fetch (and verify) the weights of ``names`` into the cache; optionally write a bundle."""
    paths = [fetch(weights, offline=offline, progress=progress) for weights in weights_of(names)]
    if bundle is not None:
        write_bundle(paths, Path(bundle))
    return paths


def write_bundle(paths: list[Path], bundle: Path) -> None:
    """A tar of ``paths`` (flat) plus ``zoo-bundle.json`` with each file's sha256 and URL."""
    known = known_files()
    manifest = {"files": {}}
    for path in paths:
        weights = known.get(path.name, (None, []))[0]
        manifest["files"][path.name] = {
            "sha256": file_hashes(path)["sha256"],
            "url": weights.url if weights else None,
            "size": path.stat().st_size,
        }
    bundle.parent.mkdir(parents=True, exist_ok=True)
    temp = bundle.with_name(bundle.name + ".tmp")
    with tarfile.open(temp, "w") as tar:
        data = json.dumps(manifest, indent=1).encode()
        info = tarfile.TarInfo(BUNDLE_MANIFEST)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for path in paths:
            tar.add(path, arcname=path.name, recursive=False)
    os.replace(temp, bundle)


def _safe_members(tar: tarfile.TarFile, bundle: Path) -> dict[str, tarfile.TarInfo]:
    members = {}
    for member in tar.getmembers():
        name = member.name
        if not member.isfile():
            kind = "a link" if member.issym() or member.islnk() else "not a regular file"
            raise WeightsError(f"Bundle {bundle} refused: member {name!r} is {kind}")
        if name != os.path.basename(name) or name in ("", ".", "..") or name.startswith("/"):
            raise WeightsError(
                f"Bundle {bundle} refused: member {name!r} is not a plain file "
                "name (path traversal)"
            )
        members[name] = member
    if BUNDLE_MANIFEST not in members:
        raise WeightsError(f"Bundle {bundle} has no {BUNDLE_MANIFEST}; not a zoo bundle")
    return members


def import_bundle(bundle: Path) -> list[str]:
    """Verify every file of ``bundle`` against its manifest (and its pinned hash when zoo knows
    the file), then move it into the cache atomically. Returns the imported file names."""
    bundle = Path(bundle)
    if not bundle.is_file():
        raise WeightsError(f"Bundle not found: {bundle}")
    try:
        tar = tarfile.open(bundle, "r")
    except tarfile.TarError as error:
        raise WeightsError(f"Bundle {bundle} is not a readable tar file: {error}") from None
    known = known_files()
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    imported = []
    with tar:
        members = _safe_members(tar, bundle)
        manifest = json.load(tar.extractfile(members[BUNDLE_MANIFEST]))["files"]
        unlisted = set(members) - set(manifest) - {BUNDLE_MANIFEST}
        if unlisted:
            raise WeightsError(
                f"Bundle {bundle} refused: files not in its manifest: {', '.join(sorted(unlisted))}"
            )
        for name, entry in manifest.items():
            if name not in members:
                raise WeightsError(f"Bundle {bundle} lists {name} but does not contain it")
            handle, temp = tempfile.mkstemp(dir=folder, prefix=name + ".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    source = tar.extractfile(members[name])
                    while chunk := source.read(1 << 20):
                        out.write(chunk)
                actual = file_hashes(Path(temp))["sha256"]
                if actual != entry["sha256"]:
                    raise WeightsHashError(
                        f"Bundle {bundle}: {name} has sha256 {actual}, its manifest says "
                        f"{entry['sha256']}; nothing from the bundle was imported after it"
                    )
                weights = known.get(name, (None, []))[0]
                if weights is not None:
                    check_file(Path(temp), weights, move_bad=False)
                os.replace(temp, folder / name)
            finally:
                if os.path.exists(temp):
                    os.unlink(temp)
            if weights is not None:
                record_in_manifest({name: manifest_entry(weights, actual)})
            imported.append(name)
    return imported
