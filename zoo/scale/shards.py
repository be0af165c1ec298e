"""The sharded output of a scaled-out ``zoo features`` / ``zoo predict``: the plan, the
manifest, the shard files and their merge. No Beam and no TensorFlow import.

A run over N images writes into its output folder ``features-00000-of-000SS.h5`` ... (for ``zoo
predict``: ``predictions-00000-of-000SS.jsonl``), each shard holding ``shard_size`` consecutive
images of the source order. A feature shard has the datasets and attributes of a single-process
``zoo features`` file (``zoo.inference.feature_store``), a prediction shard one JSON line per image
as ``zoo predict --json`` gives them. Each shard is written whole, through a temporary file and an
atomic rename, by the worker that gathered it; ``manifest.json`` (written first) records the
settings and, per shard, its file, image count and the sha256 of its paths.

A rerun with the same source and settings skips the shards in place (a kill loses only the
shards being written); other settings are refused. ``merge`` joins the shards, in order, into
one file equal row for row to a single-process run's.

Example:
    >>> job = sharding.prepare("out/", "features", source, settings, shard_size=1000)
    >>> [shard.file for shard in job.todo]
    ['features-00000-of-00002.h5', 'features-00001-of-00002.h5']
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.files import (
    LockedError,
    atomic_path,
    atomic_write,
    check_writable_folder,
    file_lock,
    utc_now,
)
from zoo.inference.feature_file import committed_counts, open_for_reading, stored_errors
from zoo.inference.feature_store import H5Store
from zoo.inputs.sources import Source
from zoo.run_dir import differences
from zoo.version import __version__

#: The shard files of each kind of run: prefix and suffix.
KINDS = {"features": ".h5", "predictions": ".jsonl"}
MANIFEST = "manifest.json"
#: Beam's log of the run, beside the shards.
LOG = "beam.log"
#: Images per shard when the caller does not say: enough shards (``TARGET_SHARDS``) for the
#: workers to share evenly, each at most ``MAX_SHARD_SIZE`` images and at least ``MIN``.
TARGET_SHARDS = 16
MAX_SHARD_SIZE = 1000
MIN_SHARD_SIZE = 32
#: Feature rows read or written at a time while merging.
MERGE_ROWS = 4096


@dataclass
class Shard:
    """``paths`` (with their ``labels``), positions ``first`` on in the source, go to ``file``."""

    index: int
    file: str
    first: int
    paths: list[str]
    labels: list[int] | None = None

    def record(self) -> dict[str, Any]:
        """The shard as the manifest lists it."""
        return {"file": self.file, "images": len(self.paths), "paths_sha256": paths_digest(self)}


@dataclass
class Job:
    """A sharded run in ``folder``: every shard of the plan, and those still to write."""

    kind: str
    folder: Path
    manifest: dict[str, Any]
    shards: list[Shard]
    todo: list[Shard] = field(default_factory=list)

    @property
    def label_names(self) -> list[str] | None:
        return self.manifest.get("label_names")


def paths_digest(shard: Shard) -> str:
    digest = hashlib.sha256()
    for path in shard.paths:
        digest.update(os.fsencode(path) + b"\0")
    return digest.hexdigest()


def default_shard_size(images: int) -> int:
    """Images per shard for a run of ``images``: about ``TARGET_SHARDS`` shards (so that up to
    a dozen workers get an even share, and a kill loses little), within bounds. It depends
    on the image count only, so a rerun plans the same shards.

    Example:
        >>> default_shard_size(1024), default_shard_size(1_000_000)
        (64, 1000)
    """
    return min(MAX_SHARD_SIZE, max(MIN_SHARD_SIZE, -(-images // TARGET_SHARDS)))


def plan(kind: str, source: Source, shard_size: int) -> list[Shard]:
    """``source`` cut into shards of ``shard_size`` consecutive images, named for ``kind``."""
    count = -(-len(source.paths) // shard_size)
    suffix = KINDS[kind]
    return [
        Shard(
            index,
            f"{kind}-{index:05d}-of-{count:05d}{suffix}",
            start,
            source.paths[start : start + shard_size],
            source.labels[start : start + shard_size] if source.labels is not None else None,
        )
        for index, start in enumerate(range(0, len(source.paths), shard_size))
    ]


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of the sharded run in ``folder``.

    Raises:
        InputError: there is none, or it is not zoo's.
    """
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(
            f"{folder} holds no sharded run ({MANIFEST} is missing): name the --out folder of "
            "a `zoo features --engine beam` or `zoo predict --engine beam` run"
        ) from None
    except (OSError, ValueError) as error:
        raise InputError(f"{path} is not readable JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("kind") not in KINDS:
        raise InputError(f"{path} is not the manifest of a zoo sharded run")
    return manifest


def prepare(
    folder: str | Path,
    kind: str,
    source: Source,
    settings: dict[str, Any],
    *,
    shard_size: int | None = None,
    runtime: str = "",
    overwrite: bool = False,
) -> Job:
    """Plan the run, check it against the one already in ``folder`` (if any) and say which
    shards are left to write; a new run's manifest is written before any shard.

    ``settings`` are what must match for a rerun to add shards (model, stage, weights...).

    Raises:
        InputError: ``folder`` holds another run (other settings or another source), or other
            files than a sharded run's; with ``overwrite`` the old run's files are removed.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {folder} is a file; a sharded run writes a folder")
    shard_size = shard_size or default_shard_size(len(source.paths))
    shards = plan(kind, source, shard_size)
    manifest = {
        "kind": kind,
        "settings": settings,
        "label_names": source.label_names,
        "shard_size": shard_size,
        "images": len(source.paths),
        "shards": [shard.record() for shard in shards],
        "runtime": runtime,
        "zoo_version": __version__,
        "created": utc_now(),
    }
    if (folder / MANIFEST).exists():
        if overwrite:
            remove_run(folder)
        else:
            found = read_manifest(folder)
            _check_same_run(folder, found, manifest)
            manifest = found
    elif folder.exists() and any(not is_run_file(name) for name in os.listdir(folder)):
        raise InputError(
            f"--out {folder} already holds files that are not a sharded run's; choose an empty "
            "or new folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    _remove_temporary(folder)
    if not (folder / MANIFEST).exists():
        atomic_write(folder / MANIFEST, json.dumps(manifest, indent=1))
    job = Job(kind, folder, manifest, shards)
    job.todo = [shard for shard in shards if not shard_done(job, shard)]
    resumed = len(job.todo) < len(shards)
    if resumed and job.todo and settings.get("weights_sha256") == "none":
        raise InputError(
            f"{folder} holds shards computed with random weights (--weights none), which every "
            "run draws anew: they cannot be added to. Choose another --out, or pass --overwrite "
            "to start again"
        )
    return job


@contextlib.contextmanager
def locked(folder: str | Path) -> Iterator[None]:
    """Hold ``folder`` for one run: a second run on it at the same time is refused (it would
    race to write the manifest and the same shards)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {folder} is a file; a sharded run writes a folder")
    check_writable_folder(folder, "the --out folder")
    try:
        with file_lock(folder / ".lock", wait=False):
            yield
    except LockedError:
        raise InputError(
            f"another zoo run is writing {folder}; wait for it to end, or choose another --out"
        ) from None


def _check_same_run(folder: Path, found: dict[str, Any], wanted: dict[str, Any]) -> None:
    changed = differences(found.get("settings") or {}, wanted["settings"])
    changed += differences(found, {k: wanted[k] for k in ("kind", "label_names", "shard_size")})
    if not changed and found.get("shards") != wanted["shards"]:
        changed.append(
            f"the images: {found.get('images')} there in {len(found.get('shards', []))} "
            f"shards, {wanted['images']} here, or other files"
        )
    if changed:
        raise InputError(
            f"{folder} holds a sharded run with other settings or images ({'; '.join(changed)}). "
            "Rerun with the same ones to finish it, choose another --out, or pass --overwrite "
            "to start again"
        )


def remove_run(folder: Path) -> None:
    """Remove a sharded run's own files from ``folder`` (its manifest last)."""
    for name in os.listdir(folder):
        if is_shard_file(name) or _is_temporary(name):
            (folder / name).unlink()
    (folder / MANIFEST).unlink(missing_ok=True)


def is_shard_file(name: str) -> bool:
    return any(name.startswith(f"{kind}-") and "-of-" in name for kind in KINDS)


def _is_temporary(name: str) -> bool:
    """A temporary file a killed writer of the run may leave: ``.features-….h5.XXXX.h5`` (and
    the ``..features-…`` ones of the feature store inside them), ``predictions-….jsonl.XXXX.tmp``
    and ``manifest.json.XXXX.tmp``."""
    bare = name.lstrip(".")
    if name.startswith(".") and is_shard_file(bare):
        return True
    return name.endswith(".tmp") and (is_shard_file(bare) or bare.startswith(MANIFEST + "."))


def is_run_file(name: str) -> bool:
    """True for the files a sharded run keeps in its folder (shards, manifest, log, lock and
    the temporary files of killed writers): ``prepare`` refuses a folder holding others."""
    return is_shard_file(name) or _is_temporary(name) or name in (MANIFEST, LOG, ".lock")


def _remove_temporary(folder: Path) -> None:
    """Remove the temporary files killed writers left (``_is_temporary``)."""
    for name in os.listdir(folder):
        if _is_temporary(name):
            (folder / name).unlink(missing_ok=True)


def shard_done(job: Job, shard: Shard) -> bool:
    """True when ``shard``'s file is in place and holds every one of its images once; a file
    that does not (damaged, or written by hand) is removed, with a warning, to be written
    again."""
    path = job.folder / shard.file
    if not path.exists():
        return False
    try:
        whole = sorted(shard_paths(job.kind, path)) == sorted(shard.paths)
    except (OSError, ValueError, KeyError) as error:
        whole, why = False, f"unreadable ({type(error).__name__}: {error})"
    else:
        why = "it does not hold its images once each"
    if not whole:
        print(f"zoo: warning: {path}: {why}; it is written again", file=sys.stderr)
        path.unlink()
    return whole


def shard_paths(kind: str, path: Path) -> list[str]:
    """The paths a shard file holds, rows and errors alike."""
    if kind == "predictions":
        return [json.loads(line)["file"] for line in path.read_text().splitlines()]
    with open_for_reading(path) as handle:
        rows, errors = committed_counts(handle)
        found = handle["paths"][:rows].tolist() + handle["error_paths"][:errors].tolist()
    return [p.decode() for p in found]


def write_feature_shard(
    path: Path,
    shard_paths: Sequence[str],
    rows: Iterable[tuple[int, str, int | None, np.ndarray]],
    errors: Iterable[tuple[int, str, str]],
    *,
    attrs: dict[str, Any],
    label_names: list[str] | None,
    dtype: str,
) -> None:
    """Write one feature shard whole: ``rows`` (position, path, label, features) and
    ``errors`` (position, path, reason) in source order, as a single-process run writes them."""
    rows, errors = sorted(rows, key=lambda r: r[0]), sorted(errors, key=lambda e: e[0])
    labels = None if label_names is None else [0] * len(shard_paths)
    source = Source(list(shard_paths), labels, label_names)
    with atomic_path(path) as temp:
        store = H5Store(temp, source, dtype, dict(attrs, date=utc_now()))
        if rows:
            store.add(
                np.stack([row[3] for row in rows]).astype(dtype, copy=False),
                [row[1] for row in rows],
                [row[2] for row in rows] if label_names is not None else None,
            )
        for _, file, reason in errors:
            store.add_error(file, reason)
        store.complete()


def write_prediction_shard(path: Path, results: Iterable[tuple[int, dict[str, Any]]]) -> None:
    """Write one prediction shard whole: one JSON line per (position, result), in order."""
    lines = [json.dumps(result) for _, result in sorted(results, key=lambda r: r[0])]
    atomic_write(path, "".join(line + "\n" for line in lines))


@dataclass
class Summary:
    """What the shards of a run hold: rows (images done), and errors as (path, reason)."""

    rows: int
    errors: list[tuple[str, str]]
    shape: tuple[int, ...] = ()


def summarize(job: Job) -> Summary:
    """Count what the written shards of ``job`` hold."""
    rows, errors, shape = 0, [], ()
    for shard in job.shards:
        path = job.folder / shard.file
        if not path.exists():
            continue
        if job.kind == "predictions":
            results = [json.loads(line) for line in path.read_text().splitlines()]
            errors += [(r["file"], r["error"]) for r in results if "error" in r]
            rows += sum("error" not in r for r in results)
            continue
        with open_for_reading(path) as handle:
            done, failed = committed_counts(handle)
            rows += done
            shape = tuple(handle["features"].shape[1:]) if "features" in handle else shape
            errors += stored_errors(handle, failed)
    return Summary(rows, errors, shape)


def open_job(folder: str | Path) -> Job:
    """The sharded run in ``folder`` as its manifest describes it (shard paths unknown)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    shards = [
        Shard(index, record["file"], 0, [])
        for index, record in enumerate(manifest.get("shards", []))
    ]
    return Job(manifest["kind"], folder, manifest, shards)


def merge(
    folder: str | Path, out: str | Path, *, overwrite: bool = False, kind: str | None = None
) -> Summary:
    """Join the shards of the run in ``folder`` into ``out``, in source order: an ``.h5``
    file like single-process ``zoo features`` writes, or a ``.jsonl`` file of predictions.
    ``kind`` (``features`` or ``predictions``): the run must be of that kind.

    Raises:
        InputError: a shard is missing (the run has not finished: rerun it) or damaged, a run
            is writing ``folder``, ``out`` exists (without ``overwrite``), is a folder, or has
            the wrong suffix for the run's kind.

    Example:
        >>> merge("features/", "all.h5").rows
        1024
    """
    job = open_job(folder)
    if kind is not None and job.kind != kind:
        command = "predict" if job.kind == "predictions" else "features"
        raise InputError(
            f"{folder} holds {job.kind} shards, not {kind}: merge it with "
            f"`zoo {command} --merge {folder} --out FILE`"
        )
    out = Path(out)
    suffixes = (".h5", ".hdf5") if job.kind == "features" else (".jsonl",)
    if out.suffix not in suffixes:
        raise InputError(
            f"--out for merged {job.kind} must end in {' or '.join(suffixes)}, received {out}"
        )
    if out.is_dir():
        raise InputError(f"--out {out} is a folder; name the file to write")
    if out.exists() and not overwrite:
        raise InputError(f"{out} exists; choose another --out, or pass --overwrite to replace it")
    with locked(job.folder):  # no run may rewrite the shards while they are read
        missing = [shard.file for shard in job.shards if not (job.folder / shard.file).exists()]
        if missing:
            raise InputError(
                f"{folder}: {len(missing)} of {len(job.shards)} shards are not written yet "
                f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}); rerun the "
                "same command to finish them, then merge"
            )
        files = [job.folder / shard.file for shard in job.shards]
        try:
            if job.kind == "predictions":
                with atomic_path(out) as temp, open(temp, "w") as merged:
                    for path in files:
                        merged.write(path.read_text())
            else:
                _merge_features(job, files, out)
            return summarize(job)
        except (OSError, ValueError, KeyError) as error:
            raise InputError(
                f"{folder}: a shard is damaged ({type(error).__name__}: {error}); rerun the "
                "command that wrote it (it rewrites damaged shards), then merge"
            ) from None


def _merge_features(job: Job, files: list[Path], out: Path) -> None:
    with open_for_reading(files[0]) as first:
        attrs = dict(first.attrs)
        dtype = str(attrs.get("dtype", "float32"))
    every_path = []
    for path in files:
        every_path += shard_paths("features", path)
    labels = None if job.label_names is None else [0] * len(every_path)
    source = Source(every_path, labels, job.label_names)
    with atomic_path(out) as temp:
        store = H5Store(temp, source, dtype, dict(attrs, date=utc_now()))
        for path in files:
            with open_for_reading(path) as handle:
                rows, errors = committed_counts(handle)
                for start in range(0, rows, MERGE_ROWS):
                    stop = min(rows, start + MERGE_ROWS)
                    store.add(
                        handle["features"][start:stop],
                        [p.decode() for p in handle["paths"][start:stop]],
                        handle["labels"][start:stop].tolist() if "labels" in handle else None,
                    )
                for file, reason in stored_errors(handle, errors):
                    store.add_error(file, reason)
        store.complete()
