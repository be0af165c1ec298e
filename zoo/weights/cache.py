"""The weights cache: Keras' own folder, hash checks on every use, a manifest, safe downloads.

Files live in ``$KERAS_HOME/models`` (default ``~/.keras/models``), the folder Keras' ``get_file``
uses, so files either side downloaded are shared. Every use of a file checks it: against the
hash its spec pins (sha256, or the md5 Keras pins), else against the sha256 recorded in the
manifest (``zoo-manifest.json``) when the file was first downloaded and verified. A file that
fails is moved aside and nothing is loaded. No TensorFlow import.

Example:
    >>> path = zoo.weights.cache.fetch(zoo.get_spec("mobilenet_v1_0.25_128").weights)
"""

from __future__ import annotations

import errno
import glob
import json
import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from zoo.errors import WeightsError, WeightsHashError
from zoo.files import atomic_write, file_lock, utc_now
from zoo.hashing import file_hashes
from zoo.spec import WeightsSpec
from zoo.weights.download import DownloadError, download, is_offline

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
    """file name -> {sha256, url, recorded}: what was verified when it entered the cache.

    Raises:
        WeightsError: the manifest exists but is unreadable or not a manifest. It is never reset
            silently: it holds the only record of the files no hash is pinned for.
    """
    path = cache_dir() / MANIFEST_NAME
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise WeightsError(f"Cannot read the cache manifest {path}: {error}") from None
    try:
        files = json.loads(text)["files"]
        if not isinstance(files, dict) or not all(
            isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
            for entry in files.values()
        ):
            raise ValueError("its 'files' are not records with a sha256")
    except (ValueError, KeyError, TypeError) as error:
        raise WeightsError(
            f"The cache manifest {path} is corrupt ({type(error).__name__}: {error}). It holds "
            "the sha256 recorded for each weights file no hash is pinned for, so zoo does not "
            "reset it: move it away to start a new one (those files are then checked again as "
            "on first use)."
        ) from None
    return files


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
        "recorded": utc_now(),
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


def move_aside(path: Path, name: str | None = None) -> Path:
    """Rename a bad copy of the cache file ``name`` (default: ``path``'s name) out of the way, as
    ``NAME.bad-TIMESTAMP-PID``, removing older bad copies of it: at most one is kept."""
    name = name or path.name
    for older in path.parent.glob(glob.escape(name) + ".bad-*"):
        older.unlink(missing_ok=True)
    target = path.with_name(f"{name}.bad-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    os.replace(path, target)
    return target


def check_structure(path: Path, weights: WeightsSpec) -> None:
    """What a file with no pinned hash must pass before its sha256 is trusted: it opens as a
    Keras HDF5 weights file (not an HTML error page; HDF5 records its own length, so a file cut
    short fails too) and holds the layers its spec names (``weights.layers``).

    Raises:
        WeightsError: naming the file and what is wrong with it.
    """
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            names = handle.attrs.get("layer_names")
            if names is None and "model_weights" in handle:
                names = handle["model_weights"].attrs.get("layer_names")
    except (OSError, ValueError) as error:
        raise WeightsError(f"{path} is not a readable HDF5 weights file ({error})") from None
    if names is None:
        raise WeightsError(f"{path} is HDF5 but holds no Keras layer names: not a weights file")
    names = {name.decode() if isinstance(name, bytes) else str(name) for name in names}
    missing = [layer for layer in weights.layers if layer not in names]
    if missing:
        raise WeightsError(
            f"{path} lacks layers that {weights.file} holds ({', '.join(missing[:4])}): "
            "another model's weights, or not the file the URL should give"
        )


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
        >>> check_file(zoo.weights.shipped.shipped_path(spec), spec.weights, move_bad=False)[:8]
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
        where = _moved_aside(path, weights.file) if move_bad else ""
        raise WeightsHashError(
            f"Weights file {path}{origin} failed its {algorithm} check: expected {want}, got "
            f"{hashes[algorithm]}. The file is corrupt or was replaced; nothing was "
            f"loaded{where}."
        )
    return hashes["sha256"]


def _moved_aside(path: Path, name: str | None) -> str:
    """Move a bad file aside and say where; say so when the folder is read-only."""
    try:
        return f"; the file was moved to {move_aside(path, name)}"
    except OSError as error:
        return f"; it could not be moved aside ({error.strerror or error})"


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

    A cached file is only read: a read-only cache (a shared, pre-filled ``KERAS_HOME``) serves
    valid files. A download goes to a temporary file of its own and is published with an
    atomic rename after its check, so correctness never depends on the lock (which only saves
    duplicate downloads; on NFS it may do nothing). An interrupted download is resumed by the
    next call.

    Raises:
        MissingWeightsError: offline (``ZOO_OFFLINE=1``) and not cached, the cache folder is
            read-only, or the download failed.
        WeightsHashError: the cached or downloaded file does not match its hash.
        WeightsError: a file no hash is pinned for is not a weights file of its spec.
    """
    offline = is_offline() if offline is None else offline
    path = cached_path(weights)
    if path.exists():
        return _use_cached(path, weights)
    if offline:  # answer at once, without waiting on another's lock
        raise MissingWeightsError(
            missing_message(
                [weights],
                "Weights are not in the cache and offline mode (ZOO_OFFLINE=1) "
                "forbids downloading them.",
            )
        )
    _check_writable(path.parent, weights)
    with file_lock(path.with_name(path.name + ".lock")):
        if path.exists():  # another process downloaded it while we waited
            return _use_cached(path, weights)
        return _download_into_cache(weights, path, progress)


def _use_cached(path: Path, weights: WeightsSpec) -> Path:
    """Check a cached file; one that no hash vouches for (e.g. put there by Keras' own
    ``get_file``) gets the first-use checks and its sha256 recorded."""
    manifest = read_manifest()
    if expected_hash(weights, manifest) is not None:
        check_file(path, weights, manifest)
        return path
    try:
        check_structure(path, weights)
    except WeightsError as error:
        raise WeightsError(
            f"{error}. It was in the cache with no recorded hash; nothing was loaded"
            f"{_moved_aside(path, weights.file)}."
        ) from None
    _record(weights, file_hashes(path)["sha256"])
    return path


def _record(weights: WeightsSpec, sha256: str) -> None:
    """Record a first-use sha256, unless the cache is read-only (then the file stays unrecorded
    and is checked again on its next use)."""
    try:
        record_in_manifest({weights.file: manifest_entry(weights, sha256)})
    except PermissionError:
        pass
    except OSError as error:
        if error.errno != errno.EROFS:
            raise


def _check_writable(folder: Path, weights: WeightsSpec) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        writable = os.access(folder, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        raise MissingWeightsError(
            missing_message(
                [weights],
                f"Weights are not in the cache, and the cache folder {folder} is "
                "read-only: zoo cannot download into it.",
            )
        )


#: A temporary download untouched for this long belongs to a process that died: adopt it.
STALE_PART_SECONDS = 600


def _claim_part(path: Path) -> Path:
    """A temporary file of this process for downloading ``path``, holding the bytes a previous,
    interrupted download left (``NAME.part``, or a dead process' stale ``NAME.*.part``) when
    there are some. Renaming is atomic: two processes never claim the same file."""
    temp = path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
    candidates = [path.with_name(path.name + ".part")]
    now = time.time()
    for other in path.parent.glob(glob.escape(path.name) + ".*.part"):
        try:
            if now - other.stat().st_mtime > STALE_PART_SECONDS:
                candidates.append(other)
        except FileNotFoundError:
            continue
    for candidate in candidates:
        try:
            os.rename(candidate, temp)
            return temp
        except FileNotFoundError:
            continue
    return temp


def _keep_for_resume(temp: Path, path: Path) -> None:
    """Leave an interrupted download where the next call resumes it (``NAME.part``)."""
    try:
        if temp.stat().st_size:
            os.replace(temp, path.with_name(path.name + ".part"))
        else:
            temp.unlink()
    except FileNotFoundError:
        pass


def _download_into_cache(weights: WeightsSpec, path: Path, progress: bool | None) -> Path:
    temp = _claim_part(path)
    try:
        download(source_url(weights), temp, progress=progress)
    except DownloadError as error:
        _keep_for_resume(temp, path)
        raise MissingWeightsError(
            missing_message(
                [weights], f"Weights are not in the cache and the download failed: {error}"
            )
        ) from None
    except BaseException:
        _keep_for_resume(temp, path)
        raise
    try:
        if expected_hash(weights) is None:
            try:
                check_structure(temp, weights)
            except WeightsError as error:
                raise WeightsError(
                    f"The download of {weights.file} from {source_url(weights)} was refused: "
                    f"{error}. No hash is pinned for this file, so nothing was recorded or "
                    "loaded, and the download was removed."
                ) from None
        sha256 = check_file(temp, weights)  # a bad copy is moved aside as NAME.bad-...
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    record_in_manifest({weights.file: manifest_entry(weights, sha256)})
    return path
