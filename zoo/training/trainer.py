"""One fine-tuning run's training: the data and the model, phase 1 (the new head, on cached
features or through the frozen backbone) and phase 2 (the unfrozen top of the backbone), one
replayable epoch after another, each ending with a checkpoint and the best epoch kept.

Resuming (``zoo.training.resume``), the cached features (``zoo.training.cached_features``) and
the final report (``zoo.training.summary``) are modules of their own.

Example:
    >>> trainer = Trainer(spec, out, arguments, (train, held), "default", True, record, placement)
    >>> trainer.run()
    >>> trainer.best
    {'score': 0.98, 'phase': 2, 'epoch': 4}
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo import run_dir
from zoo.backend import dtype_policy, gpu_available, tf_dtype_policy
from zoo.errors import InputError
from zoo.training import cached_features, distribution, resume
from zoo.training.augmentation import augmenter
from zoo.training.fit_loop import (
    epoch_order,
    evaluate,
    generator_variables,
    read_checkpoint,
    reseed,
    restore_checkpoint,
    save_checkpoint,
    set_random_state,
    train_epoch,
)
from zoo.training.head import (
    compile_model,
    head_models,
    phase2_layers,
    predict_probabilities,
    save_model,
    set_trainable,
    through_backbone,
    with_head_dropout,
)
from zoo.training.settings import parse_unfreeze, training_input_shape


class Trainer:
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
        input_shape = training_input_shape(spec, arguments["image_size"])
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
                self.model = with_head_dropout(self.model, arguments["head_dropout"], classes)
            self.extractor, self.head_model = head_models(self.model)
        self.sample_weight = None
        if arguments["class_weight"] == "balanced":
            y = self.train.y
            counts = np.bincount(y, minlength=classes)
            per_class = len(y) / (len(counts) * np.maximum(counts, 1))
            self.sample_weight = per_class[y].astype("float32")
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None

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
        state = resume.agreed_state(self, read_checkpoint(self.checkpoints))
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

    def phase1(self, state) -> None:
        set_trainable(self.model, [])
        cached = self.cached_head()
        x, val_x = self.train.x, None if self.validation is None else self.validation.x
        if cached:
            x = cached_features.pooled_features(self, self.train.x, "training")
            val_x = (
                None
                if val_x is None
                else cached_features.pooled_features(self, val_x, "validation")
            )
            trained_model = self.head_model
        else:
            trained_model = through_backbone(self.model, self.extractor, self.head_model)
        augment = None if cached else augmenter(self.arguments["augment"], self.spec, self.seed)
        self.epochs(1, trained_model, x, val_x, self.head_rate, augment, state)

    def phase2(self, state) -> None:
        trained = phase2_layers(
            self.model, self.spec, self.arguments["unfreeze"], self.arguments["bn"]
        )
        set_trainable(self.model, trained)
        augment = augmenter(self.arguments["augment"], self.spec, self.seed)
        val_x = None if self.validation is None else self.validation.x
        self.epochs(2, self.model, self.train.x, val_x, self.body_rate, augment, state)

    def epochs(self, phase, trained_model, x, val_x, rate, augment, state) -> None:
        from tqdm import tqdm

        with self.placement.strategy.scope():
            optimizer = compile_model(trained_model, rate)
            # built here on every worker: creating a variable is a collective operation
            optimizer.build(trained_model.trainable_variables)
        first, partial, random = 0, None, None
        if state is not None and state["phase"] == phase:
            if self.placement.is_chief:  # outside the scope: nothing it creates is collective
                trained = trained_model.trainable_variables
                random = restore_checkpoint(self.checkpoints, state, self.model, optimizer, trained)
            first, partial = state["epoch"], state.get("partial")
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
                    resume=partial if epoch == first else None,
                )
                if "partial" in logs:
                    resume.preempted(self, phase, epoch, logs["partial"], optimizer, generators)
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
                resume.preempted(self, phase, epoch + 1, None, optimizer, generators)

    def step(self, trained_model):
        """The training step: ``train_on_batch`` on one device, a replicated step otherwise."""
        from zoo.training.train_steps import KerasStep, ReplicatedStep

        if not self.placement.replicated:
            return KerasStep(trained_model, self.stop_requested)
        return ReplicatedStep(self.placement, trained_model, self.batch_size, self.stop_requested)

    def predictor(self, model):
        """A function of images giving ``model``'s probabilities (float64)."""
        if not self.placement.replicated:
            return lambda x: predict_probabilities(model, x, self.batch_size)
        from zoo.training.train_steps import inference

        run = inference(model, chunk=self.batch_size * 2)
        return lambda x: np.asarray(run(x), dtype=np.float64)

    def keep_if_best(self, row: dict[str, Any]) -> None:
        score = row.get("val_accuracy", row["accuracy"])
        if self.best is None or score > self.best["score"] or self.validation is None:
            self.best = {"score": score, "phase": row["phase"], "epoch": row["epoch"]}
            save_model(self.out, self.model, self.name)
