"""Module paths of zoo 0.1 that moved when ``zoo/`` became subpackages (issue 27), still
importable: ``import zoo.finetune`` gives ``zoo.training.finetune`` itself (the same module
object, so patching either patches both), with a ``DeprecationWarning`` naming the new path.

The public API never moved: ``zoo.load``, ``zoo.fine_tune`` and the other functions of
``import zoo`` are where they were. Old paths whose names are now packages (``zoo.weights``,
``zoo.inputs``, ``zoo.engines``, ``zoo.exporting``, ``zoo.bench``, ``zoo.cli``) are those
packages; ``zoo.cli.main`` and ``zoo.exporting.export`` still work.

Example:
    >>> import zoo.pipelines          # DeprecationWarning: ... moved to zoo.scale.pipelines
    >>> zoo.pipelines.features_pipeline is zoo.scale.pipelines.features_pipeline
    True
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType

#: old module path -> where it lives now
MOVED = {
    "zoo.cache": "zoo.weights.cache",
    "zoo.download": "zoo.weights.download",
    "zoo.bundle": "zoo.weights.bundle",
    "zoo.shipped": "zoo.weights.shipped",
    "zoo.verification": "zoo.weights.verify",
    "zoo.images": "zoo.inputs.images",
    "zoo.labelled_data": "zoo.inputs.labelled",
    "zoo.exporter": "zoo.engines.conversion",
    "zoo.runtimes": "zoo.engines.runtimes",
    "zoo.background": "zoo.engines.background",
    "zoo.quantized": "zoo.engines.int8",
    "zoo.prediction": "zoo.inference.prediction",
    "zoo.features": "zoo.inference.features",
    "zoo.feature_store": "zoo.inference.feature_store",
    "zoo.preparer": "zoo.inference.preparer",
    "zoo.digit_graph": "zoo.exporting.digit_graph",
    "zoo.golden": "zoo.exporting.golden",
    "zoo.finetune": "zoo.training.finetune",
    "zoo.fit_loop": "zoo.training.fit_loop",
    "zoo.train_steps": "zoo.training.train_steps",
    "zoo.distribution": "zoo.training.distribution",
    "zoo.preemption": "zoo.training.preemption",
    "zoo.augmentation": "zoo.training.augmentation",
    "zoo.run_report": "zoo.training.run_report",
    "zoo.probing": "zoo.training.probe",
    "zoo.search": "zoo.training.search_loop",
    "zoo.tuning": "zoo.training.tune",
    "zoo.beam_jobs": "zoo.scale.jobs",
    "zoo.pipelines": "zoo.scale.pipelines",
    "zoo.pipeline_shards": "zoo.scale.shard_steps",
    "zoo.sharding": "zoo.scale.shards",
    "zoo.bench_beam": "zoo.bench.beam",
    "zoo.bench_finetune": "zoo.bench.finetune",
    "zoo.bench_int8": "zoo.bench.int8",
    "zoo.bench_mnist": "zoo.bench.mnist",
    "zoo.cli_export": "zoo.cli.export",
    "zoo.cli_training": "zoo.cli.training",
    "zoo.cli_tune": "zoo.cli.tune",
    "zoo.text": "zoo.cli.text",
}


class MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A finder that answers the old paths of ``MOVED`` with the modules at their new ones."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec) -> ModuleType:
        warnings.warn(
            f"{spec.name} moved to {MOVED[spec.name]}; import it from there",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module at the new path is already imported."""


def install() -> None:
    """Answer the old paths from now on (once per process)."""
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(MovedModules())
