"""``zoo.fine_tune``: a pretrained model, a new head, your images — in one call, resumable.

Phase 1 trains a new softmax head with the backbone frozen, on the backbone's pooled features
computed once (the cached-feature head phase: tens of times faster than running the frozen
backbone every epoch). Phase 2 unfreezes the top of the backbone (``unfreeze``) and trains on
with a hundred times lower learning rate. Every BatchNormalization layer stays in inference mode
in both phases (``bn="frozen"``): unfreezing a base whose BatchNorm layers switch to training
mode on a small data set wrecks its statistics (measured in issue 9: 79.7 % after the head
fell to 43-54 %; with BatchNorm frozen it rose to 95.4 %).

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

import hashlib
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo import distribution, registry, run_dir
from zoo.augmentation import augmenter, check_level
from zoo.backend import dtype_policy, gpu_available, quiet_tensorflow, tf_dtype_policy
from zoo.errors import InputError, Preempted, ZooError
from zoo.files import (
    LockedError,
    atomic_path,
    atomic_write,
    check_writable_folder,
    file_lock,
    utc_now,
)
from zoo.fit_loop import (
    epoch_order,
    evaluate,
    generator_variables,
    random_state,
    read_checkpoint,
    reseed,
    restore_checkpoint,
    save_checkpoint,
    set_random_state,
    train_epoch,
)
from zoo.hashing import sha256_file
from zoo.inputs import checked_batch_size
from zoo.labelled_data import LabelledImages, align_classes, read_labelled, stratified_split
from zoo.models import model_inputs, stage_names, stage_tensor, swappable_head
from zoo.run_report import (
    classification_metrics,
    plot_confusion,
    plot_curves,
    plots_available,
    write_history,
)
from zoo.spec import ModelSpec
from zoo.version import __version__

#: Head phase: Adam at 1e-2, a linear layer on fixed features. MobileNet 0.25 on optdigits,
#: 3 head epochs: 47.9 % validation accuracy at 1e-3, 74.9 % at 3e-3, 78.0 % at 1e-2 (measured).
HEAD_LEARNING_RATE = 1e-2
#: Phase 2 runs at a hundredth of the head's rate: the pretrained weights need small steps. At a
#: tenth (1e-3), the first phase-2 epoch fell from 87.5 % to 33.7 % validation accuracy on
#: optdigits; at 1e-4 it rose to 93.9 % in 4 epochs (measured; docs/finetuning.md).
BODY_LEARNING_RATE_FACTOR = 0.01
DEFAULT_VALIDATION = 0.2
BN_MODES = ("frozen", "train")
CLASS_WEIGHTS = ("balanced",)
UNFREEZE_HELP = (
    "'all', 'none', 'top:N' (the last N layers with weights) or a stage and '+' ('stage4+')"
)
#: Held while a process writes a run directory: a second one is refused, not interleaved.
LOCK_FILE = ".lock"
#: Files of a run directory that ``overwrite=True`` may remove (nothing else is touched).
RUN_FILES = (
    run_dir.MODEL_FILE,
    run_dir.LABELS_FILE,
    run_dir.RUN_FILE,
    run_dir.HISTORY_FILE,
    run_dir.METRICS_FILE,
    run_dir.CURVES_FILE,
    run_dir.CONFUSION_FILE,
    run_dir.BAD_FILES,
)


@dataclass
class FineTuneRun:
    """A finished fine-tuning run.

    Attributes:
        directory: the run directory (a model name for ``zoo.load``/``zoo.predict``).
        model: the best epoch's ``keras.Model``: raw 0..255 pixels in, probabilities out.
        labels: class names in index order.
        history: one dict per epoch of both phases (``phase``, ``epoch``, ``loss``,
            ``accuracy``, ``val_loss``, ``val_accuracy``, ``images_per_s``, ...).
        metrics: the best model on the validation images (the training ones without
            validation): ``accuracy``, ``per_class`` precision/recall, ``confusion``.
        bad_files: (path, reason) of each file that was skipped.
        class_counts: training images per class.
        role: ``chief`` (the process that wrote ``directory``), or ``worker N`` of a
            multi-worker run, whose ``directory`` was a temporary folder, removed.
    """

    directory: Path
    model: Any
    labels: list[str]
    history: list[dict[str, Any]]
    metrics: dict[str, Any]
    bad_files: list[tuple[str, str]] = field(default_factory=list)
    class_counts: dict[str, int] = field(default_factory=dict)
    role: str = "chief"

    def __repr__(self) -> str:
        accuracy = self.metrics.get("accuracy")
        shown = "n/a" if accuracy is None else f"{accuracy:.1%}"
        return (
            f"FineTuneRun({str(self.directory)!r}, classes={len(self.labels)}, "
            f"{self.metrics.get('evaluated_on', 'validation')} accuracy={shown})"
        )


# -- arguments --------------------------------------------------------------------------------


def parse_unfreeze(unfreeze: str, spec: ModelSpec) -> tuple[str, Any]:
    """``("all"|"none", None)``, ``("top", N)`` or ``("stage", name)`` for an ``unfreeze``
    text; an ``InputError`` naming the valid forms otherwise."""
    text = str(unfreeze).strip().lower()
    if text in ("all", "none"):
        return text, None
    if match := re.fullmatch(r"top:(\d+)", text):
        if int(match.group(1)) < 1:
            raise InputError(f"unfreeze 'top:N' needs N >= 1, received {unfreeze!r}")
        return "top", int(match.group(1))
    stages = [s for s in stage_names(spec) if s not in ("pooled", "logits")]
    if text.endswith("+") and text[:-1] in stages:
        return "stage", text[:-1]
    raise InputError(
        f"unfreeze must be {UNFREEZE_HELP}; received {unfreeze!r} "
        f"({spec.name}'s stages: {', '.join(stages) or 'none'})"
    )


def _learning_rates(learning_rate: Any) -> tuple[float, float]:
    if learning_rate is None:
        return HEAD_LEARNING_RATE, HEAD_LEARNING_RATE * BODY_LEARNING_RATE_FACTOR
    rates = learning_rate if isinstance(learning_rate, (tuple, list)) else [learning_rate]
    if len(rates) == 1:
        rates = [rates[0], rates[0] * BODY_LEARNING_RATE_FACTOR]
    if len(rates) != 2 or not all(
        isinstance(r, (int, float)) and not isinstance(r, bool) and r > 0 for r in rates
    ):
        raise InputError(
            "learning_rate must be None (the defaults), a positive number (the head's rate; "
            f"phase 2 takes a hundredth) or a pair (head, phase 2); received {learning_rate!r}"
        )
    return float(rates[0]), float(rates[1])


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{name} must be a whole number >= 0, received {value!r}")
    return value


def _describe_data(data: Any) -> Any:
    """What a run records of its data: a resolved path, or the kind of in-memory data (whose
    content is pinned by the data digest)."""
    if data is None or isinstance(data, float):
        return data
    if isinstance(data, (str, Path)):
        return str(Path(data).expanduser().resolve())
    if isinstance(data, (tuple, list)):
        return "arrays"
    return type(data).__name__


def _input_shape(spec: ModelSpec, image_size: int | None) -> tuple[int, ...]:
    if image_size is None:
        return tuple(spec.input_shape)
    if spec.dataset != "imagenet":
        raise InputError(
            f"image_size applies to the ImageNet models; {spec.name} takes {spec.input_shape}"
        )
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 32:
        raise InputError(
            f"image_size must be a whole number of pixels >= 32, received {image_size!r}"
        )
    return (image_size, image_size, 3)


def _check_arguments(spec: ModelSpec, arguments: dict[str, Any]) -> None:
    if not swappable_head(spec):
        image_models = "the MNIST and ImageNet classifiers (`zoo list --dataset mnist`)"
        raise InputError(f"Model {spec.name!r} has no classifier head to fine-tune; {image_models}")
    if spec.weights is not None and spec.weights.source == "run":
        raise InputError(
            f"{spec.name} is a fine-tuned run; fine-tune its base model "
            f"({spec.family}) with the new data instead"
        )
    _count(arguments["epochs"], "epochs")
    _count(arguments["head_epochs"], "head_epochs")
    if arguments["epochs"] + arguments["head_epochs"] == 0:
        raise InputError("epochs and head_epochs are both 0: nothing to train")
    parse_unfreeze(arguments["unfreeze"], spec)
    if arguments["bn"] not in BN_MODES:
        raise InputError(f"bn must be one of {', '.join(BN_MODES)}; received {arguments['bn']!r}")
    check_level(arguments["augment"])
    _learning_rates(arguments["learning_rate"])
    _input_shape(spec, arguments["image_size"])
    if arguments["class_weight"] not in (None, *CLASS_WEIGHTS):
        raise InputError(
            f"class_weight must be None or 'balanced'; received {arguments['class_weight']!r}"
        )
    dropout = arguments["head_dropout"]
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise InputError(f"head_dropout must be a fraction in [0, 1), received {dropout!r}")
    if isinstance(arguments["seed"], bool) or not isinstance(arguments["seed"], int):
        raise InputError(f"seed must be an integer, received {arguments['seed']!r}")
    distribution.check_strategy(arguments["strategy"])


# -- the run directory ------------------------------------------------------------------------


#: Arguments added since run directories were first written, and the value a run recorded
#: before them had.
ADDED_ARGUMENTS = {"strategy": "auto", "head_dropout": 0.0}


def _differences(recorded: dict[str, Any], arguments: dict[str, Any]) -> list[str]:
    return run_dir.differences({**ADDED_ARGUMENTS, **recorded}, arguments)


def _prepare_out(out: Path, arguments: dict[str, Any], overwrite: bool) -> str:
    """'new', 'resume' or 'finished' for ``out``; raise when it holds something else."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a folder; name a new or empty folder")
    if run_dir.is_run_dir(out):
        if overwrite:
            for name in RUN_FILES:
                (out / name).unlink(missing_ok=True)
            shutil.rmtree(out / run_dir.CHECKPOINTS, ignore_errors=True)
            return "new"
        recorded = run_dir.read_run(out)
        differences = _differences(recorded.get("arguments", {}), arguments)
        if differences:
            raise InputError(
                f"{out} holds a run with other arguments ({'; '.join(differences)}). Name "
                "another output folder, or pass --overwrite to start this one again"
            )
        return "finished" if recorded.get("status") == "finished" else "resume"
    if out.exists() and any(path.name != LOCK_FILE for path in out.iterdir()):
        raise InputError(
            f"{out} is a folder that holds other files and no run; name a new or empty folder"
        )
    return "new"


def open_run(folder: str | Path) -> FineTuneRun:
    """The finished run in ``folder``, read back (its model loaded)."""
    quiet_tensorflow()
    import keras

    folder = Path(folder).expanduser()
    spec = registry.get_spec(folder)
    model = keras.saving.load_model(folder / run_dir.MODEL_FILE, compile=False)
    record = run_dir.read_run(folder)
    metrics = run_dir.read_json(folder / run_dir.METRICS_FILE)
    return FineTuneRun(
        directory=folder,
        model=model,
        labels=list(spec.labels),
        history=record.get("history", []),
        metrics=metrics,
        bad_files=[tuple(row) for row in record.get("bad_files", [])],
        class_counts=record.get("class_counts", {}).get("training", {}),
    )


def _data_digest(train: LabelledImages, validation: LabelledImages | None) -> str:
    digest = hashlib.sha256()
    for part in (train, validation):
        if part is not None:
            digest.update(np.ascontiguousarray(part.x).tobytes())
            digest.update(np.ascontiguousarray(part.y).tobytes())
            digest.update(json.dumps(part.class_names).encode())
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    from importlib import metadata

    found = {"zoo": __version__}
    for package in ("keras", "tensorflow", "numpy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "absent"
    return found


def _write_record(out: Path, record: dict[str, Any]) -> None:
    atomic_write(out / run_dir.RUN_FILE, json.dumps(record, indent=1, default=str))


# -- the model --------------------------------------------------------------------------------


def _weighted_layers(model) -> list[Any]:
    return [layer for layer in model.layers if layer.name != "predictions" and layer.weights]


def _is_batch_norm(layer) -> bool:
    import keras

    return isinstance(layer, keras.layers.BatchNormalization)


def _phase2_layers(model, spec: ModelSpec, unfreeze: str, bn: str) -> list[Any]:
    """The backbone layers phase 2 trains."""
    kind, value = parse_unfreeze(unfreeze, spec)
    layers = [
        layer for layer in _weighted_layers(model) if not (bn == "frozen" and _is_batch_norm(layer))
    ]
    if kind == "none":
        return []
    if kind == "all":
        return layers
    if kind == "top":
        return layers[-value:]
    stages = [s for s in stage_names(spec) if s not in ("pooled", "logits")]
    position = stages.index(value)
    if position == 0:
        return layers
    boundary = stage_tensor(model, spec, stages[position - 1])._keras_history.operation
    after = model.layers.index(boundary)
    return [layer for layer in layers if model.layers.index(layer) > after]


def _set_trainable(model, trained: list[Any]) -> None:
    """Train the head and ``trained`` only; every other layer is frozen (a frozen
    BatchNormalization layer also runs in inference mode, as Keras 3 does)."""
    chosen = {id(layer) for layer in trained}
    for layer in model.layers:
        layer.trainable = layer.name == "predictions" or id(layer) in chosen


def _compile(model, learning_rate: float) -> Any:
    import keras

    optimizer = keras.optimizers.Adam(learning_rate)
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=gpu_available(),  # never XLA on a CPU: slower there
    )
    return optimizer


#: The name of the dropout layer before the classifier (``head_dropout``).
HEAD_DROPOUT = "head_dropout"


def _with_head_dropout(model, rate: float, classes: int) -> Any:
    """``model`` with dropout at ``rate`` between its pooled features and a new classifier."""
    import keras

    from zoo.models import with_new_head

    pooled = model.get_layer("predictions").input
    dropped = keras.layers.Dropout(rate, name=HEAD_DROPOUT)(pooled)
    return with_new_head(model, classes, model.name, dropped)


def _head_models(model) -> tuple[Any, Any]:
    """(extractor, head_model): the backbone up to the head's input (before the head's
    dropout), and the head alone on those features (sharing the model's head layers)."""
    import keras

    head = model.get_layer("predictions")
    names = [layer.name for layer in model.layers]
    dropout = model.get_layer(HEAD_DROPOUT) if HEAD_DROPOUT in names else None
    pooled = (dropout or head).input
    extractor = keras.Model(model_inputs(model), pooled, name="extractor")
    features = keras.Input(tuple(pooled.shape[1:]), name="pooled_features")
    outputs = head(features if dropout is None else dropout(features))
    return extractor, keras.Model(features, outputs, name="head")


def keras_features(extractor, x: np.ndarray, step: int) -> np.ndarray:
    """``extractor``'s outputs for ``x``, ``step`` images per compiled call (each chunk cast
    to float32 on its own: a uint8 data set is never copied whole)."""
    return np.concatenate(
        [
            np.asarray(extractor.predict_on_batch(x[start : start + step].astype("float32")))
            for start in range(0, len(x), step)
        ]
    )


def _through_backbone(model, extractor, head_model) -> Any:
    """The head (``head_model``: its dropout, then its classifier) trained through the frozen
    backbone, which runs in inference mode (dropout off), as the cached features are computed.
    (A functional call's ``training=False`` is overridden by the outer ``training=True``; a
    layer that calls it is not.)"""
    import keras

    class InferenceOnly(keras.layers.Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

        def call(self, x, training=None):
            return self.inner(x, training=False)

    inputs = keras.Input(tuple(model.inputs[0].shape[1:]), dtype=model.inputs[0].dtype)
    features = InferenceOnly(extractor, name="frozen_backbone")(inputs)
    return keras.Model(inputs, head_model(features), name="head_through_backbone")


def _save_model(out: Path, model, name: str) -> None:
    import keras

    inference = keras.Model(model_inputs(model), model.outputs[0], name=name)
    with atomic_path(out / run_dir.MODEL_FILE) as temp:
        inference.save(temp)


def _predict(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    return np.asarray(model.predict(x, batch_size=batch_size * 2, verbose=0), dtype=np.float64)


# -- the run ----------------------------------------------------------------------------------

#: Pooled features of the last data sets computed in this process, by backbone and data.
_SHARED_FEATURES: dict[tuple, np.ndarray] = {}
SHARED_FEATURES_KEPT = 4


class _Trainer:
    """One run: data, model, the two phases, checkpoints and the final report."""

    def __init__(self, spec, out, arguments, data, weights, progress, record, placement):
        import keras

        self.spec, self.out, self.arguments = spec, out, arguments
        self.train, self.validation = data
        self.progress, self.record = progress and placement.is_chief, record
        self.placement, self.stop_requested = placement, lambda: False
        self.batch_size = record["distribution"]["global_batch"]
        self.seed = arguments["seed"]
        self.head_rate, self.body_rate = record["distribution"]["learning_rates"]
        self.checkpoints = out / run_dir.CHECKPOINTS
        self.name = run_dir.model_name(out)
        input_shape = _input_shape(spec, arguments["image_size"])
        self.input_shape, self.weights, self.runner = input_shape, weights, None
        keras.utils.set_random_seed(self.seed)  # the new head's initial weights
        from zoo.models import load

        options = {"input_shape": input_shape} if spec.dataset == "imagenet" else {}
        policy = tf_dtype_policy(spec.mixed_precision, gpu_available())
        classes = len(self.train.class_names)
        with dtype_policy(policy), placement.strategy.scope():
            try:
                self.model = load(spec, weights=weights, num_classes=classes, **options)
            except ValueError as error:
                raise InputError(f"Cannot build {spec.name} at {input_shape}: {error}") from None
            if arguments["head_dropout"]:
                self.model = _with_head_dropout(self.model, arguments["head_dropout"], classes)
            self.extractor, self.head_model = _head_models(self.model)
        self.sample_weight = None
        if arguments["class_weight"] == "balanced":
            y = self.train.y
            counts = np.bincount(y, minlength=classes)
            per_class = len(y) / (len(counts) * np.maximum(counts, 1))
            self.sample_weight = per_class[y].astype("float32")
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None

    # phases ------------------------------------------------------------------------------

    def cached_head(self) -> bool:
        """Whether phase 1 trains on cached pooled features: whenever it has no augmentation
        (augmentation runs in phase 1 only when phase 2 unfreezes nothing)."""
        arguments = self.arguments
        unfrozen = parse_unfreeze(arguments["unfreeze"], self.spec)[0]
        nothing_unfrozen = arguments["epochs"] == 0 or unfrozen == "none"
        augment_in_phase1 = arguments["augment"] != "none" and nothing_unfrozen
        if arguments["cached_head"] and augment_in_phase1:
            raise InputError(
                "cached_head=True needs a head phase without augmentation; augmentation runs "
                "in the head phase when nothing is unfrozen (unfreeze='none' or epochs=0)"
            )
        if arguments["cached_head"] is None:
            return not augment_in_phase1
        return bool(arguments["cached_head"])

    def run(self, stop_requested=None) -> None:
        """Both phases, from the last checkpoint when there is one (the chief's, on every
        worker). ``stop_requested`` is checked after each step (a preemption signal)."""
        self.stop_requested = stop_requested or self.stop_requested
        state = self.agreed_state(read_checkpoint(self.checkpoints))
        if state is not None:
            self.history, self.best = state["history"], state["best"]
        head_epochs, epochs = self.arguments["head_epochs"], self.arguments["epochs"]
        phase1_done = state is not None and state["phase"] == 1 and state["epoch"] >= head_epochs
        if state is None or (state["phase"] == 1 and not phase1_done):
            if head_epochs:
                self.phase1(state)
            state = None
        elif state["phase"] == 1:  # phase 1 complete: phase 2 starts from its weights
            if self.placement.is_chief:  # the workers take them from the chief
                self.model.load_weights(self.checkpoints / state["weights"])
            state = None
        if epochs:
            self.phase2(state)

    def agreed_state(self, state: dict[str, Any] | None) -> dict[str, Any] | None:
        """The chief's checkpoint position on every worker (the workers have none of their
        own): phase, epoch and how far into it."""
        if self.placement.worker is None:
            return state
        partial = (state or {}).get("partial") or {}
        fields = ("batches", "seen", "loss_sum", "correct_sum", "seconds")
        if state is not None:
            mine = [1, state["phase"], state["epoch"], *(partial.get(f, 0) for f in fields)]
        else:
            mine = [0, 0, 0, *([0] * len(fields))]
        (agreed,) = distribution.from_chief(self.placement, [np.array(mine, np.float64)])
        if self.placement.is_chief or not agreed[0]:
            return state
        phase, epoch = int(agreed[1]), int(agreed[2])
        values = dict(zip(fields, agreed[3:].tolist(), strict=True))
        values["batches"] = int(values["batches"])
        values["seen"] = int(values["seen"])
        return {
            "phase": phase,
            "epoch": epoch,
            "partial": values if values["batches"] else None,
            "history": [],
            "best": None,
        }

    def phase1(self, state) -> None:
        _set_trainable(self.model, [])
        cached = self.cached_head()
        x, val_x = self.train.x, None if self.validation is None else self.validation.x
        if cached:
            x = self.features(self.train.x, "training")
            val_x = None if val_x is None else self.features(val_x, "validation")
            trained_model = self.head_model
        else:
            trained_model = _through_backbone(self.model, self.extractor, self.head_model)
        augment = None if cached else augmenter(self.arguments["augment"], self.spec, self.seed)
        self.epochs(1, trained_model, x, val_x, self.head_rate, augment, state)

    def phase2(self, state) -> None:
        trained = _phase2_layers(
            self.model, self.spec, self.arguments["unfreeze"], self.arguments["bn"]
        )
        _set_trainable(self.model, trained)
        augment = augmenter(self.arguments["augment"], self.spec, self.seed)
        val_x = None if self.validation is None else self.validation.x
        self.epochs(2, self.model, self.train.x, val_x, self.body_rate, augment, state)

    def features(self, x: np.ndarray, which: str) -> np.ndarray:
        """The frozen backbone's pooled features of ``x`` (the head's input), computed once,
        on the runtime the prediction path picks when it computes the same thing. Kept in
        memory for the next run of this process on the same backbone and data (the trials of
        ``zoo.tune`` share them)."""
        record = self.record
        key = (
            self.spec.name,
            record["base_weights_sha256"],
            tuple(self.input_shape),
            record["data_sha256"],
            which,
            self.placement.replicated,
            self.seed if record["base_weights_sha256"] == "none" else None,  # random weights
        )
        if key not in _SHARED_FEATURES:
            while len(_SHARED_FEATURES) >= SHARED_FEATURES_KEPT:
                _SHARED_FEATURES.pop(next(iter(_SHARED_FEATURES)))
            _SHARED_FEATURES[key] = self.compute_features(x, which)
        return _SHARED_FEATURES[key]

    def compute_features(self, x: np.ndarray, which: str) -> np.ndarray:
        from tqdm import tqdm

        if self.runner is None:
            self.runner = self.feature_runner()
        chunks = []
        step = max(self.batch_size * 2, 64)
        with tqdm(
            total=len(x), desc=f"pooled features ({which})", unit="img", disable=not self.progress
        ) as bar:
            for start in range(0, len(x), step):
                chunks.append(self.runner(x[start : start + step]))
                bar.update(min(step, len(x) - start))
        return np.concatenate(chunks).astype("float32")

    def feature_runner(self):
        """A function of a batch giving pooled features. The registry's pooled stage is the
        head's input except for ConvNeXt (whose classifier normalises after pooling), and a
        runtime artefact is keyed by the weights file, so random weights run in Keras."""
        if self.placement.replicated:  # Keras' predict would shard batches across workers
            from zoo.train_steps import inference

            return inference(self.extractor)
        if self.spec.family == "convnext" or self.weights in (None, "none"):
            return lambda batch: keras_features(self.extractor, batch, len(batch))
        from zoo.models import feature_model
        from zoo.runtimes import get_runner

        runner = get_runner(
            self.spec,
            output="pooled",
            weights=self.weights,
            input_shape=self.input_shape if self.spec.dataset == "imagenet" else None,
            model_factory=lambda: feature_model(self.model, self.spec, ["pooled"]),
        )
        return runner.run

    def epochs(self, phase, trained_model, x, val_x, rate, augment, state) -> None:
        from tqdm import tqdm

        with self.placement.strategy.scope():
            optimizer = _compile(trained_model, rate)
            # built here on every worker: creating a variable is a collective operation
            optimizer.build(trained_model.trainable_variables)
        first, resume, random = 0, None, None
        if state is not None and state["phase"] == phase:
            if self.placement.is_chief:  # outside the scope: nothing it creates is collective
                trained = trained_model.trainable_variables
                random = restore_checkpoint(self.checkpoints, state, self.model, optimizer, trained)
            first, resume = state["epoch"], state.get("partial")
        step = self.step(trained_model)
        predict = self.predictor(trained_model)
        generators = [trained_model, getattr(augment, "model", None)]
        total = self.arguments["head_epochs" if phase == 1 else "epochs"]
        label = "head" if phase == 1 else "fine-tune"
        for epoch in range(first, total):
            order = epoch_order(len(x), self.seed, phase, epoch)
            reseed(generators, self.seed, phase, epoch)
            if epoch == first:
                if random:  # a checkpoint inside this epoch: its random draws go on from there
                    set_random_state(generators, random)
                distribution.sync_from_chief(
                    self.placement,
                    [*self.model.variables, *optimizer.variables, *generator_variables(generators)],
                )
            with tqdm(
                total=len(x),
                desc=f"{label} {epoch + 1}/{total}",
                unit="img",
                disable=not self.progress,
                leave=True,
            ) as bar:
                logs = train_epoch(
                    step,
                    x,
                    self.train.y,
                    order,
                    self.batch_size,
                    sample_weight=self.sample_weight,
                    augment=augment,
                    progress=bar,
                    where=f"phase {phase} epoch {epoch + 1}",
                    resume=resume if epoch == first else None,
                )
                if "partial" in logs:
                    self.preempted(phase, epoch, logs["partial"], optimizer, generators)
                stop = logs.pop("stop")
                row = {"phase": phase, "epoch": epoch + 1, **logs, "learning_rate": rate}
                if val_x is not None:
                    scores = evaluate(predict(val_x), self.validation.y)
                    row.update(val_loss=scores["loss"], val_accuracy=scores["accuracy"])
                    bar.set_postfix(
                        loss=f"{logs['loss']:.4f}",
                        acc=f"{logs['accuracy']:.3f}",
                        val_acc=f"{scores['accuracy']:.3f}",
                    )
            self.history.append(row)
            self.keep_if_best(row)
            if self.placement.is_chief:
                save_checkpoint(
                    self.checkpoints,
                    {
                        "phase": phase,
                        "epoch": epoch + 1,
                        "history": self.history,
                        "best": self.best,
                    },
                    self.model,
                    optimizer,
                )
            if stop and epoch + 1 < total:
                self.preempted(phase, epoch + 1, None, optimizer, generators)

    def step(self, trained_model):
        """The training step: ``train_on_batch`` on one device, a replicated step otherwise."""
        from zoo.train_steps import KerasStep, ReplicatedStep

        if not self.placement.replicated:
            return KerasStep(trained_model, self.stop_requested)
        return ReplicatedStep(self.placement, trained_model, self.batch_size, self.stop_requested)

    def predictor(self, model):
        """A function of images giving ``model``'s probabilities (float64)."""
        if not self.placement.replicated:
            return lambda x: _predict(model, x, self.batch_size)
        from zoo.train_steps import inference

        run = inference(model, chunk=self.batch_size * 2)
        return lambda x: np.asarray(run(x), dtype=np.float64)

    def preempted(self, phase, epoch, partial, optimizer, generators) -> None:
        """Save the checkpoint inside an epoch every worker stopped at (the chief writes it;
        at an epoch's end it is already saved), then stop."""
        where = f"phase {phase}, " + (
            f"after epoch {epoch}"
            if partial is None
            else f"epoch {epoch + 1} after batch {partial['batches']}"
        )
        if self.placement.is_chief and partial is not None:
            save_checkpoint(
                self.checkpoints,
                {
                    "phase": phase,
                    "epoch": epoch,
                    "partial": partial,
                    "history": self.history,
                    "best": self.best,
                },
                self.model,
                optimizer,
                random=random_state(generators),
            )
        raise Preempted(
            f"Stopped on a preemption signal (SIGTERM) at {where}; the checkpoint is saved in "
            f"{self.checkpoints}. Run the same command again to resume"
        )

    def keep_if_best(self, row: dict[str, Any]) -> None:
        score = row.get("val_accuracy", row["accuracy"])
        if self.best is None or score > self.best["score"] or self.validation is None:
            self.best = {"score": score, "phase": row["phase"], "epoch": row["epoch"]}
            _save_model(self.out, self.model, self.name)

    # report ------------------------------------------------------------------------------

    def finish(self) -> dict[str, Any]:
        import keras

        best_model = keras.saving.load_model(self.out / run_dir.MODEL_FILE, compile=False)
        evaluated = self.validation if self.validation is not None else self.train
        probabilities = _predict(best_model, evaluated.x, self.batch_size)
        metrics = classification_metrics(probabilities, evaluated.y, self.train.class_names)
        metrics["evaluated_on"] = "validation" if self.validation is not None else "training"
        metrics["best_epoch"] = self.best
        atomic_write(self.out / run_dir.METRICS_FILE, json.dumps(metrics, indent=1))
        write_history(self.out / run_dir.HISTORY_FILE, self.history)
        plotted = plots_available()
        if plotted:
            source = Path(str(self.arguments["data"])).name
            title = f"{self.spec.name} fine-tuned on {source} ({len(self.train)} training images)"
            plot_curves(self.out / run_dir.CURVES_FILE, self.history, title)
            plot_confusion(self.out / run_dir.CONFUSION_FILE, metrics, "Confusion, best epoch")
        self.record.update(
            status="finished",
            finished=utc_now(),
            model_sha256=sha256_file(self.out / run_dir.MODEL_FILE),
            best_epoch=self.best,
            history=self.history,
            plots=plotted,
        )
        self.record["spec"]["params"] = int(best_model.count_params())
        _write_record(self.out, self.record)
        self.best_model = best_model
        return metrics


def _read_data(
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


def _check_validation(validation: Any) -> Any:
    if isinstance(validation, bool):
        raise InputError(f"validation must be a fraction, data or None; received {validation!r}")
    if isinstance(validation, (int, float)):
        if not 0 < validation < 1:
            raise InputError(f"validation as a fraction must be in (0, 1), received {validation!r}")
        return float(validation)
    if isinstance(validation, str):
        try:
            return _check_validation(float(validation))
        except ValueError:
            return validation
    return validation


def fine_tune(
    model: str | ModelSpec,
    data: Any,
    out: str | Path,
    *,
    validation: Any = DEFAULT_VALIDATION,
    epochs: int = 10,
    head_epochs: int = 3,
    unfreeze: str = "top:20",
    bn: str = "frozen",
    augment: str = "light",
    learning_rate: float | tuple[float, float] | None = None,
    image_size: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    class_weight: str | None = None,
    weights: str | Path | None = "default",
    cached_head: bool | None = None,
    head_dropout: float = 0.0,
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
        unfreeze: what phase 2 trains besides the head: ``"top:20"`` (the last 20 layers with
            weights, BatchNorm not counted when frozen), ``"stage4+"``, ``"all"``, ``"none"``.
        bn: ``"frozen"`` keeps every BatchNormalization layer in inference mode in both phases
            (its statistics unchanged); ``"train"`` lets unfrozen ones train.
        augment: ``none|light|strong`` random flips (photos only), rotation, zoom, shift and
            contrast on training batches; in phase 2 (in phase 1 only when nothing is
            unfrozen). Never part of the saved model.
        learning_rate: None: Adam at 1e-2 for the head, 1e-4 for phase 2; a number: the
            head's rate (phase 2 a hundredth of it); or a pair (head, phase 2).
        image_size: ImageNet models: the square input side (default: the spec's).
        batch_size: images per step over all replicas (default 32 per replica).
        seed: fixes the head's initialisation, the split, the order and every random draw.
        class_weight: ``"balanced"`` weights each class by the inverse of its frequency.
        weights: the base model's weights (see ``zoo.load``).
        cached_head: train the head on the backbone's pooled features computed once (None:
            whenever phase 1 has no augmentation).
        head_dropout: dropout before the new classifier (0: none), in both phases.
        strategy: where to train (``zoo.distribution``): ``"one"`` device; ``"mirrored"``:
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
    validation = _check_validation(validation)
    arguments = {
        "model": spec.name,
        "data": _describe_data(data),
        "validation": _describe_data(validation),
        "epochs": epochs,
        "head_epochs": head_epochs,
        "unfreeze": unfreeze,
        "bn": bn,
        "augment": augment,
        "learning_rate": learning_rate,
        "image_size": image_size,
        "batch_size": checked_batch_size(batch_size),
        "seed": seed,
        "class_weight": class_weight,
        "weights": weights if weights in (None, "default", "imagenet") else _describe_data(weights),
        "cached_head": cached_head,
        "head_dropout": head_dropout,
        "strategy": strategy,
    }
    _check_arguments(spec, arguments)
    out = Path(out).expanduser()
    _check_not_inside(out, data, validation)
    worker = distribution.this_worker(strategy)
    if worker is not None and not worker.is_chief:  # the chief writes the run directory
        import tempfile

        out = Path(tempfile.mkdtemp(prefix=f"zoo-{worker.task_type}{worker.index}-"))
    check_writable_folder(out, "the run directory")
    options = {"weights": weights, "progress": progress, "batch_size": batch_size}
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


def _fine_tune(spec, sources, out, arguments, overwrite, options) -> FineTuneRun:
    """``fine_tune`` once its arguments are checked and the run directory is locked;
    ``sources`` is (data, validation); ``options`` the weights, progress and batch size."""
    status = _prepare_out(out, arguments, overwrite)
    placement = distribution.place(arguments["strategy"])
    if status == "finished":
        distribution.from_chief(placement, [np.array([1.0, 0.0])])  # the workers stop too
        return open_run(out)
    input_shape = _input_shape(spec, arguments["image_size"])
    data, validation = sources
    progress = options["progress"] and placement.is_chief
    problem, train, held, bad, digest = None, None, None, [], "0" * 64
    try:
        train, held, bad = _read_data(
            spec, data, validation, input_shape, arguments["seed"], progress
        )
        digest = _data_digest(train, held)
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
        problem = _resume_problem(out, digest, setup)
    distribution.agree(placement, problem)
    if status != "resume":
        _start_run_dir(out)
    _remove_partial_writes(out)
    from zoo.preemption import PreemptionWatch
    from zoo.weights import weights_sha256

    record = {
        "format": run_dir.RUN_FORMAT,
        "status": "running",
        "base_model": spec.name,
        "base_weights_sha256": weights_sha256(spec, options["weights"], include_top=False),
        "arguments": arguments,
        "data_sha256": digest,
        "distribution": setup,
        "spec": {
            "input_shape": list(input_shape),
            "preprocessing": spec.preprocessing,
            "labels": train.class_names,
        },
        "class_counts": {
            "training": train.class_counts(),
            "validation": None if held is None else held.class_counts(),
        },
        "bad_files": [list(row) for row in bad],
        "versions": _versions(),
        "command": " ".join(sys.argv),
        "started": utc_now(),
    }
    atomic_write(out / run_dir.LABELS_FILE, json.dumps(train.class_names, indent=1))
    atomic_write(out / run_dir.BAD_FILES, "".join(f"{path}\t{why}\n" for path, why in bad))
    _write_record(out, record)
    trainer = _Trainer(
        spec, out, arguments, (train, held), options["weights"], progress, record, placement
    )
    with PreemptionWatch() as watch:
        trainer.run(watch.requested)
    metrics = trainer.finish()
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


def _role(placement) -> str:
    worker = placement.worker
    return "chief" if placement.is_chief else f"{worker.task_type} {worker.index}"


def _distribution_record(placement, arguments, batch_size) -> dict[str, Any]:
    """Where the run trains, its global batch and its learning rates (scaled by replicas)."""
    if placement.replicated and arguments["bn"] == "train":
        raise InputError(
            "bn='train' needs strategy 'one': with several replicas each BatchNorm layer would "
            "normalise its own share of the batch. Use bn='frozen'"
        )
    rates = _learning_rates(arguments["learning_rate"])
    rates = distribution.scaled_rates(rates, placement.replicas)
    return {
        **placement.describe(),
        "global_batch": distribution.global_batch(batch_size, placement.replicas),
        "learning_rates": list(rates),
        "learning_rate_rule": "linear: the rates times the replicas",
    }


def _resume_problem(out: Path, digest: str, setup: dict[str, Any]) -> InputError | None:
    """Why the run in ``out`` cannot be resumed with this data and distribution, or None."""
    recorded = run_dir.read_run(out)
    if recorded.get("data_sha256") != digest:
        return InputError(
            f"The data differs from what the run in {out} started on (images added, "
            "removed or changed). Pass --overwrite to start again, or another output folder"
        )
    before = recorded.get("distribution") or {
        "replicas": 1,
        "global_batch": recorded.get("arguments", {}).get("batch_size"),
    }
    if (before["replicas"], before["global_batch"]) != (setup["replicas"], setup["global_batch"]):
        return InputError(
            f"The run in {out} trained on {before['replicas']} replica(s) with batches of "
            f"{before['global_batch']}; this one has {setup['replicas']} and "
            f"{setup['global_batch']}. Resume it on as many devices, or pass --overwrite"
        )
    return None


def _check_not_inside(out: Path, *sources: Any, what: str = "The run directory") -> None:
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


def _start_run_dir(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / run_dir.CHECKPOINTS, ignore_errors=True)


def _remove_partial_writes(out: Path) -> None:
    """Temporary files of writes a kill interrupted (``.model.keras.x1y2.keras``)."""
    for name in RUN_FILES:
        for partial in out.glob(f".{name}.*"):
            partial.unlink(missing_ok=True)
