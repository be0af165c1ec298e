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
import zlib
from collections.abc import Iterable
from pathlib import Path

from zoo import registry
from zoo.errors import WeightsError, WeightsHashError, ZooError
from zoo.files import new_temp_file
from zoo.hashing import file_hashes
from zoo.spec import SHA256_PATTERN, WeightsSpec
from zoo.weights.cache import (
    MANIFEST_NAME,
    cache_dir,
    check_file,
    check_structure,
    expected_hash,
    fetch,
    manifest_entry,
    read_manifest,
    record_in_manifest,
)

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
        if weights is None:
            trust = "unknown to zoo"
        elif weights.sha256 or weights.md5:
            trust = weights.trust
        elif path.name in manifest:
            trust = "trusted on first use (sha256 recorded)"
        else:
            trust = "unverified (checked and recorded at its next use)"
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


#: The most members a bundle may have (one per weights file of the registry, and its manifest)
#: and the most header bytes (tar headers, long names, pax records) read before refusing: a 4.4
#: MB .tar.gz of 2 million headers took 64 s and 809 MB to refuse when all were read first.
MAX_MEMBERS = 1024
MAX_HEADER_BYTES = 1 << 20


def _safe_members(tar: tarfile.TarFile, bundle: Path) -> dict[str, tarfile.TarInfo]:
    """The bundle's members by name, read one header at a time and refused at the first that
    is not a plain file, past ``MAX_MEMBERS`` or past ``MAX_HEADER_BYTES`` of headers."""
    members: dict[str, tarfile.TarInfo] = {}
    header_bytes = 0
    while (member := tar.next()) is not None:
        header_bytes += member.offset_data - member.offset
        if len(members) >= MAX_MEMBERS or header_bytes > MAX_HEADER_BYTES:
            raise WeightsError(
                f"Bundle {bundle} refused: over {MAX_MEMBERS} members or "
                f"{MAX_HEADER_BYTES >> 20} MiB of headers (a bundle holds one member per weights "
                "file and its manifest); read no further"
            )
        name = member.name
        if not member.isfile():
            kind = "a link" if member.issym() or member.islnk() else "not a regular file"
            raise WeightsError(f"Bundle {bundle} refused: member {name!r} is {kind}")
        if name != os.path.basename(name) or name in ("", ".", "..") or name.startswith("/"):
            raise WeightsError(
                f"Bundle {bundle} refused: member {name!r} is not a plain file "
                "name (path traversal)"
            )
        if name in members:
            raise WeightsError(f"Bundle {bundle} refused: member {name!r} appears twice")
        members[name] = member
    if BUNDLE_MANIFEST not in members:
        raise WeightsError(f"Bundle {bundle} has no {BUNDLE_MANIFEST}; not a zoo bundle")
    return members


#: The most bytes a bundle's own manifest may take (it lists file names and hashes).
MAX_BUNDLE_MANIFEST_BYTES = 1 << 20


def _bundle_manifest(
    tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], bundle: Path
) -> dict[str, dict]:
    """The bundle's file list, each entry checked: a sha256 and a size that its member has."""
    member = members[BUNDLE_MANIFEST]
    if member.size > MAX_BUNDLE_MANIFEST_BYTES:
        raise WeightsError(f"Bundle {bundle} refused: its {BUNDLE_MANIFEST} is {member.size} bytes")
    try:
        files = json.loads(tar.extractfile(member).read())["files"]
        if not isinstance(files, dict):
            raise TypeError("'files' is not an object")
    except (ValueError, KeyError, TypeError) as error:
        raise WeightsError(
            f"Bundle {bundle} refused: its {BUNDLE_MANIFEST} is not a bundle manifest "
            f"({type(error).__name__}: {error})"
        ) from None
    for name, entry in files.items():
        if not isinstance(entry, dict) or not SHA256_PATTERN.match(str(entry.get("sha256"))):
            raise WeightsError(
                f"Bundle {bundle} refused: {name} has no valid sha256 in its manifest"
            )
        if not isinstance(entry.get("size"), int):
            raise WeightsError(f"Bundle {bundle} refused: {name} has no size in its manifest")
        if name in members and members[name].size != entry["size"]:
            raise WeightsError(
                f"Bundle {bundle} refused: {name} is {members[name].size} bytes, its manifest "
                f"says {entry['size']}"
            )
    return files


def _check_bundle_files(
    names: Iterable[str], known: dict[str, tuple[WeightsSpec, list[str]]], bundle: Path
) -> None:
    """Bundles only add weights files of registered models: never zoo's own bookkeeping (the
    trust manifest, runtime artefacts, locks) nor anything else."""
    foreign = sorted(name for name in names if name not in known)
    if foreign:
        raise WeightsError(
            f"Bundle {bundle} refused: {', '.join(foreign)} "
            f"{'is not a weights file' if len(foreign) == 1 else 'are not weights files'} of any "
            "registered model; a bundle may only add those (`zoo cache pull` writes them)"
        )


#: A bundle's members may hold at most this many times the bytes of the bundle file: weights
#: barely compress (about 1.1x), while a decompression bomb expands a thousandfold.
MAX_EXPANSION = 8


def _check_expansion(members: dict[str, tarfile.TarInfo], bundle: Path) -> None:
    """Refuse, before writing a byte, a bundle whose members would expand far beyond it."""
    declared = sum(member.size for member in members.values())
    allowed = MAX_EXPANSION * bundle.stat().st_size + (1 << 20)
    if declared > allowed:
        raise WeightsError(
            f"Bundle {bundle} refused: its members hold {declared} bytes, "
            f"{declared / bundle.stat().st_size:.0f} times the bundle's own size; weights barely "
            "compress, so this is a decompression bomb or not a bundle `zoo cache pull` wrote"
        )


def import_bundle(bundle: Path) -> list[str]:
    """Verify every file of ``bundle`` against its manifest and the hash zoo pins for it (a file
    no hash is pinned for must be a weights file of its spec, as on a first download), then move
    it into the cache atomically. Returns the imported file names.

    Raises:
        WeightsError: the bundle is unreadable, malformed, carries anything but weights files of
            registered models, or a file fails a check (nothing after it is imported).
    """
    bundle = Path(bundle)
    if not bundle.is_file():
        raise WeightsError(f"Bundle not found: {bundle}")
    try:
        with tarfile.open(bundle, "r") as tar:
            return _import_from(tar, bundle)
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise WeightsError(
            f"Bundle {bundle} is not a readable tar file ({type(error).__name__}: {error})"
        ) from None


def _import_from(tar: tarfile.TarFile, bundle: Path) -> list[str]:
    known = known_files()
    members = _safe_members(tar, bundle)
    manifest = _bundle_manifest(tar, members, bundle)
    unlisted = set(members) - set(manifest) - {BUNDLE_MANIFEST}
    if unlisted:
        raise WeightsError(
            f"Bundle {bundle} refused: files not in its manifest: {', '.join(sorted(unlisted))}"
        )
    absent = sorted(set(manifest) - set(members))
    if absent:
        raise WeightsError(f"Bundle {bundle} lists {', '.join(absent)} but does not contain it")
    _check_bundle_files(manifest, known, bundle)
    _check_expansion(members, bundle)
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    imported = []
    for name, entry in manifest.items():
        weights = known[name][0]
        handle, temp = new_temp_file(folder, name + ".")
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
            if expected_hash(weights) is None:
                check_structure(Path(temp), weights)
            check_file(Path(temp), weights, move_bad=False)
            os.replace(temp, folder / name)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
        record_in_manifest({name: manifest_entry(weights, actual)})
        imported.append(name)
    return imported
