"""``zoo bench --int8``: what ``--precision int8`` buys and what it loses, side by side in one run.

Speed (default MobileNetV2 @224, random weights, generated JPEGs): LiteRT float32 and int8
pure compute on an in-memory batch (zoo's micro-batches), and ``zoo features`` end to end on
each, alternated and best of ``rounds``. Fidelity (MobileNet v1 0.25 @128 with its real
ImageNet weights, when cached): for each calibration recipe, int8 against float32 on real
photos that were not calibrated on: top-1 agreement, float32's top-1 within int8's top-5, and
the pooled features' cosine similarity.

Example:
    $ zoo bench --int8 --images 512 --photos ../shared/data/photos
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from zoo import registry
from zoo.bench.runtimes import end_to_end, make_jpegs, pooled_runner, pure_compute
from zoo.engines.conversion import export_model
from zoo.engines.int8 import (
    PRECISIONS,
    compare,
    default_images,
    int8_converter_options,
    split_images,
)
from zoo.errors import ZooWarning
from zoo.inputs.sources import find_sources, prepare_files

FIDELITY_MODEL = "mobilenet_v1_0.25_128"
AUGMENTED_CROPS = 200
BATCH = 32


def speed(model: str, images: int, weights: Any, rounds: int = 3) -> str:
    """Markdown table: float32 vs int8 LiteRT, pure compute and end to end (images/s)."""
    spec = registry.get_spec(model)
    temp = Path(tempfile.mkdtemp(prefix="zoo-bench-int8-"))
    try:
        folder = temp / "jpegs"
        make_jpegs(folder, images)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ZooWarning)  # random weights: unchecked, speed only
            runners = {name: pooled_runner(spec, "litert", weights, name) for name in PRECISIONS}
            compute = {name: 0.0 for name in runners}
            e2e = {name: 0.0 for name in runners}
            for _ in range(rounds):  # alternate, best of rounds: the machine is noisy
                for name, runner in runners.items():
                    compute[name] = max(compute[name], pure_compute(spec, runner))
                    rate = end_to_end(spec, folder, "litert", weights, BATCH, precision=name)
                    e2e[name] = max(e2e[name], rate)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    best = max(compute.values())
    lines = [
        f"Model `{spec.name}` (weights: {weights or 'none'}), {os.cpu_count()} CPU cores, "
        f"{images} JPEGs of 640x480, LiteRT; best of {rounds} alternated rounds.",
        "",
        "| what | images/s | × float32 end to end | × fastest pure compute |",
        "|---|---|---|---|",
    ]
    for label, rate in [
        *((f"pure compute, {name}, batch 32 in micro-batches", compute[name]) for name in compute),
        *((f"zoo features end to end, {name}", e2e[name]) for name in e2e),
    ]:
        lines.append(f"| {label} | {rate:.1f} | {rate / e2e['float32']:.2f} | {rate / best:.2f} |")
    return "\n".join(lines)


def _int8_outputs(model, calibration: np.ndarray, batch: np.ndarray) -> list[np.ndarray]:
    """Every output of ``model`` made full-integer int8 (calibrated on ``calibration``) for
    ``batch``, one image at a time, in the order of ``model.outputs``."""
    from ai_edge_litert.interpreter import Interpreter

    from zoo.backend import stderr_silenced

    path = Path(tempfile.mkdtemp(prefix="zoo-int8-")) / "model.tflite"
    try:
        export_model(model, path, "litert", **int8_converter_options(calibration))
        with stderr_silenced():
            interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count() or 1)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    interpreter.allocate_tensors()
    details = interpreter.get_output_details()
    widths = [int(output.shape[-1]) for output in model.outputs]  # distinct: the key to order
    order = [next(d["index"] for d in details if d["shape"][-1] == w) for w in widths]
    results: list[list[np.ndarray]] = [[] for _ in order]
    for image in batch:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image[np.newaxis])
        interpreter.invoke()
        for found, index in zip(results, order, strict=True):
            found.append(interpreter.get_tensor(index)[0].copy())
    return [np.stack(found) for found in results]


def _augmented(images: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """``count`` random crops (50-100 % of the side), flips and brightness changes of
    ``images``, resized back to their size."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    height, width = images.shape[1:3]
    out = []
    for index in range(count):
        image = images[index % len(images)]
        scale = rng.uniform(0.5, 1.0)
        h, w = int(height * scale), int(width * scale)
        y, x = rng.integers(0, height - h + 1), rng.integers(0, width - w + 1)
        crop = Image.fromarray(image[y : y + h, x : x + w].astype(np.uint8))
        crop = np.asarray(crop.resize((width, height), Image.Resampling.BILINEAR), np.float32)
        crop = crop[:, ::-1] if rng.random() < 0.5 else crop
        out.append(np.clip(crop * rng.uniform(0.7, 1.3) + rng.uniform(-20, 20), 0, 255))
    return np.stack(out).astype(np.float32)


def fidelity(photos: Any = None) -> str:
    """Markdown table: int8 vs float32 of ``FIDELITY_MODEL`` with its real weights, per
    calibration recipe, on zoo's parity photos plus ``photos``; a line saying why when the
    weights are not cached."""
    from zoo.models import load
    from zoo.weights.cache import cached_path

    spec = registry.get_spec(FIDELITY_MODEL)
    missing = [w.file for w in (spec.weights, spec.weights_no_top) if not cached_path(w).is_file()]
    if missing:  # never download in a benchmark
        return f"Fidelity: skipped, not in the weights cache: {', '.join(missing)}."
    calibration_files, parity_files = split_images(default_images(spec))
    extra = find_sources(photos).paths if photos is not None else []
    calibration = prepare_files(spec, calibration_files)
    evaluation = prepare_files(spec, parity_files + extra)
    evaluation = np.concatenate([evaluation, evaluation[:, :, ::-1]])  # and their mirror images
    import keras

    from zoo.models import stage_tensor

    classifier = load(spec)  # one model, two outputs: one conversion per recipe
    both = keras.Model(
        classifier.inputs, [classifier.output, stage_tensor(classifier, spec, "pooled")]
    )
    expected, expected_pooled = (np.asarray(x) for x in both.predict(evaluation, verbose=0))
    recipes = {
        f"zoo's {len(calibration)} calibration photos (the default)": calibration,
        f"the same + {AUGMENTED_CROPS} augmented crops of them": np.concatenate(
            [calibration, _augmented(calibration, AUGMENTED_CROPS)]
        ),
        f"{AUGMENTED_CROPS} random-noise images": np.random.default_rng(0)
        .uniform(0, 255, (AUGMENTED_CROPS, *calibration.shape[1:]))
        .astype(np.float32),
    }
    lines = [
        f"Model `{spec.name}`, real ImageNet weights; {len(evaluation)} evaluation images "
        f"({len(evaluation) // 2} real photos not calibrated on, and their mirror images).",
        "",
        "| calibration | top-1 agreement | float32 top-1 in int8 top-5 | pooled cosine: mean "
        "| min |",
        "|---|---|---|---|---|",
    ]
    for label, images in recipes.items():
        actual, features = _int8_outputs(both, images, evaluation)
        report = compare(expected, actual, "predictions")
        in_top5 = np.mean(
            np.any(np.argsort(-actual, 1)[:, :5] == expected.argmax(1)[:, None], axis=1)
        )
        norms = np.linalg.norm(features, axis=1) * np.linalg.norm(expected_pooled, axis=1)
        cosine = np.sum(features * expected_pooled, axis=1) / np.maximum(norms, 1e-12)
        lines.append(
            f"| {label} | {report['top1_agreement']:.1%} | {in_top5:.1%} | "
            f"{cosine.mean():.4f} | {cosine.min():.4f} |"
        )
    return "\n".join(lines)


def int8_bench(
    model: str = "mobilenet_v2_1.0_224",
    images: int = 512,
    weights: Any = None,
    photos: Any = None,
    rounds: int = 3,
) -> str:
    """Both tables, speed then fidelity."""
    return speed(model, images, weights, rounds) + "\n\n" + fidelity(photos)
