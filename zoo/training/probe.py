"""``zoo.probe`` / ``zoo probe``: which backbone suits my data? A linear probe per model.

For each model: its pooled features of the images (computed once), a softmax (logistic) head
trained on them, and that head's validation accuracy — with the model's size, features/s and
seconds taken. Minutes instead of a day of fine-tuning trials. Models whose weights are not in
the cache are skipped when offline and downloaded otherwise.

Example:
    >>> rows = zoo.probe("photos/", ["mobilenet_v*", "efficientnet_b0"], out="probe")
    >>> [(row["model"], row["accuracy"]) for row in rows][:2]
    [('efficientnet_b0', 0.91), ('mobilenet_v2_1.0_224', 0.88)]
"""

from __future__ import annotations

import csv
import fnmatch
import io
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zoo import registry
from zoo.errors import InputError, UnknownModelError, WeightsError
from zoo.files import atomic_write
from zoo.inputs.labelled import align_classes, read_labelled, stratified_split
from zoo.models import swappable_head
from zoo.weights.download import is_offline

PROBE_EPOCHS = 60
PROBE_LEARNING_RATE = 1e-2
COLUMNS = ("model", "accuracy", "params", "features_per_s", "seconds", "status")


def expand_models(patterns: Sequence[str]) -> list[str]:
    """Registry names for names and shell patterns (``"mobilenet_v*"``), in the order given,
    keeping the image classifiers a head can be put on.

    Raises:
        UnknownModelError: a name that is not registered, or a pattern that matches none.
    """
    names: list[str] = []
    for pattern in patterns:
        if any(char in pattern for char in "*?["):
            found = [
                name
                for name in registry.list_models()
                if fnmatch.fnmatchcase(name, pattern) and swappable_head(registry.get_spec(name))
            ]
            if not found:
                raise UnknownModelError(f"No image classifier matches {pattern!r}")
        else:
            found = [registry.get_spec(pattern).name]
        names.extend(name for name in found if name not in names)
    return names


def _missing_weights(spec) -> str | None:
    """Why ``spec``'s headless weights cannot be had here (offline and not cached), or None."""
    from zoo.weights.cache import cached_path

    weights = spec.weights_no_top or spec.weights
    if weights is None or weights.source != "url" or cached_path(weights).is_file():
        return None
    return "skipped: weights not in the cache (offline)" if is_offline() else None


def _linear_probe(train_x, train_y, val_x, val_y, classes: int, seed: int) -> float:
    """Validation accuracy of a softmax layer trained on standardised features."""
    import keras

    mean, std = train_x.mean(axis=0), train_x.std(axis=0) + 1e-6
    keras.utils.set_random_seed(seed)
    head = keras.Sequential(
        [keras.Input((train_x.shape[1],)), keras.layers.Dense(classes, activation="softmax")]
    )
    head.compile(
        keras.optimizers.Adam(PROBE_LEARNING_RATE),
        "sparse_categorical_crossentropy",
        jit_compile=False,
    )
    head.fit((train_x - mean) / std, train_y, batch_size=256, epochs=PROBE_EPOCHS, verbose=0)
    predicted = head.predict((val_x - mean) / std, batch_size=1024, verbose=0).argmax(axis=1)
    return float(np.mean(predicted == val_y))


def _probe_one(name: str, data: Any, validation: Any, image_size, batch_size, seed) -> dict:
    from zoo.models import load
    from zoo.training.head import head_models, keras_features
    from zoo.training.settings import training_input_shape

    spec = registry.get_spec(name)
    started = time.perf_counter()
    shape = (
        training_input_shape(spec, image_size) if spec.dataset == "imagenet" else spec.input_shape
    )
    images = read_labelled(data, spec, shape)
    if isinstance(validation, float):
        train, held = stratified_split(images, validation, seed)
    else:
        train, held = images, read_labelled(validation, spec, shape)
        align_classes(held, images.class_names, str(validation))
    options = {"input_shape": shape} if spec.dataset == "imagenet" else {}
    model = load(spec, num_classes=len(images.class_names), **options)
    extractor, _ = head_models(model)
    extract_started = time.perf_counter()

    def pooled(x: np.ndarray) -> np.ndarray:
        return keras_features(extractor, x, batch_size).reshape(len(x), -1)

    train_features, held_features = pooled(train.x), pooled(held.x)
    rate = (len(train.x) + len(held.x)) / (time.perf_counter() - extract_started)
    accuracy = _linear_probe(
        train_features, train.y, held_features, held.y, len(images.class_names), seed
    )
    return {
        "model": name,
        "accuracy": accuracy,
        "params": int(extractor.count_params()),
        "features_per_s": rate,
        "seconds": time.perf_counter() - started,
        "status": "ok",
    }


def probe(
    data: Any,
    models: Sequence[str],
    *,
    validation: float | str | Path = 0.2,
    out: str | Path | None = "probe",
    image_size: int | None = None,
    batch_size: int = 64,
    seed: int = 0,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Linear-probe each of ``models`` on ``data``; rows sorted by validation accuracy.

    Args:
        data: labelled images, as ``zoo.fine_tune`` takes them.
        models: registry names and shell patterns (``"mobilenet_v*"``).
        validation: a fraction held out per class (default 0.2) or validation data.
        out: folder for ``probe.csv`` and ``probe.png`` (None: write nothing).
        image_size: ImageNet models' input side (default: each model's own).

    Returns:
        One dict per model: ``model``, ``accuracy`` (None when skipped), ``params``,
        ``features_per_s``, ``seconds``, ``status`` (``ok`` or why it was skipped).

    Example:
        >>> zoo.probe("digits/", ["mnist_convnet", "mobilenet_v1_0.25_128"], out=None)[0]["model"]
        'mnist_convnet'
    """
    from tqdm import tqdm

    names = expand_models(models)
    if isinstance(validation, (int, float)) and not 0 < validation < 1:
        raise InputError(f"validation as a fraction must be in (0, 1), received {validation!r}")
    rows = []
    for name in tqdm(names, desc="probing", unit="model", disable=not progress):
        reason = _missing_weights(registry.get_spec(name))
        if reason is None:
            try:
                rows.append(_probe_one(name, data, validation, image_size, batch_size, seed))
                continue
            except WeightsError as error:
                reason = f"skipped: {error}"
        rows.append(dict.fromkeys(COLUMNS) | {"model": name, "status": reason})
    rows.sort(key=lambda row: -1 if row["accuracy"] is None else row["accuracy"], reverse=True)
    if out is not None:
        write_results(Path(out), rows)
    return rows


def write_results(folder: Path, rows: list[dict[str, Any]]) -> None:
    """``probe.csv``, and ``probe.png`` (a bar per probed model) when matplotlib is there."""
    from zoo.evaluation.report import plots_available, pyplot, save_figure

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(folder / "probe.csv", buffer.getvalue())
    probed = [row for row in rows if row["accuracy"] is not None]
    if not probed or not plots_available():
        return
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(8, 0.45 * len(probed) + 1.5))
    names = [row["model"] for row in probed][::-1]
    accuracies = [100 * row["accuracy"] for row in probed][::-1]
    bars = axis.barh(names, accuracies, color="tab:blue")
    for bar, accuracy in zip(bars, accuracies, strict=True):
        axis.text(
            bar.get_width() + 0.5,
            bar.get_y() + bar.get_height() / 2,
            f"{accuracy:.1f}",
            va="center",
        )
    axis.set_xlim(0, 112)
    axis.set_xlabel("validation accuracy of a linear probe on pooled features (%)")
    axis.set_title("Which backbone for this data?")
    figure.tight_layout()
    save_figure(figure, folder / "probe.png")
