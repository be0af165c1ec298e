"""``zoo.fine_tune``: a pretrained model, a new head, your images — in one call, resumable.

Phase 1 trains a new softmax head with the backbone frozen, on the backbone's pooled features
computed once (the cached-feature head phase: tens of times faster than running the frozen
backbone every epoch). Phase 2 unfreezes the backbone (``unfreeze``) and trains on at a tenth
of the learning rate, warmed up over its first epoch, then a cosine decay. The defaults were
chosen by measurement on five real data sets (docs/finetuning.md). Every BatchNormalization
layer stays in inference mode in both phases (``bn="frozen"``): unfreezing a base whose
BatchNorm layers switch to training mode on a small data set wrecks its statistics (measured in
issue 9: 79.7 % after the head fell to 43-54 %; with BatchNorm frozen it rose to 95.4 %).

Every epoch ends with a checkpoint (weights and optimizer state, written atomically); each
epoch's sample order and random draws come from (seed, phase, epoch), so running the same call
again after a kill resumes at the last completed epoch and ends with the same weights as an
uninterrupted run.

Example:
    >>> run = zoo.fine_tune("mobilenet_v2_1.0_224", "photos/train", out="runs/flowers")
    >>> run.metrics["accuracy"], run.labels
    (0.94, ['daisy', 'rose', 'tulip'])
    >>> zoo.predict("runs/flowers", ["rose.jpg"]).argmax()   # a run directory is a model name
    1
"""

from __future__ import annotations

import contextvars
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np

from zoo import registry, run_dir
from zoo.errors import InputError, ZooError
from zoo.files import (
    LockedError,
    atomic_write,
    check_writable_folder,
    file_lock,
    utc_now,
)
from zoo.inputs.labelled import (
    LabelledImages,
    align_classes,
    check_not_inside,
    read_labelled,
    stratified_split,
)
from zoo.spec import ModelSpec
from zoo.training import distribution, recipe, summary
from zoo.training.run_folder import (
    LOCK_FILE,
    FineTuneRun,
    data_digest,
    open_run,
    prepare_out,
    remove_partial_writes,
    resume_problem,
    start_run_dir,
    versions,
    write_record,
)
from zoo.training.settings import (
    DEFAULT_VALIDATION,
    check_arguments,
    check_validation,
    learning_rates,
    recorded_arguments,
    training_input_shape,
)
from zoo.training.trainer import Trainer


def read_data(
    spec, data, validation, input_shape, seed, progress
) -> tuple[LabelledImages, LabelledImages | None, list[tuple[str, str]]]:
    train = read_labelled(data, spec, input_shape, progress)
    bad = list(train.bad_files)
    if validation is None:
        return train, None, bad
    if isinstance(validation, float) and not isinstance(validation, bool):
        train_part, validation_part = stratified_split(train, validation, seed)
        train_part.bad_files = bad
        return train_part, validation_part, bad
    held = read_labelled(validation, spec, input_shape, progress)
    bad.extend(held.bad_files)
    align_classes(held, train.class_names, str(validation))
    return train, held, bad


def fine_tune(
    model: str | ModelSpec,
    data: Any,
    out: str | Path,
    *,
    validation: Any = DEFAULT_VALIDATION,
    epochs: int = 10,
    head_epochs: int = 20,
    unfreeze: str = "all",
    bn: str = "frozen",
    augment: str = "none",
    learning_rate: float | tuple[float, float] | str | None = None,
    image_size: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    class_weight: str | None = None,
    weights: str | Path | None = "default",
    cached_head: bool | None = None,
    head_dropout: float = 0.0,
    label_smoothing: float = 0.0,
    mix: str = "none",
    mix_alpha: float = 0.2,
    ema: float | None = None,
    layer_decay: float | None = None,
    warmup: int = 1,
    schedule: str = "cosine",
    patience: int | None = None,
    mirror: bool | str = "auto",
    strategy: str = "auto",
    overwrite: bool = False,
    progress: bool = True,
) -> FineTuneRun:
    """Fine-tune a registered image model on labelled images; write a run directory.

    Args:
        model: a registry name (an ImageNet classifier or one of the MNIST ones).
        data: a folder with one sub-folder per class, a ``.txt``/``.csv`` list of
            ``path,label`` lines (paths relative to the list), arrays ``(x, y)`` or a
            ``tf.data.Dataset`` of (image, label). Unreadable files are skipped and listed.
        out: the run directory. Run again with the same arguments after a kill, it resumes at
            the last completed epoch; a finished one is returned as it is.
        validation: a fraction held out of each class (default 0.2, stratified by ``seed``),
            validation data in any form ``data`` takes, or None (the best epoch is then the
            last).
        epochs: phase-2 epochs (the unfrozen backbone); head_epochs: phase-1 epochs.
        unfreeze: what phase 2 trains besides the head: ``"all"`` (default), ``"top:20"`` (the
            last 20 layers with weights, BatchNorm not counted when frozen), ``"stage4+"``,
            ``"none"``.
        bn: ``"frozen"`` keeps every BatchNormalization layer in inference mode in both phases
            (its statistics unchanged); ``"train"`` lets unfrozen ones train.
        augment: ``none`` (default) or ``light|strong``: random flips (photos only), rotation, zoom,
            shift and contrast on training batches; ``randaugment`` / ``augmix``: Keras'
            policies (their strength capped for digits, never a flip); in phase 2 (in phase
            1 only when nothing is unfrozen). Never part of the saved model
            (``zoo.training.augmentation``).
        learning_rate: None: Adam at 1e-2 for the head, 1e-3 for phase 2; a number: the
            head's rate (phase 2 a tenth of it); a pair (head, phase 2); or ``"auto"``: a
            learning-rate range test before each phase (``zoo.training.lr_find``), its
            curves in ``lr_find.png``, the chosen rates in ``run.json``.
        image_size: ImageNet models: the square input side (default: the spec's).
        batch_size: images per step over all replicas (default 32 per replica).
        seed: fixes the head's initialisation, the split, the order and every random draw.
        class_weight: ``"balanced"`` weights each class by the inverse of its frequency.
        weights: the base model's weights (see ``zoo.load``).
        cached_head: train the head on the backbone's pooled features computed once (None:
            whenever phase 1 has no augmentation).
        head_dropout: dropout before the new classifier (0: none), in both phases.
        label_smoothing: the targets' share spread over all classes (0: none; timm uses 0.1).
        mix: ``none|mixup|cutmix|both`` (Keras' ``MixUp`` / ``CutMix``, labels mixed alike)
            where augmentation runs; mix_alpha: MixUp's Beta(alpha, alpha) (CutMix's factor).
        ema: keep an exponential moving average of the weights with this momentum (e.g.
            0.99); the averaged weights are validated and are what ``model.keras`` keeps.
        layer_decay: phase 2's layer-wise rate decay (timm's rule): the unfrozen layer next
            to the head trains at ``layer_decay`` times the rate, the next one down at its
            square, and so on (None: one rate for all).
        warmup: phase-2 epochs of linear warmup from 0 to the rate (default 1; at most all
            but the last epoch of phase 2).
        schedule: ``cosine`` (default: down to 1 % of the rate at each phase's end) or
            ``constant``.
        patience: stop phase 2 after this many epochs without a better validation accuracy
            (None: run every epoch). The best epoch is kept either way.
        mirror: whether photos may be mirrored (augmentation's flips, test-time views):
            ``"auto"`` mirrors unless every training image is grey (R = G = B: digits,
            scanned text), True or False to say. Digits for the MNIST models never are.
        strategy: where to train (``zoo.training.distribution``): ``"one"`` device; ``"mirrored"``:
            every GPU of this machine (every logical CPU device without one);
            ``"multiworker"``: the machines of the ``TF_CONFIG`` cluster (the chief writes
            ``out``, the other workers a temporary folder); ``"auto"``: ``mirrored`` with two
            or more GPUs, else ``one``. With several replicas the learning rates are
            multiplied by their number. SIGTERM saves a checkpoint at the next step (every
            worker at the same one) and raises ``Preempted``; run again to resume.
        overwrite: start again in a run directory that holds a run (finished or not).
        progress: show a progress bar per epoch (images/s, ETA, loss, accuracy).

    Returns:
        A :class:`FineTuneRun`.

    Raises:
        InputError: bad arguments, or ``out`` holds a run with other arguments.
        DataError: fewer than two classes, or a class with no readable image.
        TrainingError: the loss became NaN or infinite; the last good checkpoint is kept.

    Example:
        >>> run = zoo.fine_tune("mnist_convnet", "digits/", out="runs/digits", epochs=3)
        >>> run.labels[:3], round(run.metrics["accuracy"], 2)
        (['0', '1', '2'], 0.97)
    """
    spec = registry.get_spec(model)
    validation = check_validation(validation)
    arguments = recorded_arguments(spec, dict(locals()))
    check_arguments(spec, arguments)
    out = Path(out).expanduser()
    check_not_inside(out, data, validation)
    worker = distribution.this_worker(strategy)
    if worker is not None and not worker.is_chief:  # the chief writes the run directory
        import tempfile

        out = Path(tempfile.mkdtemp(prefix=f"zoo-{worker.task_type}{worker.index}-"))
    check_writable_folder(out, "the run directory")
    options = {
        "weights": weights,
        "progress": progress,
        "batch_size": batch_size,
        "find_only": _FIND_ONLY.get(),
    }
    try:
        with file_lock(out / LOCK_FILE, wait=False):
            return _fine_tune(spec, (data, validation), out, arguments, overwrite, options)
    except LockedError:
        raise InputError(
            f"Another fine-tuning run is writing {out} now; wait for it, or name another folder"
        ) from None
    finally:
        if worker is not None and not worker.is_chief:
            shutil.rmtree(out, ignore_errors=True)


#: Set by ``find_rates``: the run stops after phase 2's range test, before training it.
_FIND_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("find_only", default=False)


def find_rates(
    model: str | ModelSpec, data: Any, plot: str | Path | None = None, **keywords: Any
) -> dict[str, Any]:
    """The learning-rate range tests of a fine-tune with these arguments, alone: the head's
    (before phase 1), then, once the head is trained, phase 2's (``zoo lr-find``). Nothing
    is kept but ``plot`` (the curves, a PNG). Returns the two curves and their suggestions.

    Example:
        >>> curves = find_rates("mobilenet_v1_0.25_128", "digits/", "lr_find.png")
        >>> curves["head"]["suggestion"], curves["phase 2"]["suggestion"]
        (0.012, 0.00031)
    """
    import tempfile

    if keywords.get("epochs", 1) == 0:
        raise InputError("find_rates tests phase 2's rate too: epochs must be at least 1")
    token = _FIND_ONLY.set(True)
    try:
        with tempfile.TemporaryDirectory(prefix="zoo-lr-find-") as folder:
            found = fine_tune(model, data, Path(folder) / "run", learning_rate="auto", **keywords)
            made = Path(folder) / "run" / run_dir.LR_FIND_FILE
            if plot is not None and made.exists():
                check_writable_folder(Path(plot).expanduser().parent, "the plot's folder")
                atomic_write(Path(plot).expanduser(), made.read_bytes())
    finally:
        _FIND_ONLY.reset(token)
    return found


def _fine_tune(spec, sources, out, arguments, overwrite, options) -> FineTuneRun:
    """``fine_tune`` once its arguments are checked and the run directory is locked;
    ``sources`` is (data, validation); ``options`` the weights, progress and batch size."""
    status = prepare_out(out, arguments, overwrite)
    placement = distribution.place(arguments["strategy"])
    if status == "finished":
        distribution.from_chief(placement, [np.array([1.0, 0.0])])  # the workers stop too
        return open_run(out)
    input_shape = training_input_shape(spec, arguments["image_size"])
    data, validation = sources
    progress = options["progress"] and placement.is_chief
    problem, train, held, bad, digest = None, None, None, [], "0" * 64
    try:
        train, held, bad = read_data(
            spec, data, validation, input_shape, arguments["seed"], progress
        )
        recipe.check_mixable(arguments, train.class_counts())
        digest = data_digest(train, held)
    except ZooError as error:
        problem = error
    chief = distribution.from_chief(placement, [np.array([0.0, int(digest[:12], 16)])])[0]
    if chief[0]:  # the chief's run is finished: nothing to train
        return FineTuneRun(out, None, [], [], {}, role=_role(placement))
    if problem is None and int(chief[1]) != int(digest[:12], 16):
        problem = InputError(
            f"This worker's data differs from the chief's ({data}): every worker must read the "
            "same images"
        )
    setup = _distribution_record(placement, arguments, options["batch_size"])
    if problem is None and status == "resume":
        problem = resume_problem(out, digest, setup)
    distribution.agree(placement, problem)
    found = run_dir.read_run(out).get("lr_find") if status == "resume" else None
    if status != "resume":
        start_run_dir(out)
    remove_partial_writes(out)
    from zoo.training.preemption import PreemptionWatch

    record = new_record(spec, arguments, options["weights"], (train, held, bad), digest, setup)
    if found:  # the rates a range test chose before a kill: the resumed run keeps them
        record["lr_find"] = found
    atomic_write(out / run_dir.LABELS_FILE, json.dumps(train.class_names, indent=1))
    atomic_write(out / run_dir.BAD_FILES, "".join(f"{path}\t{why}\n" for path, why in bad))
    write_record(out, record)
    trainer = Trainer(
        spec, out, arguments, (train, held), options["weights"], progress, record, placement
    )
    trainer.find_only = options["find_only"]
    with PreemptionWatch() as watch:
        trainer.run(watch.requested)
    if trainer.find_only:
        return trainer.record["lr_find"]
    metrics = summary.finish(trainer)
    return FineTuneRun(
        directory=out,
        model=trainer.best_model,
        labels=train.class_names,
        history=trainer.history,
        metrics=metrics,
        bad_files=bad,
        class_counts=train.class_counts(),
        role=_role(placement),
    )


def new_record(spec, arguments, weights, data, digest, setup) -> dict[str, Any]:
    """``run.json`` of a run that starts (or resumes): its base model and weights, arguments,
    data digest, devices, the derived spec, class counts, skipped files and versions; ``data``
    is (training, validation, bad files)."""
    from zoo.weights.resolve import weights_sha256

    train, held, bad = data
    input_shape = training_input_shape(spec, arguments["image_size"])
    return {
        "format": run_dir.RUN_FORMAT,
        "status": "running",
        "base_model": spec.name,
        "base_weights_sha256": weights_sha256(spec, weights, include_top=False),
        "arguments": arguments,
        "data_sha256": digest,
        "distribution": setup,
        "spec": {
            "input_shape": list(input_shape),
            "preprocessing": spec.preprocessing,
            "labels": train.class_names,
        },
        "mirror": resolved_mirror(spec, arguments["mirror"], train),
        "class_counts": {
            "training": train.class_counts(),
            "validation": None if held is None else held.class_counts(),
        },
        "bad_files": [list(row) for row in bad],
        "versions": versions(),
        "command": " ".join(sys.argv),
        "started": utc_now(),
    }


def resolved_mirror(spec: ModelSpec, mirror: bool | str, train: LabelledImages) -> bool:
    """Whether this run may mirror its images: never digits for the MNIST models; ``auto``:
    photos unless every training image is grey."""
    if spec.dataset != "imagenet":
        return False
    if mirror != "auto":
        return bool(mirror)
    x = train.x
    grey = (
        x.ndim == 4
        and x.shape[-1] == 3
        and bool(np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 1], x[..., 2]))
    )
    return not grey


def _role(placement) -> str:
    worker = placement.worker
    return "chief" if placement.is_chief else f"{worker.task_type} {worker.index}"


def _distribution_record(placement, arguments, batch_size) -> dict[str, Any]:
    """Where the run trains, its global batch and its learning rates (scaled by replicas)."""
    if placement.replicated and arguments["learning_rate"] == "auto":
        raise InputError(
            "learning_rate='auto' needs strategy 'one'; run `zoo lr-find` on one device and "
            "pass the rates it suggests"
        )
    if placement.replicated and arguments["bn"] == "train":
        raise InputError(
            "bn='train' needs strategy 'one': with several replicas each BatchNorm layer would "
            "normalise its own share of the batch. Use bn='frozen'"
        )
    rates = learning_rates(arguments["learning_rate"])
    rates = distribution.scaled_rates(rates, placement.replicas)
    return {
        **placement.describe(),
        "global_batch": distribution.global_batch(batch_size, placement.replicas),
        "learning_rates": list(rates),
        "learning_rate_rule": "linear: the rates times the replicas",
    }
