"""What an evaluation reports: per-class precision / recall / F1, the confusion matrix, the most
confused pairs, the images with the highest loss, and the two plots (the confusion matrix and
the top-losses gallery).

The plots need matplotlib (``pip install 'keras-zoo[plots]'``); without it every other result
is still written and the plots are said to be skipped.

Example:
    >>> metrics = classification_metrics(probabilities, y, ["cat", "dog"])
    >>> metrics["accuracy"], metrics["per_class"]["cat"]["f1"], metrics["most_confused"][0]
    (0.93, 0.94, ['cat', 'dog', 3])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zoo.files import atomic_path

#: Classes beyond which the confusion matrix keeps only the classes that occur (as truth or
#: prediction): an ImageNet model on a 3-class folder gets a 3-4 column matrix, not 1000.
FULL_CONFUSION_UP_TO = 30


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def classification_metrics(
    probabilities: np.ndarray, y: np.ndarray, class_names: list[str]
) -> dict[str, Any]:
    """Accuracy, per-class precision / recall / F1 / support, the confusion matrix (rows: true
    class, columns: predicted) over ``labels``, and the most confused (true, predicted, count)
    pairs, most first."""
    predicted = probabilities.argmax(axis=1)
    shown = list(range(len(class_names)))
    if len(class_names) > FULL_CONFUSION_UP_TO:
        shown = sorted(set(np.asarray(y).tolist()) | set(predicted.tolist()))
    position = {index: i for i, index in enumerate(shown)}
    confusion = np.zeros((len(shown), len(shown)), dtype=np.int64)
    np.add.at(confusion, ([position[v] for v in y], [position[v] for v in predicted]), 1)
    per_class = {}
    for i, index in enumerate(shown):
        hits = int(confusion[i, i])
        precision = _ratio(hits, int(confusion[:, i].sum()))
        recall = _ratio(hits, int(confusion[i].sum()))
        f1 = None
        if precision is not None and recall is not None:
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[class_names[index]] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": int(confusion[i].sum()),
        }
    labels = [class_names[index] for index in shown]
    return {
        "accuracy": float(np.mean(predicted == y)) if len(y) else None,
        "images": int(len(y)),
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "labels": labels,
        "most_confused": most_confused(confusion, labels),
    }


def most_confused(confusion: np.ndarray, labels: list[str], limit: int = 10) -> list[list[Any]]:
    """The off-diagonal cells with a count, largest first: ``[true, predicted, count]`` (ties
    in label order), as fastai's ``most_confused``."""
    cells = [
        (int(count), row, column)
        for (row, column), count in np.ndenumerate(np.asarray(confusion))
        if row != column and count > 0
    ]
    cells.sort(key=lambda cell: (-cell[0], cell[1], cell[2]))
    return [[labels[row], labels[column], count] for count, row, column in cells[:limit]]


def losses(probabilities: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each image's cross-entropy: ``-log p(true class)``."""
    picked = probabilities[np.arange(len(y)), y]
    return -np.log(np.clip(picked, 1e-12, 1.0))


def top_losses(
    probabilities: np.ndarray,
    y: np.ndarray,
    class_names: list[str],
    paths: list[str] | None,
    count: int,
) -> list[dict[str, Any]]:
    """The ``count`` images with the highest loss, highest first: index, file, true and
    predicted class, the predicted probability, the true class's probability, the loss."""
    per_image = losses(probabilities, y)
    order = np.argsort(-per_image, kind="stable")[:count]
    rows = []
    for index in order:
        predicted = int(probabilities[index].argmax())
        rows.append(
            {
                "index": int(index),
                "file": None if paths is None else str(paths[index]),
                "true": class_names[int(y[index])],
                "predicted": class_names[predicted],
                "probability": float(probabilities[index, predicted]),
                "true_probability": float(probabilities[index, int(y[index])]),
                "loss": float(per_image[index]),
            }
        )
    return rows


def plots_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path: Path, dpi: int = 110) -> None:
    """Write ``figure`` to ``path`` atomically (a kill leaves the old file or none, never half
    a PNG), then close it."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as temp:
        figure.savefig(temp, dpi=dpi)
    plt.close(figure)


def plot_confusion(path: Path, metrics: dict[str, Any], title: str) -> None:
    """The confusion matrix as a heat map with the counts written in."""
    plt = pyplot()
    confusion = np.asarray(metrics["confusion"])
    labels = metrics["labels"]
    size = max(4.0, 0.45 * len(labels) + 2)
    figure, axis = plt.subplots(figsize=(size + 1, size))
    image = axis.imshow(confusion, cmap="Blues")
    axis.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    if len(labels) <= 30:
        threshold = confusion.max() / 2 if confusion.size else 0
        for (row, column), count in np.ndenumerate(confusion):
            colour = "white" if count > threshold else "black"
            axis.text(column, row, str(count), ha="center", va="center", color=colour)
    figure.colorbar(image, ax=axis, fraction=0.046)
    accuracy = metrics.get("accuracy")
    shown = f" (accuracy {accuracy:.1%} on {metrics['images']} images)" if accuracy else ""
    axis.set_title(title + shown)
    figure.tight_layout()
    save_figure(figure, path)


def _displayable(image: np.ndarray) -> np.ndarray:
    """A model input (raw pixels, any range) as an image for ``imshow``: 0..1, grey as 2-D."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    low, high = float(image.min()), float(image.max())
    if low >= 0 and high <= 255 and high > 1:
        return image / 255.0
    return (image - low) / (high - low) if high > low else np.zeros_like(image)


def plot_top_losses(path: Path, images: np.ndarray, rows: list[dict[str, Any]], title: str) -> None:
    """A gallery of the images the model is most wrong about: each with its file name, true
    and predicted class, the predicted probability and the loss (fastai's ``plot_top_losses``)."""
    plt = pyplot()
    count = len(rows)
    columns = min(4, max(count, 1))
    lines = max(1, -(-count // columns))
    figure, axes = plt.subplots(
        lines, columns, figsize=(3.2 * columns, 4.0 * lines + 0.4), squeeze=False
    )
    for axis in axes.ravel():
        axis.axis("off")
    for axis, row, image in zip(axes.ravel(), rows, images, strict=False):
        shown = _displayable(image)
        axis.imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0, vmax=1)
        name = Path(row["file"]).name if row.get("file") else f"#{row['index']}"
        axis.set_title(
            f"{name}\ntrue {row['true']}, predicted {row['predicted']}\n"
            f"p={row['probability']:.2f}, loss {row['loss']:.2f}",
            fontsize=9,
        )
    figure.suptitle(title)
    figure.tight_layout(rect=(0, 0, 1, 0.97), h_pad=1.5)
    save_figure(figure, path)
