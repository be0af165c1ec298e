"""The Beam steps of a sharded ``--engine beam`` run (``zoo.scale.jobs``): each planned shard is
one element; ``ShardModelHandler`` runs it through zoo's decoder and the worker's shared model
inside Beam's ``RunInference``, and ``WriteShard`` writes its file whole (``zoo.scale.shards``).

A shard is the unit of work, not an image: a shard's rows then go straight from the model to
its file in the same worker, so shards are written one by one as the job runs (a progress bar
and a kill lose only the shards in flight). Grouping image outputs by shard instead would put a
GroupByKey between the model and the files, and a batch pipeline writes nothing past a
GroupByKey until every image is done.

Example:
    >>> handler = ShardModelHandler("mnist_convnet", "pooled", runtime="litert")
    >>> result = handler.run_inference([(0, 0, ["7.png", "notes.txt"], None)], handler.load_model())
    >>> rows, errors = result[0].inference
    >>> [(position, path) for position, path, _, _ in rows], [path for _, path, _ in errors]
    ([(0, '7.png')], ['notes.txt'])
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.ml.inference.base import PredictionResult

from zoo import registry
from zoo.inference.prediction import RankedPredictions
from zoo.inputs.sources import prepared_batches
from zoo.scale import shards as sharding
from zoo.scale.pipelines import ZooModelHandler, remote_bytes

#: Test hook: after writing this many shards, a worker kills the whole run (SIGKILL to its
#: process group), as a crash or a preempted machine would.
KILL_AFTER_SHARDS = "ZOO_TEST_KILL_AFTER_SHARDS"

#: A planned shard as the pipeline carries it: (index, first position, paths, labels or None).
ShardPlan = tuple[int, int, list[str], "list[int] | None"]


class ShardModelHandler(ZooModelHandler):
    """``ZooModelHandler`` whose examples are whole shards: each is decoded with zoo's threaded
    decoder (``crop_fraction``, ``input_shape`` as for single images) and run ``batch_size``
    images at a time; its inference is (rows, errors): (position, path, label, output) and
    (position, path, reason)."""

    def __init__(self, model: str, output: str, *, crop_fraction: float | None = None, **kwargs):
        super().__init__(model, output, **kwargs)
        self.crop_fraction = crop_fraction
        self._batching_kwargs = {"min_batch_size": 1, "max_batch_size": 1}  # a shard at a time

    def run_inference(
        self, batch: Sequence[ShardPlan], model, inference_args: dict[str, Any] | None = None
    ) -> Iterable[PredictionResult]:
        spec = registry.get_spec(self.model)
        results = []
        for shard in batch:
            _, first, paths, labels = shard
            rows, errors = [], []
            for indices, inputs, failed in prepared_batches(
                spec, paths, self.batch_size, crop_fraction=self.crop_fraction,
                input_shape=self.input_shape, read=remote_bytes,
            ):  # fmt: skip
                errors += [(first + i, paths[i], reason) for i, reason in failed]
                if inputs is None:
                    continue
                with model.lock:
                    values = model.run(inputs)
                rows += [
                    (first + i, paths[i], labels[i] if labels is not None else None, value)
                    for i, value in zip(indices, values, strict=True)
                ]
            results.append(PredictionResult(shard, (rows, errors), model.description))
        return results

    def get_num_bytes(self, batch: Sequence[ShardPlan]) -> int:
        return sum(len(shard[2]) for shard in batch)  # images, as a measure of work


class WriteShard(beam.DoFn):
    """A shard's (rows, errors) -> its file, written whole; yields the file's path.

    ``settings``: ``attrs`` and ``dtype`` for features; ``model`` and ``top`` for predictions.
    """

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

    def process(self, element: PredictionResult) -> Iterator[str]:
        index, _, paths, _ = element.example
        rows, errors = element.inference
        path = Path(self.folder) / self.files[index]
        if self.kind == "features":
            sharding.write_feature_shard(
                path, paths, rows, errors, attrs=self.settings["attrs"],
                label_names=self.label_names, dtype=self.settings["dtype"],
            )  # fmt: skip
        else:
            sharding.write_prediction_shard(path, self._ranked(rows, errors))
        _maybe_kill(Path(self.folder))
        yield str(path)

    def _ranked(self, rows, errors) -> list[tuple[int, dict[str, Any]]]:
        """Each image's line as ``zoo predict --json`` gives it, by position."""
        ranking = RankedPredictions(registry.get_spec(self.settings["model"]), self.settings["top"])
        return [(position, ranking.entry(file, row)) for position, file, _, row in rows] + [
            (position, ranking.error(file, reason)) for position, file, reason in errors
        ]


def _maybe_kill(folder: Path) -> None:
    """The crash test hook (``KILL_AFTER_SHARDS``)."""
    after = os.environ.get(KILL_AFTER_SHARDS)
    if after and sum(sharding.is_shard_file(n) for n in os.listdir(folder)) >= int(after):
        os.killpg(os.getpgid(0), signal.SIGKILL)
