"""zoo's image models as Apache Beam transforms: decode with zoo's image path, run zoo's
fastest runtime through Beam's ``RunInference``, and get features or predictions, with the
files that cannot be read in a separate ``errors`` output. Embed them in a pipeline of yours,
or let ``zoo features --engine beam`` / ``zoo predict --engine beam`` run them
(``zoo.scale.jobs``). Needs the ``beam`` extra: ``pip install 'keras-zoo[beam]'``.

Elements in are paths (local, or ``gs://`` / ``s3://`` ... when Beam's filesystem for them is
installed), or ``(key, path)`` pairs; elements out are ``(key, value)`` with the path as key
when none was given. ``ZooModelHandler`` loads zoo's runner once per worker process (Beam
shares it between the threads of a worker) and batches with RunInference's batching.

Example:
    >>> import apache_beam as beam
    >>> from zoo.scale.pipelines import features_pipeline
    >>> with beam.Pipeline() as pipeline:
    ...     out = pipeline | beam.Create(["cat.jpg", "notes.txt"]) | features_pipeline(
    ...         "mobilenet_v1_0.25_128", stage="pooled")
    ...     _ = out["features"] | beam.Map(print)  # ('cat.jpg', array([0.1, ...], dtype=float32))
    ...     _ = out["errors"] | beam.Map(print)  # ('notes.txt', 'notes.txt', 'notes.txt: not ...')
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

try:
    import apache_beam as beam
    from apache_beam.ml.inference.base import (
        KeyedModelHandler,
        ModelHandler,
        PredictionResult,
        RunInference,
    )
except ImportError as error:  # pragma: no cover - the extra is missing
    raise ImportError(
        "zoo.scale.pipelines needs Apache Beam: pip install 'keras-zoo[beam]'"
    ) from error

from zoo import registry
from zoo.errors import InputError
from zoo.inputs.sources import DEFAULT_BATCH_SIZE, try_prepare_file

#: The tag of the output that carries (key, path, reason) for each file that cannot be read.
ERRORS = "errors"


class ZooModelHandler(ModelHandler[np.ndarray, PredictionResult, Any]):
    """A Beam ``ModelHandler`` over zoo's runner of a model's ``output`` (``predictions`` or a
    feature stage): the engine ``zoo.engines.runtimes.get_runner`` picks (LiteRT, ONNX Runtime or
    TensorFlow; int8 with ``precision="int8"``), ``batch_size`` images per run.

    ``threads``: the engine's threads per worker (``$ZOO_THREADS``), so that several workers on
    one machine do not each take every core.

    Example:
        >>> handler = ZooModelHandler("mnist_convnet", "pooled", runtime="litert")
        >>> runner = handler.load_model()
        >>> handler.run_inference([np.zeros((28, 28, 1), "float32")], runner)[0].inference.shape
        (625,)
    """

    def __init__(
        self,
        model: str,
        output: str = "predictions",
        *,
        weights: Any = "default",
        runtime: str | None = None,
        input_shape: Sequence[int] | None = None,
        precision: str | None = None,
        calibration: Any = None,
        trust: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
    ):
        super().__init__(
            min_batch_size=batch_size,
            max_batch_size=batch_size,
            env_vars={"ZOO_THREADS": str(threads)} if threads else {},
        )
        self.model, self.output, self.weights, self.batch_size = model, output, weights, batch_size
        self.runtime, self.input_shape, self.precision = runtime, input_shape, precision
        self.calibration, self.trust = calibration, trust

    def load_model(self):
        spec = registry.get_spec(self.model)
        if self.output == "predictions":
            from zoo.inference.prediction import predictions_runner

            runner = predictions_runner(
                spec, self.weights, self.runtime, self.trust, self.precision, self.calibration
            )
        else:
            from zoo.inference.features import features_runner

            runner = features_runner(
                self.model, spec, self.output, self.weights, self.runtime, self.input_shape,
                self.precision, self.calibration, trust=self.trust,
            )  # fmt: skip
        # Beam shares the model between a worker's threads; a LiteRT interpreter must not run
        # twice at once ("reference to internal data"), so one batch at a time per process.
        runner.lock = threading.Lock()
        return runner

    def run_inference(
        self, batch: Sequence[np.ndarray], model, inference_args: dict[str, Any] | None = None
    ) -> Iterable[PredictionResult]:
        inputs = np.stack(batch).astype(np.float32, copy=False)
        with model.lock:
            values = model.run(inputs)
        return [PredictionResult(None, value, model.description) for value in values]

    def get_num_bytes(self, batch: Sequence[np.ndarray]) -> int:
        return sum(example.nbytes for example in batch)

    def get_metrics_namespace(self) -> str:
        return "zoo"


class DecodeImages(beam.DoFn):
    """``path`` or ``(key, path)`` -> ``((key, path), model input)``, decoded as zoo does for
    ``model`` (EXIF orientation, modes, the pixel limit); a file that cannot be read goes to
    the ``errors`` output as ``(key, path, reason)`` and never fails the pipeline."""

    def __init__(
        self,
        model: str,
        input_shape: Sequence[int] | None = None,
        crop_fraction: float | None = None,
    ):
        self.model, self.input_shape, self.crop_fraction = model, input_shape, crop_fraction
        self.spec = None

    def setup(self) -> None:
        self.spec = registry.get_spec(self.model)

    def process(self, element) -> Iterator[Any]:
        key, path = element if isinstance(element, tuple) else (element, element)
        array, reason = try_prepare_file(
            self.spec, path, self.crop_fraction, self.input_shape, read=remote_bytes
        )
        if reason is not None:
            yield beam.pvalue.TaggedOutput(ERRORS, (key, path, reason))
        else:
            yield (key, path), array


def remote_bytes(path: str) -> bytes | None:
    """The bytes of a file on a Beam filesystem (``gs://``, ``s3://`` ...), or ``None`` for a
    local path (zoo's decoder opens it itself).

    Raises:
        InputError: the file cannot be read (missing, no credentials, no such filesystem).
    """
    if "://" not in path:
        return None
    from apache_beam.io.filesystems import FileSystems

    try:
        with FileSystems.open(path) as handle:
            return handle.read()
    except Exception as error:  # a missing object, no credentials, no such filesystem
        raise InputError(f"{path}: cannot read ({type(error).__name__}: {error})") from None


class _Outputs(beam.PTransform):
    """Decode, RunInference, then ``finish`` each ((key, path), PredictionResult) into the
    output called ``name``."""

    def __init__(self, name: str, decode: DecodeImages, handler: ZooModelHandler, finish):
        super().__init__()
        self.output, self.decode, self.handler, self.finish = name, decode, handler, finish

    def expand(self, images):
        decoded = images | "Decode" >> beam.ParDo(self.decode).with_outputs(ERRORS, main="inputs")
        results = decoded.inputs | "RunInference" >> RunInference(KeyedModelHandler(self.handler))
        outputs = results | "Finish" >> beam.MapTuple(self.finish)
        return {self.output: outputs, ERRORS: decoded[ERRORS]}


class _Features:
    def __init__(self, dtype: str):
        self.dtype = dtype

    def __call__(self, key_path, result):
        return key_path[0], np.asarray(result.inference).astype(self.dtype, copy=False)


class _Predictions:
    """((key, path), PredictionResult) -> (key, the ``zoo predict --json`` result)."""

    def __init__(self, model: str, top: int):
        from zoo.inference.prediction import RankedPredictions

        self.ranking = RankedPredictions(registry.get_spec(model), top)

    def __call__(self, key_path, result):
        key, path = key_path
        return key, self.ranking.entry(path, result.inference)


def features_pipeline(
    model: str,
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
    threads: int | None = None,
) -> beam.PTransform:
    """A transform from image paths (or (key, path) pairs) to ``{"features": (key, array),
    "errors": (key, path, reason)}``; the arguments are ``zoo.extract_features``'.

    Example:
        >>> out = paths | features_pipeline("mnist_convnet", stage="pooled")
        >>> out["features"]  # PCollection of ('7.png', array(shape=(625,)))
    """
    handler = ZooModelHandler(
        model, stage, weights=weights, runtime=runtime, input_shape=input_shape,
        precision=precision, calibration=calibration, trust=trust,
        batch_size=batch_size or DEFAULT_BATCH_SIZE, threads=threads,
    )  # fmt: skip
    return _Outputs("features", DecodeImages(model, input_shape), handler, _Features(dtype))


def predictions_pipeline(
    model: str,
    *,
    top: int = 5,
    weights: Any = "default",
    runtime: str | None = None,
    batch_size: int | None = None,
    crop_fraction: float | None = None,
    precision: str | None = None,
    calibration: Any = None,
    trust: bool = False,
    threads: int | None = None,
) -> beam.PTransform:
    """A transform from image paths (or (key, path) pairs) to ``{"predictions": (key,
    {"file", "model", "top": [...]}), "errors": (key, path, reason)}``, the results as
    ``zoo predict --json`` gives them.

    Example:
        >>> out = paths | predictions_pipeline("mobilenet_v1_0.25_128", top=1)
        >>> out["predictions"]  # ('cat.jpg', {'file': 'cat.jpg', 'top': [{'label': ...}]})
    """
    handler = ZooModelHandler(
        model, "predictions", weights=weights, runtime=runtime, precision=precision,
        calibration=calibration, trust=trust, batch_size=batch_size or DEFAULT_BATCH_SIZE,
        threads=threads,
    )  # fmt: skip
    decode = DecodeImages(model, None, crop_fraction)
    return _Outputs("predictions", decode, handler, _Predictions(model, top))
