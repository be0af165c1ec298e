"""``zoo features --engine beam`` and ``zoo predict --engine beam``: the transforms of
``zoo.scale.pipelines`` run as one sharded, resumable Apache Beam job.

The driver resolves the sources (a folder, a glob, a ``.txt`` or ``.csv`` list; ``gs://`` and
other Beam filesystems by glob), settles the runtime once (so every worker opens the same
engine, and a bad model or weights fail before any worker starts), plans the shards and writes
the manifest (``zoo.scale.shards``). The pipeline then spreads the images of the unfinished shards
over the workers, decodes and runs them there, gathers each shard's rows and errors by shard
and writes the shard whole on the worker that gathered it. The DirectRunner runs
``workers`` processes on this machine; ``--runner`` names another (Prism, Flink, Spark,
Dataflow), configured with Beam's own pipeline options. Beam's log goes to
``OUT/beam.log``; the console shows a progress bar over shards written.

Example:
    >>> result = beam_features("mobilenet_v1_0.25_128", "photos/", "out/", workers=2)
    >>> result.rows, result.shards, [path for path, _ in result.errors]
    (1022, 2, ['photos/broken.jpg'])
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from zoo import registry
from zoo.engines.int8 import check_precision
from zoo.errors import InputError, PipelineError
from zoo.inference.feature_resume import check_dtype, input_size, store_attrs
from zoo.inputs.sources import (
    Source,
    checked_batch_size,
    checked_count,
    find_sources,
    labelled_sources,
)
from zoo.models import check_stages
from zoo.scale import shards as sharding

#: The pipeline option ``--workers`` becomes on the runners other than the DirectRunner.
WORKERS_OPTION = {"dataflow": "--num_workers", "flink": "--parallelism"}
#: ``--runner`` names and the Beam runners they stand for.
RUNNERS = {
    "direct": "DirectRunner",
    "prism": "PrismRunner",
    "flink": "FlinkRunner",
    "spark": "SparkRunner",
    "dataflow": "DataflowRunner",
}


@dataclass
class JobResult:
    """What a sharded run left in ``folder``: ``rows`` done, ``errors`` (path, reason)."""

    folder: Path
    kind: str
    shards: int
    written: int
    rows: int
    errors: list[tuple[str, str]]
    shape: tuple[int, ...]
    runtime: str


def require_beam() -> None:
    """Import Apache Beam (quietly: it warns of cloud clients not installed), or raise
    ``InputError`` with the install line when it is missing."""
    from zoo.backend import stderr_silenced

    try:
        with stderr_silenced():
            import apache_beam  # noqa: F401
    except ImportError:
        raise InputError("--engine beam needs Apache Beam: pip install 'keras-zoo[beam]'") from None


def beam_sources(src: str | Path | Sequence[str | Path], labelled: bool = True) -> Source:
    """The images of ``src`` in a stable order: local items as ``zoo.inputs.sources.find_sources``
    reads them (class folders give labels), a ``.csv`` list by its ``path`` column (or its
    first), and ``scheme://`` globs through Beam's filesystems.

    Example:
        >>> beam_sources(["gs://bucket/photos/*.jpg"]).paths[:1]
        ['gs://bucket/photos/0001.jpg']
    """
    items = [str(src)] if isinstance(src, (str, Path)) else [str(item) for item in src]
    if not any("://" in item or item.endswith(".csv") for item in items):
        return labelled_sources(items) if labelled else find_sources(items)
    paths: list[str] = []
    for item in items:
        if "://" in item:
            paths += _matched(item)
        elif item.endswith(".csv"):
            paths += _csv_paths(Path(item))
        else:
            paths += find_sources(item).paths
    if not paths:
        raise InputError(f"No image files found in {', '.join(items)}")
    return Source(paths)


def _matched(pattern: str) -> list[str]:
    from apache_beam.io.filesystems import FileSystems

    try:
        found = FileSystems.match([pattern])[0].metadata_list
    except Exception as error:  # no such filesystem installed, no credentials
        raise InputError(f"{pattern}: cannot list ({type(error).__name__}: {error})") from None
    return sorted(entry.path for entry in found)


def _csv_paths(path: Path) -> list[str]:
    """The ``path`` column of a CSV list of images (or its first column when none is called
    path, file or filename), each path as written, like the lines of a ``.txt`` list."""
    try:
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"{path}: not a readable CSV list of images ({error})") from None
    if not rows:
        raise InputError(f"{path}: an empty CSV list")
    header = [name.strip().lower() for name in rows[0]]
    column = next((header.index(n) for n in ("path", "file", "filename") if n in header), None)
    body = rows[1:] if column is not None else rows
    column = column or 0
    return [row[column].strip() for row in body if len(row) > column and row[column].strip()]


def pipeline_options(runner: str, workers: int | None, options: Sequence[str] = ()):
    """Beam ``PipelineOptions`` for ``runner`` (a ``RUNNERS`` key) with ``workers`` workers,
    then the user's own ``--flag=value`` pipeline options (which win). The DirectRunner runs
    its workers as threads of this process by default (measured the fastest here, see
    docs/benchmarks.md); ``--direct_running_mode=multi_processing`` makes them processes."""
    from apache_beam.options.pipeline_options import PipelineOptions

    if runner not in RUNNERS:
        raise InputError(f"Unknown runner {runner!r}; valid: {', '.join(RUNNERS)}")
    flags = [f"--runner={RUNNERS[runner]}", "--default_sdk_harness_log_level=WARNING"]
    if runner == "direct":
        flags += [
            "--direct_running_mode=multi_threading",
            f"--direct_num_workers={workers or os.cpu_count() or 1}",
        ]
    elif workers:
        if runner not in WORKERS_OPTION:
            raise InputError(
                f"--workers is for the {', '.join(['direct', *WORKERS_OPTION])} runners; give "
                f"the {runner} runner's own option for its parallelism"
            )
        flags.append(f"{WORKERS_OPTION[runner]}={workers}")
    parsed = PipelineOptions([*flags, *options])
    usage = io.StringIO()
    try:
        with contextlib.redirect_stderr(usage):  # parse now: a bad value is an error, not exit
            known = parsed.get_all_options()
            unknown = set(parsed.get_all_options(retain_unknown_options=True)) - set(known)
    except SystemExit:
        reason = usage.getvalue().strip().splitlines()[-1:] or ["unparseable"]
        raise InputError(
            f"Beam's pipeline options {' '.join(options)}: {reason[0].split('error: ')[-1]}"
        ) from None
    if unknown:
        names = ", ".join(f"--{name}" for name in sorted(unknown))
        raise InputError(f"Unknown option(s), neither zoo's nor Beam's: {names}")
    return parsed


def worker_threads(options) -> int | None:
    """Engine threads per worker process: when the DirectRunner's workers are processes of
    this machine they share its cores; otherwise (threads of one process, whose engine runs
    one batch at a time, or machines of their own) every core."""
    from apache_beam.options.pipeline_options import DirectOptions, StandardOptions

    direct = options.view_as(DirectOptions)
    if options.view_as(StandardOptions).runner not in ("DirectRunner", None):
        return None
    if direct.direct_running_mode != "multi_processing":
        return None
    cores = os.cpu_count() or 1
    return max(1, cores // (direct.direct_num_workers or cores))


def _absolute(name: Any) -> Any:
    """A run directory, model or weights file named relative to here, as workers find it
    (a registry name, ``default`` or ``none`` stays a name, whatever lies in this folder)."""
    if not isinstance(name, str) or name in ("default", "none") or name in registry.list_models():
        return name
    return str(Path(name).resolve()) if Path(name).exists() else name


def _calibration_key(spec, precision: str, calibration: Any) -> str | None:
    """What the int8 model depends on besides the weights: the digest of its calibration
    images (``None`` in float32), so that a rerun never adds shards of another int8 model."""
    if precision != "int8":
        return None
    from zoo.engines.int8 import default_images, images_digest

    files = find_sources(calibration).paths if calibration is not None else default_images(spec)
    return images_digest(files)


def _check_one_model(engine, weights: Any) -> None:
    """Every worker must compute with the same model: random weights (``--weights none``) on
    TensorFlow would be drawn anew by each worker (a file engine's artefact is made once by the
    driver, for the workers of this machine)."""
    if weights in (None, "none") and engine.name == "tf":
        raise InputError(
            "--weights none on the tf runtime would give each Beam worker other random weights; "
            "use --runtime litert or onnx (one artefact, made once), or real weights"
        )


def beam_features(
    model: str,
    src: Any,
    out: str | Path,
    *,
    stage: str = "pooled",
    weights: Any = "default",
    runtime: str | None = None,
    batch_size: int | None = None,
    dtype: str = "float32",
    input_shape: Sequence[int] | None = None,
    precision: str | None = None,
    calibration: Any = None,
    trust: bool = False,
    shard_size: int | None = None,
    runner: str = "direct",
    workers: int | None = None,
    options: Sequence[str] = (),
    overwrite: bool = False,
    progress: bool | None = None,
) -> JobResult:
    """``zoo.extract_features`` as a sharded Beam job writing ``out`` (a folder): shard files
    with the datasets and attributes of a single-process ``.h5``, a manifest, and a rerun that
    skips the finished shards. ``sharding.merge(out, "all.h5")`` joins them.

    Raises:
        InputError: as ``extract_features``; Beam missing; ``out`` holding another run.
        PipelineError: the pipeline failed (the shards written so far are kept).
    """
    require_beam()
    model, weights = _absolute(model), _absolute(weights)
    spec = registry.get_spec(model)
    check_stages(spec, [stage])
    check_dtype(dtype)
    batch_size = checked_batch_size(batch_size)
    precision = check_precision(precision)
    source = beam_sources(src)
    from zoo.inference.features import features_runner

    engine = features_runner(
        model, spec, stage, weights, runtime, input_shape, precision, calibration, trust=trust
    )
    settings = {
        "model": spec.name,
        "stage": stage,
        "weights_sha256": engine.weights_sha256,
        "precision": precision,
        "calibration": _calibration_key(spec, precision, calibration),
        "dtype": dtype,
        "input_size": input_size(input_shape),
    }
    attrs = store_attrs(
        spec, stage, dtype, engine.weights_sha256, engine.description, precision, input_shape
    )

    def handler(threads: int | None):
        from zoo.scale.shard_steps import ShardModelHandler

        return ShardModelHandler(
            model, stage, weights=weights, runtime=engine.name, batch_size=batch_size,
            input_shape=input_shape, precision=precision, calibration=calibration, trust=trust,
            threads=threads,
        )  # fmt: skip

    return _sharded_run(
        "features", out, source, settings, engine, weights, handler,
        {"attrs": attrs, "dtype": dtype}, shard_size=shard_size, runner=runner, workers=workers,
        options=options, overwrite=overwrite, progress=progress,
    )  # fmt: skip


def beam_predictions(
    model: str,
    src: Any,
    out: str | Path,
    *,
    top: int = 5,
    weights: Any = "default",
    runtime: str | None = None,
    batch_size: int | None = None,
    crop_fraction: float | None = None,
    precision: str | None = None,
    calibration: Any = None,
    trust: bool = False,
    shard_size: int | None = None,
    runner: str = "direct",
    workers: int | None = None,
    options: Sequence[str] = (),
    overwrite: bool = False,
    progress: bool | None = None,
) -> JobResult:
    """``zoo predict`` as a sharded Beam job writing ``out`` (a folder) of JSON-lines shards,
    one line per image as ``zoo predict --json`` gives it (an ``error`` for a file that cannot
    be read); a rerun skips the finished shards. ``sharding.merge(out, "all.jsonl")``.

    Raises:
        InputError: as ``zoo.predict``; Beam missing; ``out`` holding another run.
        PipelineError: the pipeline failed (the shards written so far are kept).
    """
    require_beam()
    model, weights = _absolute(model), _absolute(weights)
    spec = registry.get_spec(model)
    if top < 1:
        raise InputError(f"--top must be at least 1, received {top}")
    batch_size = checked_batch_size(batch_size)
    precision = check_precision(precision)
    source = beam_sources(src, labelled=False)
    from zoo.inference.prediction import predictions_runner

    engine = predictions_runner(spec, weights, runtime, trust, precision, calibration)
    settings = {
        "model": spec.name,
        "weights_sha256": engine.weights_sha256,
        "precision": precision,
        "calibration": _calibration_key(spec, precision, calibration),
        "top": top,
        "crop_fraction": crop_fraction,
    }

    def handler(threads: int | None):
        from zoo.scale.shard_steps import ShardModelHandler

        return ShardModelHandler(
            model, "predictions", weights=weights, runtime=engine.name, batch_size=batch_size,
            crop_fraction=crop_fraction, precision=precision, calibration=calibration,
            trust=trust, threads=threads,
        )  # fmt: skip

    return _sharded_run(
        "predictions", out, Source(source.paths), settings, engine, weights, handler,
        {"model": spec.name, "top": top}, shard_size=shard_size, runner=runner, workers=workers,
        options=options, overwrite=overwrite, progress=progress,
    )  # fmt: skip


def _sharded_run(
    kind: str, out, source: Source, settings: dict[str, Any], engine, weights: Any,
    make_handler, writer_settings: dict[str, Any], *, shard_size: int | None, runner: str,
    workers: int | None, options: Sequence[str], overwrite: bool, progress: bool | None,
) -> JobResult:  # fmt: skip
    """Plan ``kind``'s shards in ``out`` and run those not written yet through the model of
    ``make_handler(threads)``, holding ``out`` for the whole run."""
    _check_one_model(engine, weights)
    checked_count(shard_size, "--shard-size")
    checked_count(workers, "--workers")
    with sharding.locked(out):
        job = sharding.prepare(
            out, kind, source, settings, shard_size=shard_size, runtime=engine.description,
            overwrite=overwrite,
        )  # fmt: skip
        if job.todo:
            parsed = pipeline_options(runner, workers, options)
            writer = _writer(kind, job, **writer_settings)
            _run(job, make_handler(worker_threads(parsed)), writer, parsed, progress)
        return _result(job, engine.description)


def _writer(kind: str, job: sharding.Job, **settings):
    from zoo.scale.shard_steps import WriteShard

    files = {shard.index: shard.file for shard in job.shards}
    return WriteShard(kind, str(job.folder), files, job.label_names, settings)


def _run(job: sharding.Job, handler, writer, options, progress: bool | None) -> None:
    """Run the pipeline over ``job``'s unfinished shards, Beam's log in ``OUT/beam.log``: the
    shards spread over the workers, each run by RunInference with ``handler`` and written by
    ``writer`` in the same worker."""
    import apache_beam as beam
    from apache_beam.ml.inference.base import RunInference

    plan = [(shard.index, shard.first, shard.paths, shard.labels) for shard in job.todo]
    log = job.folder / sharding.LOG
    with _beam_log(log) as console, _progress(job, console, progress):
        try:
            pipeline = beam.Pipeline(options=options)
            _ = (
                pipeline
                | "Plan" >> beam.Create(plan)
                | "Spread" >> beam.Reshuffle()
                | "RunInference" >> RunInference(handler)
                | "Write" >> beam.ParDo(writer)
            )
            pipeline.run().wait_until_finish()
        except Exception as error:
            raise PipelineError(
                f"the Beam pipeline failed ({_last_line(error)}); the shards written so far are "
                f"kept and the same command goes on from them. Beam's log: {log}"
            ) from None


def _last_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[-1] if lines else ''}"[:500]


@contextlib.contextmanager
def _beam_log(path: Path) -> Iterator[TextIO]:
    """Send this process's and its workers' standard error (Beam's logs) to ``path`` while
    the block runs; yield a stream on the console's standard error for the progress bar."""
    from zoo.backend import stderr_redirected

    beam_logger = logging.getLogger("apache_beam")
    level = beam_logger.level
    beam_logger.setLevel(logging.WARNING)
    try:
        with stderr_redirected(path) as console, os.fdopen(os.dup(console), "w") as stream:
            yield stream
    finally:
        beam_logger.setLevel(level)


@contextlib.contextmanager
def _progress(job: sharding.Job, console: TextIO, enabled: bool | None) -> Iterator[None]:
    """A progress bar over the images of the shards written, polled from the folder."""
    if enabled is None:
        enabled = console.isatty()
    if not enabled:
        yield
        return
    from tqdm import tqdm

    todo = {shard.file: len(shard.paths) for shard in job.todo}
    total = sum(len(shard.paths) for shard in job.shards)
    bar = tqdm(total=total, initial=total - sum(todo.values()), unit="img", file=console)
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(0.5):
            for file in [f for f in todo if (job.folder / f).exists()]:
                bar.update(todo.pop(file))

    thread = threading.Thread(target=poll, daemon=True, name="zoo-beam-progress")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        bar.update(sum(todo[f] for f in list(todo) if (job.folder / f).exists()))
        bar.close()


def _result(job: sharding.Job, runtime: str) -> JobResult:
    """What the run left; the shards it had to write are checked (``prepare`` checked the
    others, under the same lock)."""
    missing = [shard.file for shard in job.todo if not sharding.shard_done(job, shard)]
    if missing:
        raise PipelineError(
            f"the pipeline ended with {len(missing)} shard(s) not written "
            f"({', '.join(missing[:3])}); the same command goes on from the others. "
            f"Beam's log: {job.folder / sharding.LOG}"
        )
    summary = sharding.summarize(job)
    return JobResult(
        job.folder, job.kind, len(job.shards), len(job.todo), summary.rows, summary.errors,
        summary.shape, runtime,
    )  # fmt: skip
