"""A model as ``zoo serve`` serves it: its name in URLs, its inputs, how its images are prepared,
its engine behind a dynamic batcher, and its answers as ranked labels.

The name is the registry name, or a run directory's folder name. Images are prepared exactly as
``zoo predict`` prepares them (``zoo.inputs.sources.prepare_file``: EXIF orientation, RGB, the
model's resize; MNIST models zoo's digit recipe), and run on the engine ``zoo predict`` picks
(``zoo.inference.prediction.predictions_runner``: LiteRT or ONNX Runtime on a CPU when cached
or installed, TensorFlow otherwise), so the server answers what ``zoo predict`` answers.

Example:
    >>> served = ServedModel.open("mnist_convnet")
    >>> served.start(max_batch=32, timeout=0.005, max_queue=256)
    >>> served.submit(served.decode(open("7.png", "rb").read(), "7.png")[None]).result().argmax()
    7
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo import labels as labels_lib
from zoo import registry, run_dir
from zoo.errors import InputError
from zoo.serving import artefacts
from zoo.serving.batcher import DynamicBatcher
from zoo.spec import ModelSpec

#: The version every model is served as (one version per model).
VERSION = "1"


#: A name a model may be served under (``zoo serve NAME=SOURCE``).
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def named_source(argument: str) -> tuple[str | None, str]:
    """``(NAME, SOURCE)`` of a ``zoo serve`` argument ``NAME=SOURCE``; ``(None, argument)`` for
    a plain source (also a path that exists with a ``=`` in it).

    Example:
        >>> named_source("digits=convnet.onnx")
        ('digits', 'convnet.onnx')
    """
    name, equals, source = argument.partition("=")
    if not equals or Path(argument).expanduser().exists():
        return None, argument
    if not NAME_PATTERN.fullmatch(name) or not source:
        raise InputError(
            f"{argument!r}: a served name is letters, digits, '_', '.' or '-' (at most 128), "
            "then '=' and the model: NAME=SOURCE"
        )
    return name, source


def url_name(source: str) -> str:
    """The name a source is served under: a run directory's folder name, an artefact's file
    name without its suffix, else the source."""
    if artefacts.artefact_format(source) is not None:
        return artefacts.served_name(Path(source).expanduser())
    return Path(source).name if run_dir.is_run_dir(source) else source


@dataclass
class ServedModel:
    """One served model (``open``, then ``start``; ``submit`` prepared images)."""

    name: str
    source: str
    spec: ModelSpec
    runtime: str | None = None
    precision: str | None = None
    calibration: Any = None  # with precision int8: the images to calibrate and check on
    weights: Any = "default"
    trust: bool = False
    runner: Any = None
    batcher: DynamicBatcher | None = None
    names: tuple[str, ...] = field(default_factory=tuple)
    wordnet_ids: tuple[str, ...] | None = None
    opener: Any = None  # an exported artefact's runner opener (``zoo.serving.artefacts``)
    keras_model: Any = None  # built for Grad-CAM on the first ``explain``
    explain_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(
        cls,
        source: str,
        *,
        runtime: str | None = None,
        precision: str | None = None,
        calibration: Any = None,
        weights: Any = "default",
        trust: bool = False,
    ) -> ServedModel:
        """The model named by ``source`` (a registry name, a run directory, a ``.keras`` file
        or an exported artefact: ``zoo.serving.artefacts``; ``NAME=SOURCE`` serves it as
        NAME), not yet started.

        Raises:
            UnknownModelError: ``source`` names no model (with the closest names).
            InputError: the model does not classify images; an artefact without its export
                report, or with a runtime or precision other than its own.
        """
        name, source = named_source(source)
        opener = None
        fmt = artefacts.artefact_format(source)
        if fmt is not None:
            _check_artefact_flags(source, fmt, runtime, precision, calibration)
            opener = artefacts.artefact_opener(source, trust)  # a SavedModel: trust first
            spec = artefacts.artefact_spec(source)
        else:
            spec = registry.get_spec(source)
        if spec.num_classes is None or len(spec.input_shape) != 3:
            raise InputError(
                f"zoo serve serves image classifiers; {spec.name} takes "
                f"{tuple(spec.input_shape)} and gives {spec.num_classes} classes"
            )
        if spec.dataset != "imagenet" and spec.preprocessing != "mnist":
            raise InputError(
                f"zoo serve serves image models (ImageNet and MNIST ones); {spec.name} takes "
                f"{tuple(spec.input_shape)} ({spec.dataset})"
            )
        return cls(
            name=name or url_name(source),
            source=source,
            spec=spec,
            runtime=runtime,
            precision=precision,
            calibration=calibration,
            weights=weights,
            trust=trust,
            opener=opener,
            names=labels_lib.names(spec.labels, spec.num_classes),
            wordnet_ids=labels_lib.wordnet_ids(spec.labels),
        )

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.spec.input_shape)

    @property
    def ready(self) -> bool:
        return self.batcher is not None

    def start(
        self, *, max_batch: int, timeout: float, max_queue: int, on_batch: Any = None
    ) -> None:
        """Open the engine, run one batch through it (so that the first request is not the one
        to pay for tracing or allocation), then start the batcher."""
        from zoo.inference.prediction import predictions_runner

        if self.opener is not None:
            self.runner = self.opener()
        else:
            self.runner = predictions_runner(
                self.spec, self.weights, self.runtime, self.trust, self.precision,
                self.calibration,
            )  # fmt: skip
        outputs = np.asarray(self.runner.run(np.zeros((1, *self.input_shape), np.uint8)))
        if outputs.shape[-1] != len(self.names):
            raise InputError(
                f"{self.source} gives {outputs.shape[-1]} outputs for {len(self.names)} classes"
            )
        self.batcher = DynamicBatcher(
            self.runner.run,
            max_batch=max_batch,
            timeout=timeout,
            max_queue=max_queue,
            on_batch=on_batch,
            name=f"batcher-{self.name}",
        )

    def stop(self) -> None:
        """Finish the queued requests, then stop the batcher."""
        if self.batcher is not None:
            self.batcher.close()

    def decode(self, data: bytes, where: str) -> np.ndarray:
        """One encoded image (JPEG, PNG, ...) as this model's input, as ``zoo predict``
        prepares a file.

        Raises:
            InputError: empty, truncated, not an image, or too many pixels; ``where`` names it.
        """
        from zoo.inputs.sources import prepare_file

        if not data:
            raise InputError(f"{where}: empty (0 bytes), not an image")
        return np.asarray(prepare_file(self.spec, where, data=data))

    def check_pixels(self, array: np.ndarray, where: str) -> np.ndarray:
        """A batch of raw pixels (N, H, W, C) checked against the model's input: the shape (an
        MNIST model also takes (N, 28, 28)), finite values in 0..255.

        Raises:
            InputError: naming what was received and what is valid.
        """
        expected = self.input_shape
        if array.ndim == len(expected) and expected[-1] == 1:
            array = array[..., np.newaxis]
        if array.ndim != len(expected) + 1 or tuple(array.shape[1:]) != expected:
            shape = ", ".join(str(d) for d in expected)
            raise InputError(
                f"{where}: {self.name} takes pixels of shape [N, {shape}] (uint8 0..255); "
                f"received shape {list(array.shape)}"
            )
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise InputError(f"{where}: pixels must be finite numbers in 0..255")
        if array.size and (array.min() < 0 or array.max() > 255):
            raise InputError(
                f"{where}: pixels must be in 0..255, received {array.min()}..{array.max()}"
            )
        return array

    def submit(self, images: np.ndarray) -> Future:
        """Queue prepared images for the engine (``DynamicBatcher.submit``)."""
        if self.batcher is None:
            raise RuntimeError(f"{self.name} is not started")
        return self.batcher.submit(images)

    def explain(self, pixels: np.ndarray) -> dict[str, Any]:
        """Grad-CAM of the top-1 class on one prepared image (``zoo.evaluation.gradcam``), with
        the heat map over the image as a PNG (``overlay_png``, base64). Needs the Keras model:
        built on the first call (TensorFlow is imported then, not before), one call at a time.
        """
        import base64
        import io

        from PIL import Image

        from zoo.evaluation.gradcam import grad_cam, last_conv_stage, overlay
        from zoo.models import resolve_model

        if self.opener is not None:
            raise InputError(
                f"{self.name} is served from an exported artefact ({self.source}): Grad-CAM "
                "needs the Keras model; serve the registry model or run directory it came from"
            )
        with self.explain_lock:
            if self.keras_model is None:
                self.keras_model = resolve_model(self.spec, self.weights, trust=self.trust)[0]
            stage = last_conv_stage(self.spec)
            heat, chosen, probabilities = grad_cam(self.keras_model, self.spec, pixels, None, stage)
        picture = Image.fromarray(overlay(pixels, heat))
        scale = max(1, 224 // picture.height)  # a 28 x 28 digit is shown 8 times larger
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
        png = io.BytesIO()
        picture.save(png, format="PNG")
        peak = np.unravel_index(int(np.argmax(heat)), heat.shape)
        return {
            "class": chosen,
            "label": self.names[chosen] if chosen < len(self.names) else str(chosen),
            "probability": round(float(probabilities[chosen]), 6),
            "stage": stage,
            "peak": [int(peak[0]), int(peak[1])],
            "overlay_png": base64.b64encode(png.getvalue()).decode(),
        }

    def ranked(self, probabilities: np.ndarray, k: int) -> list[dict[str, Any]]:
        """The ``k`` best classes of one probability vector, with WordNet ids for ImageNet."""
        from zoo.inference.prediction import top_k

        return top_k(np.asarray(probabilities), k, self.names, self.wordnet_ids)


def _check_artefact_flags(source: str, fmt: str, runtime, precision, calibration) -> None:
    """An artefact runs in its own runtime and precision: ``--runtime`` / ``--precision`` may
    only name those."""
    own = "tf" if fmt == "savedmodel" else fmt
    if runtime not in (None, "auto", own):
        raise InputError(
            f"{source} is a {fmt} artefact and runs on {own}; received --runtime {runtime}"
        )
    if precision not in (None, "float32") or calibration is not None:
        raise InputError(
            f"{source} computes as it was exported; --precision / --calibration apply to registry "
            "models and run directories (zoo export --quantize int8 makes an int8 artefact)"
        )
