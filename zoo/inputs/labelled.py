"""Labelled images for training: read from a class-folder tree, a ``path,label`` list, arrays
or a ``tf.data.Dataset``, decoded the way a model wants them, unreadable files set aside, and a
stratified validation split.

Example:
    >>> data = read_labelled("photos/train", zoo.get_spec("mobilenet_v2_1.0_224"))
    >>> data.x.shape, data.class_names, len(data.bad_files)
    ((412, 224, 224, 3), ['daisy', 'rose', 'tulip'], 1)
    >>> train, val = stratified_split(data, 0.2, seed=0)
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import DataError, InputError
from zoo.inputs.sources import find_sources, prepare_image, prepared_batches
from zoo.spec import ModelSpec

LIST_SUFFIXES = (".txt", ".csv")
#: Images decoded per thread-pool round while reading a training set.
READ_BATCH = 64


@dataclass
class LabelledImages:
    """Model-ready inputs ``x`` with integer labels ``y`` (indices into ``class_names``)."""

    x: np.ndarray
    y: np.ndarray
    class_names: list[str]
    paths: list[str] | None = None
    bad_files: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, indices: np.ndarray) -> LabelledImages:
        paths = None if self.paths is None else [self.paths[i] for i in indices]
        return LabelledImages(self.x[indices], self.y[indices], self.class_names, paths, [])

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.y, minlength=len(self.class_names))
        return {name: int(count) for name, count in zip(self.class_names, counts, strict=True)}


def _read_list(path: Path) -> tuple[list[str], list[str]]:
    """``path,label`` rows of a .txt/.csv list (an optional ``path,label`` header); relative
    paths are relative to the list's own folder."""
    paths, labels = [], []
    with path.open(newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) != 2:
                raise DataError(
                    f"{path}:{number}: expected 'path,label', received {','.join(row)!r}"
                )
            file, label = (cell.strip() for cell in row)
            if number == 1 and (file.lower(), label.lower()) == ("path", "label"):
                continue
            file_path = Path(file)
            paths.append(str(file_path if file_path.is_absolute() else path.parent / file_path))
            labels.append(label)
    if not paths:
        raise DataError(f"{path}: the list names no images (expected lines of 'path,label')")
    return paths, labels


def _labelled_files(data: str | Path) -> tuple[list[str], list[int], list[str]]:
    path = Path(data)
    if path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
        paths, label_texts = _read_list(path)
        names = sorted(set(label_texts))
        index = {name: i for i, name in enumerate(names)}
        return paths, [index[label] for label in label_texts], names
    if not path.exists():
        raise InputError(f"{data}: no such file or folder")
    if not path.is_dir():
        raise InputError(
            f"{data}: training data is a folder with one sub-folder per class, a .txt/.csv list "
            "of 'path,label' lines, arrays (x, y) or a tf.data.Dataset"
        )
    source = find_sources(path) if any(p.is_dir() for p in path.iterdir()) else None
    if source is None or source.labels is None:
        raise DataError(
            f"{data}: expected one sub-folder per class (e.g. {data}/cat/1.jpg, "
            f"{data}/dog/2.jpg) and no loose images"
        )
    found = set(source.labels)
    empty = [name for index, name in enumerate(source.label_names) if index not in found]
    if empty:
        raise DataError(f"{data}: class folder(s) with no image file: {', '.join(empty)}")
    return source.paths, list(source.labels), list(source.label_names)


def _decode_files(
    spec: ModelSpec,
    paths: list[str],
    labels: list[int],
    input_shape: Sequence[int],
    progress: bool,
) -> tuple[np.ndarray, np.ndarray, list[str], list[tuple[str, str]]]:
    from tqdm import tqdm

    x = np.zeros((len(paths), *input_shape), dtype=_storage_dtype(spec))
    keep = np.zeros(len(paths), dtype=bool)
    bad: list[tuple[str, str]] = []
    with tqdm(
        total=len(paths), desc="reading images", unit="img", leave=False, disable=not progress
    ) as bar:
        for slots, batch, errors in prepared_batches(
            spec, paths, READ_BATCH, input_shape=input_shape
        ):
            if batch is not None:
                x[slots] = batch
                keep[slots] = True
            bad.extend((paths[slot], _reason(paths[slot], error)) for slot, error in errors)
            bar.update(len(slots) + len(errors))
    kept = np.flatnonzero(keep)
    return x[kept], np.asarray(labels)[kept], [paths[i] for i in kept], bad


def _reason(path: str, error: str) -> str:
    """An error without the path it starts with (the path has its own column)."""
    return error[len(path) + 2 :] if error.startswith(f"{path}: ") else error


def _storage_dtype(spec: ModelSpec) -> str:
    return "uint8" if spec.dataset in ("imagenet", "mnist") else spec.input_dtype


def _from_arrays(
    spec: ModelSpec, x: Any, y: Any, input_shape: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    x = np.asarray(x)
    y = np.asarray(y)
    if len(x) != len(y):
        raise InputError(f"x and y differ in length: {len(x)} images, {len(y)} labels")
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot
        y = y.argmax(axis=1)
    y = y.reshape(len(y))
    if y.dtype.kind in "iu":
        if len(y) and y.min() < 0:
            raise InputError(f"labels must be class indices >= 0, received {y.min()}")
        names = [str(i) for i in range(int(y.max()) + 1 if len(y) else 0)]
        y = y.astype(np.int64)
    else:
        names = sorted({str(label) for label in y})
        index = {name: i for i, name in enumerate(names)}
        y = np.asarray([index[str(label)] for label in y], dtype=np.int64)
    if x.dtype == object or not np.issubdtype(x.dtype, np.number):
        raise InputError(f"x must be a numeric image array, received dtype {x.dtype}")
    if tuple(x.shape[1:]) == tuple(input_shape):
        return x, y, names
    if tuple(input_shape[-1:]) == (1,) and tuple(x.shape[1:]) == tuple(input_shape[:-1]):
        return x[..., np.newaxis], y, names
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] not in (1, 3, 4)):
        raise InputError(
            f"{spec.name} takes images of shape {tuple(input_shape)}; received an array of "
            f"shape {x.shape} (expected (N, H, W), (N, H, W, 1) or (N, H, W, 3))"
        )
    from PIL import Image

    converted = []
    for image in x:
        pixels = np.clip(image, 0, 255).astype(np.uint8)
        if pixels.ndim == 3 and pixels.shape[-1] == 1:
            pixels = pixels[..., 0]
        converted.append(prepare_image(spec, Image.fromarray(pixels), input_shape=input_shape))
    return np.stack(converted), y, names


def _from_dataset(dataset: Any) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for element in dataset.as_numpy_iterator():
        if not isinstance(element, tuple) or len(element) != 2:
            raise InputError("a tf.data.Dataset for training must yield (image, label) pairs")
        xs.append(element[0])
        ys.append(element[1])
    if not xs:
        raise DataError("the tf.data.Dataset is empty")
    first = np.asarray(ys[0])
    # batched: a vector of class indices or names, or a matrix of one-hot rows (a single
    # one-hot row is a float vector)
    batched = (first.ndim == 1 and first.dtype.kind in "iuUSO") or first.ndim == 2
    if batched:
        return np.concatenate(xs), np.concatenate(ys)
    return np.stack(xs), np.stack(ys)


def read_labelled(
    data: Any,
    spec: ModelSpec,
    input_shape: Sequence[int] | None = None,
    progress: bool = False,
) -> LabelledImages:
    """Read ``data`` into model-ready inputs for ``spec`` at ``input_shape`` (default: the
    spec's). Unreadable files are skipped and listed in ``bad_files`` with their reason.

    Args:
        data: a folder with one sub-folder per class (searched recursively, sorted class
            names), a ``.txt``/``.csv`` list of ``path,label`` lines, a pair of arrays
            ``(x, y)`` (labels as indices, one-hot rows or names), or a ``tf.data.Dataset`` of
            ``(image, label)`` pairs (batched or not).
        progress: show a progress bar while files are decoded.

    Raises:
        DataError: a class with no readable image, or fewer than two classes.
        InputError: ``data`` is of no such form.
    """
    input_shape = tuple(input_shape or spec.input_shape)
    bad: list[tuple[str, str]] = []
    paths = None
    if isinstance(data, (str, Path)):
        files, labels, names = _labelled_files(data)
        x, y, paths, bad = _decode_files(spec, files, labels, input_shape, progress)
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y, names = _from_arrays(spec, data[0], data[1], input_shape)
    elif hasattr(data, "as_numpy_iterator"):
        x, y, names = _from_arrays(spec, *_from_dataset(data), input_shape)
    else:
        raise InputError(
            f"Cannot train on {type(data).__name__}: pass a folder with one sub-folder per "
            "class, a .txt/.csv list of 'path,label' lines, arrays (x, y) or a tf.data.Dataset"
        )
    result = LabelledImages(x, y.astype(np.int64), names, paths, bad)
    check_classes(result, str(data) if paths is not None else "the data")
    return result


def check_classes(data: LabelledImages, where: str) -> None:
    """A ``DataError`` unless ``data`` has two or more classes, each with a readable image."""
    if len(data.class_names) < 2:
        raise DataError(
            f"{where}: fine-tuning needs at least 2 classes, found {len(data.class_names)} "
            f"({', '.join(data.class_names) or 'none'})"
        )
    empty = [name for name, count in data.class_counts().items() if count == 0]
    if empty:
        raise DataError(f"{where}: no readable image in class(es) {', '.join(empty)}")


def stratified_split(
    data: LabelledImages, fraction: float, seed: int
) -> tuple[LabelledImages, LabelledImages]:
    """(train, validation): ``fraction`` of each class (at least one image of every class with
    two or more) held out, chosen by ``seed``."""
    if not 0 < fraction < 1:
        raise InputError(f"validation fraction must be in (0, 1), received {fraction}")
    rng = np.random.default_rng(seed)
    held = []
    for label in range(len(data.class_names)):
        members = np.flatnonzero(data.y == label)
        count = len(members)
        take = min(count - 1, max(1, round(fraction * count))) if count >= 2 else 0
        held.extend(rng.permutation(members)[:take].tolist())
    held_mask = np.zeros(len(data), dtype=bool)
    held_mask[held] = True
    return data.subset(np.flatnonzero(~held_mask)), data.subset(np.flatnonzero(held_mask))


def align_classes(validation: LabelledImages, class_names: list[str], where: str) -> None:
    """Re-index ``validation``'s labels to the training ``class_names``; a ``DataError`` for a
    class training has not seen."""
    unknown = sorted(set(validation.class_names) - set(class_names))
    if unknown:
        raise DataError(
            f"{where}: validation class(es) {', '.join(unknown)} are not among the training "
            f"classes ({', '.join(class_names)})"
        )
    mapping = np.asarray([class_names.index(name) for name in validation.class_names])
    validation.y = mapping[validation.y] if len(validation.y) else validation.y
    validation.class_names = list(class_names)


def check_not_inside(out: Path, *sources: Any, what: str = "The run directory") -> None:
    """An ``InputError`` when ``out`` (``what``) is inside a data folder: its files (the PNG
    plots) would become training images of the next run."""
    target = out.resolve()
    for source in sources:
        if isinstance(source, (str, Path)) and Path(source).is_dir():
            folder = Path(source).resolve()
            if target == folder or folder in target.parents:
                raise InputError(
                    f"{what} {out} is inside the data folder {source}: its files "
                    "would be read as training images. Put it somewhere else"
                )
