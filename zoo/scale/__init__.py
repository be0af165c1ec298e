"""Beyond one process: ``zoo features`` / ``zoo predict --engine beam`` as Apache Beam jobs.

- ``pipelines``: zoo's models as Beam transforms (``features_pipeline``,
  ``predictions_pipeline``) to embed in a pipeline of yours.
- ``jobs``: the sharded, resumable, locked job on the DirectRunner or another runner.
- ``shard_steps``: the Beam steps of one shard (``RunInference`` over zoo's runner, the write).
- ``shards``: the plan, the manifest, the shard files and their merge (no Beam import).

Example:
    >>> from zoo.scale import features_pipeline
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """``features_pipeline`` and ``predictions_pipeline``, imported (with Beam) on first use."""
    if name in ("features_pipeline", "predictions_pipeline"):
        from zoo.scale import pipelines

        return getattr(pipelines, name)
    raise AttributeError(f"module 'zoo.scale' has no attribute {name!r}")
