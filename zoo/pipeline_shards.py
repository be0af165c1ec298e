"""The Beam steps of a sharded ``--engine beam`` run around ``zoo.pipelines``' transforms:
images keyed by shard, outputs and errors gathered per shard, and each shard written whole by
the worker that gathered it (``zoo.sharding``). Used by ``zoo.beam_jobs``.

Example:
    >>> list(keyed_images((3, 3000, ["a.jpg"], None)))
    [((3, 3000, 'a.jpg', None), 'a.jpg')]
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import apache_beam as beam

from zoo import sharding

#: Test hook: after writing this many shards, a worker kills the whole run (SIGKILL to its
#: process group), as a crash or a preempted machine would.
KILL_AFTER_SHARDS = "ZOO_TEST_KILL_AFTER_SHARDS"


def keyed_images(shard: tuple[int, int, list[str], list[int] | None]) -> Iterator[Any]:
    """The images of one planned shard as ((shard, position, path, label), path)."""
    index, first, paths, labels = shard
    for offset, path in enumerate(paths):
        label = labels[offset] if labels is not None else None
        yield (index, first + offset, path, label), path


def shard_items(output: str, kind: str):
    """A function from one element of ``output`` (``features``, ``predictions`` or
    ``errors``) to (shard, item) for the shard writer of ``kind``."""

    def item(key, *value):
        index, position, path, label = key
        if output == "errors":
            return index, ("error", position, path, value[1])
        return index, ("row", position, path, label, value[0])

    return item


class WriteShard(beam.DoFn):
    """(shard, items) -> the shard's file, written whole (``zoo.sharding``); yields the file."""

    def __init__(
        self,
        kind: str,
        folder: str,
        files: dict[int, str],
        label_names: list[str] | None,
        settings: dict[str, Any],
    ):
        self.kind, self.folder, self.files = kind, folder, files
        self.label_names, self.settings = label_names, settings

    def process(self, element) -> Iterator[str]:
        index, items = element
        path = Path(self.folder) / self.files[index]
        rows = [item for item in items if item[0] == "row"]
        errors = [item for item in items if item[0] == "error"]
        if self.kind == "features":
            sharding.write_feature_shard(
                path,
                [item[2] for item in sorted(rows + errors, key=lambda item: item[1])],
                [item[1:] for item in rows],
                [item[1:] for item in errors],
                attrs=self.settings["attrs"],
                label_names=self.label_names,
                dtype=self.settings["dtype"],
            )
        else:
            model = self.settings["model"]
            sharding.write_prediction_shard(
                path,
                [(item[1], item[4]) for item in rows]
                + [
                    (item[1], {"file": item[2], "model": model, "error": item[3]})
                    for item in errors
                ],
            )
        _maybe_kill(Path(self.folder))
        yield str(path)


def _maybe_kill(folder: Path) -> None:
    """The crash test hook (``KILL_AFTER_SHARDS``)."""
    after = os.environ.get(KILL_AFTER_SHARDS)
    if after and sum(sharding.is_shard_file(n) for n in os.listdir(folder)) >= int(after):
        os.killpg(os.getpgid(0), signal.SIGKILL)
