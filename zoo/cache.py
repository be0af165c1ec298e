"""The weights cache: Keras' own folder, hash checks on every use, a manifest, safe downloads.

Files live in ``$KERAS_HOME/models`` (default ``~/.keras/models``), the folder Keras' ``get_file``
uses, so files either side downloaded are shared. Every use of a file checks it: against the
hash its spec pins (sha256, or the md5 Keras pins), else against the sha256 recorded in the
manifest (``zoo-manifest.json``) when the file was first downloaded and verified. A file that
fails is moved aside and nothing is loaded. No TensorFlow import.

Example:
    >>> path = zoo.cache.fetch(zoo.get_spec("mobilenet_v1_0.25_128").weights)
"""

from __future__ import annotations

import datetime
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

from zoo.download import DownloadError, download, is_offline
from zoo.errors import WeightsError, WeightsHashError
from zoo.files import atomic_write, file_lock
from zoo.hashing import file_hashes
from zoo.spec import WeightsSpec

MANIFEST_NAME = "zoo-manifest.json"


class MissingWeightsError(WeightsError):
    """Weights files that are not in the cache and could not be downloaded."""


def cache_dir() -> Path:
    """``$KERAS_HOME/models``, or ``~/.keras/models``: the folder Keras downloads weights to."""
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home).expanduser() / "models"


def source_url(weights: WeightsSpec) -> str:
    """Where to download ``weights`` from: ``$ZOO_WEIGHTS_MIRROR/FILE`` when a mirror is set
    (a folder of the same files on an internal server), else the spec's URL."""
    mirror = os.environ.get("ZOO_WEIGHTS_MIRROR")
    if mirror:
        return mirror.rstrip("/") + "/" + weights.file
    return weights.url


def cached_path(weights: WeightsSpec) -> Path:
    """Where ``weights`` lives (or will live) in the cache."""
    return cache_dir() / weights.file


# -- manifest -------------------------------------------------------------------------------


def read_manifest() -> dict[str, dict]:
    """file name -> {sha256, url, recorded}: what was verified when it entered the cache."""
    path = cache_dir() / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text()).get("files", {})
    except (OSError, ValueError):
        return {}


def record_in_manifest(entries: dict[str, dict]) -> None:
    """Add or replace manifest entries, atomically, under a lock."""
    path = cache_dir() / MANIFEST_NAME
    with file_lock(path.with_name(MANIFEST_NAME + ".lock")):
        files = read_manifest()
        files.update(entries)
        atomic_write(path, json.dumps({"files": files}, indent=1, sort_keys=True) + "\n")


def manifest_entry(weights: WeightsSpec, sha256: str) -> dict:
    """The manifest record of a verified file: its sha256, URL, whether a hash is pinned, when."""
    return {
        "sha256": sha256,
        "url": weights.url,
        "pinned": bool(weights.sha256 or weights.md5),
        "recorded": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


# -- checking -------------------------------------------------------------------------------


def expected_hash(weights: WeightsSpec, manifest: dict | None = None) -> tuple[str, str] | None:
    """(algorithm, hex) to check ``weights`` against: the pinned hash, else the manifest's."""
    if weights.sha256:
        return "sha256", weights.sha256
    if weights.md5:
        return "md5", weights.md5
    recorded = (read_manifest() if manifest is None else manifest).get(weights.file)
    if recorded:
        return "sha256", recorded["sha256"]
    return None


def move_aside(path: Path) -> Path:
    """Rename a bad file out of the way (``NAME.bad-TIMESTAMP``); return its new path."""
    target = path.with_name(f"{path.name}.bad-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    os.replace(path, target)
    return target


def check_file(
    path: Path, weights: WeightsSpec, manifest: dict | None = None, move_bad: bool = True
) -> str:
    """Verify ``path`` against what ``weights`` expects (its pinned sha256 or md5, else the
    sha256 the manifest recorded); return its sha256. The one hash check of every weights
    file, shipped or downloaded.

    Raises:
        WeightsError: the file does not exist.
        WeightsHashError: naming the file, its URL (downloads), the expected and actual hash;
            a cache file is moved aside (``move_bad``), a user's or the package's own file is
            left where it is.

    Example:
        >>> spec = zoo.get_spec("mnist_convnet")
        >>> check_file(zoo.shipped.shipped_path(spec), spec.weights, move_bad=False)[:8]
        '7fb7eaab'
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"Weights file not found: {path}")
    hashes = file_hashes(path)
    expected = expected_hash(weights, manifest)
    if expected is not None and hashes[expected[0]] != expected[1]:
        algorithm, want = expected
        origin = f" (from {source_url(weights)})" if weights.source == "url" else ""
        where = f"; the file was moved to {move_aside(path)}" if move_bad else ""
        raise WeightsHashError(
            f"Weights file {path}{origin} failed its {algorithm} check: expected {want}, got "
            f"{hashes[algorithm]}. The file is corrupt or was replaced; nothing was "
            f"loaded{where}."
        )
    return hashes["sha256"]


def missing_message(missing: Iterable[WeightsSpec], reason: str) -> str:
    """The error for files that are not in the cache: each with its URL and exact path."""
    lines = [reason, "Download each file and put it at the path shown:"]
    for weights in missing:
        lines.append(
            f"  {weights.file}\n    from: {source_url(weights)}\n    to:   {cached_path(weights)}"
        )
    return "\n".join(lines)


# -- fetching -------------------------------------------------------------------------------


def fetch(
    weights: WeightsSpec, *, offline: bool | None = None, progress: bool | None = None
) -> Path:
    """The verified cache path of ``weights``, downloading it first when missing.

    Raises:
        MissingWeightsError: offline (``ZOO_OFFLINE=1``) and not cached, or the download failed.
        WeightsHashError: the cached or downloaded file does not match its hash.
    """
    offline = is_offline() if offline is None else offline
    path = cached_path(weights)
    if not path.exists() and offline:  # answer at once, without waiting on another's lock
        raise MissingWeightsError(
            missing_message(
                [weights],
                "Weights are not in the cache and offline mode (ZOO_OFFLINE=1) "
                "forbids downloading them.",
            )
        )
    with file_lock(path.with_name(path.name + ".lock")):
        if path.exists():
            check_file(path, weights)
            return path
        part = path.with_name(path.name + ".part")
        try:
            download(source_url(weights), part, progress=progress)
        except DownloadError as error:
            raise MissingWeightsError(
                missing_message(
                    [weights], f"Weights are not in the cache and the download failed: {error}"
                )
            ) from None
        sha256 = check_file(part, weights)
        os.replace(part, path)
        record_in_manifest({weights.file: manifest_entry(weights, sha256)})
        return path
