"""``zoo.evaluate``: a classifier (a registry name, a fine-tuning run directory or a model file)
on labelled images: accuracy, per-class precision / recall / F1, the confusion matrix, the most
confused pairs and the images with the highest loss, with ``evaluation.json``,
``confusion.png`` and ``top_losses.png`` written to ``out``.

The data's classes are matched to the model's by name (for ImageNet models, by class name or
WordNet id); a class the model does not know is an error naming both sides. Unreadable files are
listed in the report, not fatal.

Example:
    >>> report = zoo.evaluate("runs/digits", "digits/test", out="runs/digits/evaluation")
    >>> report["accuracy"], report["most_confused"][0]
    (0.981, ['4', '9', 3])
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from zoo import labels, registry, run_dir
from zoo.errors import InputError
from zoo.evaluation import report as reports
from zoo.evaluation.tta import averaged, check_tta, view_kind
from zoo.files import atomic_write, check_writable_folder
from zoo.inputs.labelled import LabelledImages, check_not_inside, read_labelled
from zoo.spec import ModelSpec

REPORT_FILE = "evaluation.json"
CONFUSION_FILE = run_dir.CONFUSION_FILE
TOP_LOSSES_FILE = run_dir.TOP_LOSSES_FILE
DEFAULT_TOP_LOSSES = 16
BATCH = 64


def class_names(spec: ModelSpec) -> list[str]:
    """The model's class names, in the order of its outputs; an ``InputError`` for a model
    that is not a classifier."""
    if not spec.num_classes or spec.labels is None:
        raise InputError(
            f"{spec.name} is not a classifier (it has no class labels); zoo evaluate takes an "
            "ImageNet or MNIST classifier, or a fine-tuning run directory"
        )
    return list(labels.names(spec.labels, spec.num_classes))


def model_indices(data: LabelledImages, spec: ModelSpec, source: Any) -> np.ndarray:
    """``data``'s labels as indices of the model's outputs, matched by class name (or WordNet
    id)."""
    names = class_names(spec)
    index = {name: i for i, name in enumerate(names)}
    wordnet = labels.wordnet_ids(spec.labels) if isinstance(spec.labels, str) else None
    if wordnet:
        index.update({wnid: i for i, wnid in enumerate(wordnet)})
    unknown = [name for name in data.class_names if name not in index]
    if unknown:
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        raise InputError(
            f"The classes of {source} ({', '.join(unknown[:8])}) are not among {spec.name}'s "
            f"{len(names)} classes ({shown}): evaluate a model trained on these classes"
        )
    mapping = np.array([index[name] for name in data.class_names])
    return mapping[data.y]


def predict_probabilities(model, x: np.ndarray, kind: str, tta: int, progress: bool) -> np.ndarray:
    """``model``'s probabilities for ``x`` in batches (averaged over ``tta`` views), with a
    progress bar."""
    from tqdm import tqdm

    def call(batch):
        return model.predict_on_batch(np.asarray(batch, dtype="float32"))

    parts = []
    with tqdm(
        total=len(x), desc="evaluating", unit="img", disable=not progress, leave=False
    ) as bar:
        for start in range(0, len(x), BATCH):
            batch = x[start : start + BATCH]
            parts.append(averaged(call, batch, kind, tta))
            bar.update(len(batch))
    return np.concatenate(parts) if parts else np.zeros((0, 0))


def write_report(out: Path, result: dict[str, Any], images: np.ndarray, title: str) -> list[str]:
    """``evaluation.json`` and the two plots (when matplotlib is there) in ``out``; returns the
    files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = [REPORT_FILE]
    atomic_write(out / REPORT_FILE, json.dumps(result, indent=1))
    if reports.plots_available():
        reports.plot_confusion(out / CONFUSION_FILE, result, f"Confusion: {title}")
        shown = images[[row["index"] for row in result["top_losses"]]]
        reports.plot_top_losses(
            out / TOP_LOSSES_FILE, shown, result["top_losses"], f"Top losses: {title}"
        )
        written += [CONFUSION_FILE, TOP_LOSSES_FILE]
    return written


def evaluate(
    model: str | Path | ModelSpec,
    data: Any,
    *,
    out: str | Path | None = None,
    tta: int = 0,
    top_losses: int = DEFAULT_TOP_LOSSES,
    weights: str | Path | None = "default",
    trust: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Evaluate a classifier on labelled images.

    Args:
        model: a registry name, a fine-tuning run directory or a model file (``zoo.load``).
        data: labelled images as ``zoo.fine_tune`` takes them (a folder of class folders, a
            ``path,label`` list, arrays).
        out: a folder for ``evaluation.json``, ``confusion.png`` and ``top_losses.png`` (None:
            write nothing).
        tta: average the probabilities over this many test-time views (``zoo.evaluation.tta``;
            0: none).
        top_losses: how many of the worst images the report and the gallery keep.
        weights, trust: as ``zoo.load``.
        progress: progress bars while reading and predicting.

    Returns:
        A dict: ``accuracy``, ``images``, ``per_class`` (precision, recall, f1, support),
        ``confusion`` with its ``labels``, ``most_confused``, ``top_losses``, ``bad_files``,
        ``model``, ``data``, ``tta`` and ``written`` (the files in ``out``).

    Raises:
        InputError: a model that is not a classifier, classes it does not know, bad ``tta``.
        DataError: no readable image in a class, fewer than two classes.

    Example:
        >>> zoo.evaluate("mnist_convnet", "digits/")["accuracy"]
        0.99
    """
    spec = registry.get_spec(model)
    names = class_names(spec)
    tta = check_tta(tta, spec)
    if isinstance(top_losses, bool) or not isinstance(top_losses, int) or top_losses < 0:
        raise InputError(f"top_losses must be a whole number >= 0, received {top_losses!r}")
    if out is not None:
        out = Path(out).expanduser()
        check_not_inside(out, data, what="The evaluation folder")
        check_writable_folder(out, "the evaluation folder")
    held = read_labelled(data, spec, spec.input_shape, progress)
    y = model_indices(held, spec, data)
    from zoo.models import load

    network = load(
        model if not isinstance(model, ModelSpec) else spec, weights=weights, trust=trust
    )
    probabilities = predict_probabilities(network, held.x, view_kind(spec), tta, progress)
    result = {
        "model": spec.name,
        "data": str(data) if isinstance(data, (str, Path)) else type(data).__name__,
        "tta": tta,
        **reports.classification_metrics(probabilities, y, names),
        "top_losses": reports.top_losses(probabilities, y, names, held.paths, top_losses),
        "bad_files": [list(row) for row in held.bad_files],
    }
    written = []
    if out is not None:
        title = f"{spec.name} on {Path(str(data)).name} ({len(y)} images)"
        written = write_report(out, result, held.x, title)
    return {**result, "written": written}
