"""What a command reads: image sources resolved to files, and files decoded into batches.

``find_sources`` turns what a user names — a folder (recursive; one sub-folder per class gives
labels), a glob (``"photos/**/*.jpg"``), a ``.txt`` list of paths, or files — into one ordered
list of paths; ``zoo predict`` and ``zoo features`` both use it. ``prepared_batches`` decodes
those files in threads, a few batches ahead of the model, the way the model's spec wants them.

Example:
    >>> source = zoo.inputs.sources.find_sources("photos/")
    >>> source.paths[:2], source.label_names
    (['photos/cat/1.jpg', 'photos/cat/2.jpg'], ['cat', 'dog'])
"""

from __future__ import annotations

import concurrent.futures
import glob
import itertools
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zoo.errors import InputError
from zoo.inputs import images
from zoo.spec import ModelSpec

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")
LIST_SUFFIXES = (".txt",)
GLOB_CHARACTERS = "*?["
#: Batches decoded ahead of the model.
BATCHES_AHEAD = 2
#: Images per forward pass when the caller does not say.
DEFAULT_BATCH_SIZE = 32
#: With a centre crop, the fraction of the shorter side kept when the caller does not say
#: (timm's default ``crop_pct``).
DEFAULT_CROP_FRACTION = 0.875


@dataclass
class Source:
    """Image files to process, with class labels when the folder has one sub-folder per class."""

    paths: list[str]
    labels: list[int] | None = None
    label_names: list[str] | None = None
    #: images lying beside class folders: the folder then gives no labels (``paths`` holds all)
    loose: list[str] = field(default_factory=list)
    #: files found in folders and globs that are not images (by suffix and by content)
    skipped: list[str] = field(default_factory=list)


def _images_under(folder: Path, skipped: list[str] | None = None) -> list[str]:
    """The image files under ``folder``, sorted: by suffix, else by content (a ``.jfif``, a
    photo with no suffix); the other files go to ``skipped``."""
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix.lower() in IMAGE_SUFFIXES or images.sniff(path):
            found.append(str(path))
        elif skipped is not None:
            skipped.append(str(path))
    return found


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES or images.sniff(path) is not None


def _class_folders(folder: Path, skipped: list[str]) -> Source | None:
    """A folder of one sub-folder per class (and no loose images): paths with labels. With
    loose images beside the class folders: every image, no labels, and the loose ones named."""
    classes = sorted(p for p in folder.iterdir() if p.is_dir())
    if not classes:
        return None
    loose = sorted(str(p) for p in folder.iterdir() if p.is_file() and _is_image(p))
    if loose:
        return Source(_images_under(folder, skipped), loose=loose, skipped=skipped)
    paths, labels = [], []
    for index, class_folder in enumerate(classes):
        found = _images_under(class_folder, skipped)
        paths.extend(found)
        labels.extend([index] * len(found))
    skipped.extend(str(p) for p in sorted(folder.iterdir()) if p.is_file())
    return Source(paths, labels, [c.name for c in classes], skipped=skipped)


def _is_glob(item: str) -> bool:
    return any(char in item for char in GLOB_CHARACTERS) and not Path(item).exists()


def _expand(item: str, skipped: list[str]) -> list[str]:
    """One named source as paths: a folder's images, a glob's matches, a list's lines, a file.
    Files of folders and globs that are not images go to ``skipped``."""
    path = Path(item)
    if _is_glob(item):
        matches = sorted(glob.glob(item, recursive=True))
        if not matches:
            raise InputError(f"{item}: no file matches this pattern")
        found: list[str] = []
        for match in matches:
            if Path(match).is_dir():
                found.extend(_images_under(Path(match), skipped))
            elif _is_image(Path(match)):
                found.append(match)
            else:
                skipped.append(match)
        found = list(dict.fromkeys(found))  # "**/*" names a file and the folder holding it
        skipped[:] = list(dict.fromkeys(skipped))
        return found
    if path.is_dir():
        return _images_under(path, skipped)
    if path.suffix.lower() in LIST_SUFFIXES and path.is_file():
        lines = path.read_text().splitlines()
        return [line.strip() for line in lines if line.strip()]
    return [item]  # a file, or a missing one: reported per file when it is read


def find_sources(src: str | Path | Sequence[str | Path]) -> Source:
    """Resolve ``src`` into image paths, in a stable order.

    ``src`` is one item or a list of them; each item is a folder (searched recursively), a glob
    pattern (``**`` matches folders at any depth), a ``.txt`` file listing one path per line,
    or an image file. Files in folders and globs count as images by their suffix or, failing
    that, by their content (a ``.jfif``, a photo saved without a suffix); the others are listed
    in ``skipped``. A single folder whose entries are all sub-folders is read as one class per
    sub-folder (sorted names), which gives ``labels`` and ``label_names``. A missing file
    among several is kept, to be reported on its own when it is read.

    Raises:
        InputError: a single item that does not exist, a pattern that matches nothing, or no
            image file at all.

    Example:
        >>> find_sources(["a.png", "more/*.jpg"]).paths
        ['a.png', 'more/1.jpg', 'more/2.jpg']
    """
    items = [str(src)] if isinstance(src, (str, Path)) else [str(item) for item in src]
    if not items:
        raise InputError("No images given: name a folder, a glob, a .txt list or image files")
    if len(items) == 1 and not _is_glob(items[0]) and not Path(items[0]).exists():
        raise InputError(f"{items[0]}: no such file or folder")
    skipped: list[str] = []
    source = None
    if len(items) == 1 and Path(items[0]).is_dir():
        source = _class_folders(Path(items[0]), skipped)
    if source is None:
        paths = [path for item in items for path in _expand(item, skipped)]
        source = Source(paths, skipped=skipped)
    if not source.paths:
        also = f"; not images: {_listed(source.skipped)}" if source.skipped else ""
        raise InputError(
            f"No image files found in {', '.join(items)} (images are found by their suffix, "
            f"{', '.join(IMAGE_SUFFIXES)}, or by their content){also}"
        )
    return source


def _listed(paths: Sequence[str], shown: int = 3) -> str:
    names = ", ".join(Path(p).name for p in paths[:shown])
    return names + (f" and {len(paths) - shown} more" if len(paths) > shown else "")


def report_skipped(source: Source) -> None:
    """Say on stderr which files of the source were not read because they are not images, e.g.
    ``zoo: skipped, not images: 2 file(s) (notes.txt, .DS_Store)``."""
    if source.skipped:
        print(
            f"zoo: skipped, not images: {len(source.skipped)} file(s) ({_listed(source.skipped)})",
            file=sys.stderr,
        )


def labelled_sources(src: str | Path | Sequence[str | Path]) -> Source:
    """``find_sources(src)`` for a command that keeps labels (``zoo features``): the files not
    read are reported on stderr, and loose images beside class folders are refused.

    Raises:
        InputError: as ``find_sources``, or loose images beside class folders (named).
    """
    source = find_sources(src)
    report_skipped(source)
    if source.loose:
        folder = src[0] if isinstance(src, (list, tuple)) else src  # one folder: from the CLI
        raise InputError(
            f"{folder} has class folders and {len(source.loose)} loose image(s) beside them "
            f"({', '.join(Path(p).name for p in source.loose[:3])}"
            f"{', ...' if len(source.loose) > 3 else ''}): the folders would give labels the "
            "loose images do not have. Move them into a class folder, or name a glob "
            f"('{Path(str(folder)) / '**' / '*'}') to read every image without labels"
        )
    return source


def checked_batch_size(batch_size: int | None) -> int:
    """``batch_size``, or ``DEFAULT_BATCH_SIZE`` for None; an ``InputError`` unless positive."""
    if batch_size is None:
        return DEFAULT_BATCH_SIZE
    return checked_count(batch_size, "batch size")


def checked_count(value: int | None, what: str) -> int | None:
    """``value`` when it is a positive whole number (or None: "not given"); else an
    ``InputError`` naming ``what`` (e.g. ``--epochs``) and the value received."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InputError(f"{what} must be a positive integer, received {value!r}")
    return value


def prepare_file(
    spec: ModelSpec,
    path: str | Path,
    crop_fraction: float | None = None,
    input_shape: Sequence[int] | None = None,
    data: bytes | None = None,
) -> np.ndarray:
    """Decode one image file into one model input, the way ``spec`` wants it: resized RGB
    pixels for ImageNet models, an MNIST-like digit for the MNIST ones. ``data``: the file's
    bytes when the caller has read them (``path`` then only names the file).

    Raises:
        InputError: the file is missing or unreadable, or the model takes no image files.
    """
    _check_takes_images(spec)
    min_side = None
    if spec.dataset == "imagenet":
        height, width = (input_shape or spec.input_shape)[:2]
        min_side = int(np.ceil(max(height, width) / (crop_fraction or 1.0)))
    image = images.open_image(path, min_side=min_side, data=data)
    try:
        return prepare_image(spec, image, crop_fraction, input_shape)
    except InputError as error:
        raise InputError(f"{path}: {error}") from None
    except Exception as error:  # a mode or size the converters choke on: this file only
        raise InputError(f"{path}: unreadable image ({type(error).__name__}: {error})") from None


def try_prepare_file(
    spec: ModelSpec,
    path: str | Path,
    crop_fraction: float | None = None,
    input_shape: Sequence[int] | None = None,
    read: Callable[[str], bytes | None] | None = None,
) -> tuple[np.ndarray | None, str | None]:
    """``(input, None)`` from ``prepare_file``, or ``(None, reason)`` for a file it cannot
    read: whatever goes wrong decoding one file is that file's error, never the run's.
    ``read(path)``: the file's bytes when they are not on a local disk (``None`` when they are).

    Example:
        >>> try_prepare_file(zoo.get_spec("mnist_convnet"), "notes.txt")
        (None, 'notes.txt: not an image file (Pillow cannot identify it)')
    """
    try:
        data = read(str(path)) if read is not None else None
        return prepare_file(spec, path, crop_fraction, input_shape, data), None
    except InputError as error:
        return None, str(error)
    except Exception as error:  # a decoder bug must not stop the run
        return None, f"{path}: {type(error).__name__}: {error}"


def prepare_files(
    spec: ModelSpec, paths: Sequence[str | Path], input_shape: Sequence[int] | None = None
) -> np.ndarray:
    """``prepare_file`` for each of ``paths``, stacked into one float32 batch.

    Example:
        >>> prepare_files(zoo.get_spec("mnist_convnet"), ["7.png", "2.png"]).shape
        (2, 28, 28, 1)
    """
    return np.stack([prepare_file(spec, path, input_shape=input_shape) for path in paths]).astype(
        np.float32
    )


def prepare_image(
    spec: ModelSpec,
    image: images.Image.Image,
    crop_fraction: float | None = None,
    input_shape: Sequence[int] | None = None,
) -> np.ndarray:
    """One decoded Pillow image as one model input for ``spec`` (see ``prepare_file``)."""
    _check_takes_images(spec)
    if spec.dataset == "imagenet":
        height, width = (input_shape or spec.input_shape)[:2]
        return images.resize_for_model(image, height, width, crop_fraction)
    return images.to_mnist_digit(image).reshape(spec.input_shape)


def _check_takes_images(spec: ModelSpec) -> None:
    if spec.dataset != "imagenet" and spec.preprocessing != "mnist":
        raise InputError(
            f"Model {spec.name!r} does not take image files (its input is {spec.input_shape}); "
            "image models: the MNIST and ImageNet ones (`zoo list --dataset mnist`)"
        )


def prepared_batches(
    spec: ModelSpec,
    paths: Sequence[str | Path],
    batch_size: int,
    *,
    crop_fraction: float | None = None,
    input_shape=None,
    workers: int | None = None,
    read: Callable[[str], bytes | None] | None = None,
) -> Iterator[tuple[list[int], np.ndarray | None, list[tuple[int, str]]]]:
    """Yield (indices, batch, errors) per ``batch_size`` files, in order, while the next batches
    are decoded in ``workers`` threads; ``errors`` are (index, reason) for unreadable files.
    ``read``: as ``try_prepare_file`` takes it, for files not on a local disk."""

    def decode(pool, start: int):
        """(indices, batch, errors) of the files from ``start``, or None once the consumer has
        left. Each worker takes the next file not yet taken until none is left: one task per
        worker, not one per file (a future per file cost about a tenth of the decoding itself,
        docs/benchmarks.md)."""
        chunk = paths[start : start + batch_size]
        done: list = [None] * len(chunk)
        taken = itertools.count()  # next() on it is atomic under the GIL

        def work(_worker: int) -> None:
            while (offset := next(taken)) < len(chunk) and not stop.is_set():
                done[offset] = try_prepare_file(
                    spec, chunk[offset], crop_fraction, input_shape, read=read
                )

        for _ in pool.map(work, range(min(workers, len(chunk)))):
            pass  # raises what a worker raised
        if stop.is_set():
            return None  # the consumer has left: the batch may be part done
        good = [start + i for i, (x, _) in enumerate(done) if x is not None]
        errors = [(start + i, e) for i, (x, e) in enumerate(done) if x is None]
        batch = np.stack([x for x, _ in done if x is not None]) if good else None
        return good, batch, errors

    ahead: queue.Queue = queue.Queue(maxsize=BATCHES_AHEAD)
    stop = threading.Event()
    workers = workers or min(8, os.cpu_count() or 2)

    def put(item) -> bool:
        """Queue ``item`` for the consumer; False (and nothing queued) once it has left."""
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def producer():
        try:
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                for start in range(0, len(paths), batch_size):
                    if stop.is_set():
                        return
                    decoded = decode(pool, start)
                    if decoded is None or not put(decoded):
                        return
            put(None)
        except BaseException as error:  # raised again in the consumer, never a silent hang
            put(_ProducerFailed(error))

    thread = threading.Thread(target=producer, daemon=True, name=DECODER_THREAD)
    thread.start()
    try:
        while (item := ahead.get()) is not None:
            if isinstance(item, _ProducerFailed):
                raise item.error
            yield item
    finally:
        stop.set()  # a consumer that leaves early stops the producer


#: The name of ``prepared_batches``' producer thread.
DECODER_THREAD = "zoo-decoder"


class _ProducerFailed:
    """An exception of the decoding thread, carried to the consumer to be raised there."""

    def __init__(self, error: BaseException):
        self.error = error
