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
from zoo.evaluation.report import plots_available
from zoo.training import cached_features, distribution, recipe, resume
from zoo.training.augmentation import augmenter, mixer
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
from zoo.training.run_folder import write_record
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
        self.soft = recipe.soft_labels(arguments)
        self.train_y = recipe.one_hot(self.train.y, classes) if self.soft else self.train.y
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.optimizer, self.trained_model, self.trained_layers = None, None, []
        self.stopped_early: dict[str, Any] | None = None
        self.find_only = False

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
        transforms = (None, None) if cached else self.transforms()
        self.epochs(1, trained_model, x, val_x, self.head_rate, transforms, state)

    def phase2(self, state) -> None:
        trained = phase2_layers(
            self.model, self.spec, self.arguments["unfreeze"], self.arguments["bn"]
        )
        set_trainable(self.model, trained)
        self.trained_layers = trained
        val_x = None if self.validation is None else self.validation.x
        self.epochs(2, self.model, self.train.x, val_x, self.body_rate, self.transforms(), state)

    def transforms(self) -> tuple[Any, Any]:
        """(augment, mix) for the training batches of a phase that runs through the backbone."""
        arguments = self.arguments
        mirror = self.record.get("mirror", True)
        augment = augmenter(arguments["augment"], self.spec, self.seed, mirror=mirror)
        mix = mixer(arguments["mix"], arguments["mix_alpha"], self.seed + 10)
        return augment, mix

    def optimizer_for(self, phase, trained_model, rate, count) -> Any:
        """The phase's optimizer, its loss compiled in: the rate's schedule (warmup in phase 2
        only), the EMA, the layer-wise step factors (phase 2 only)."""
        arguments = self.arguments
        total = arguments["head_epochs" if phase == 1 else "epochs"]
        rate = recipe.schedule(
            rate,
            steps=recipe.steps_per_epoch(count, self.batch_size),
            epochs=total,
            kind=arguments["schedule"],
            warmup=recipe.effective_warmup(arguments["warmup"], total) if phase == 2 else 0,
        )
        decay = arguments["layer_decay"] if phase == 2 else None
        factors = recipe.layer_rate_factors(trained_model, self.trained_layers, decay)
        optimizer = recipe.make_optimizer(rate, ema=arguments["ema"], factors=factors)
        loss = recipe.loss(arguments["label_smoothing"], self.soft)
        return compile_model(trained_model, rate, optimizer=optimizer, loss=loss)

    def epochs(self, phase, trained_model, x, val_x, rate, transforms, state) -> None:
        from tqdm import tqdm

        augment, mix = transforms
        if self.arguments["learning_rate"] == "auto":
            rate = self.found_rate(phase, trained_model, x, transforms, rate)
            if phase == 2 and self.find_only:  # zoo lr-find: the rates are all it wanted
                return
        optimizer, (first, partial, random) = self.start_phase(phase, trained_model, rate, x, state)
        step = self.step(trained_model)
        predict = self.predictor(trained_model)
        generators = [trained_model]
        for transform in transforms:
            generators += getattr(transform, "generators", [])
        total = self.arguments["head_epochs" if phase == 1 else "epochs"]
        label = "head" if phase == 1 else "fine-tune"
        patience = self.arguments["patience"] if phase == 2 else None
        for epoch in range(first, total):
            if recipe.stopped_early(self.history, phase, patience):
                self.stopped_early = {"phase": phase, "epoch": epoch, "patience": patience}
                break
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
                    self.train_y,
                    order,
                    self.batch_size,
                    sample_weight=self.sample_weight,
                    augment=augment,
                    mix=mix,
                    progress=bar,
                    where=f"phase {phase} epoch {epoch + 1}",
                    resume=partial if epoch == first else None,
                )
                if "partial" in logs:
                    resume.preempted(self, phase, epoch, logs["partial"], optimizer, generators)
                stop = logs.pop("stop")
                rate_now = recipe.current_rate(optimizer)
                row = {"phase": phase, "epoch": epoch + 1, **logs, "learning_rate": rate_now}
                if val_x is not None:
                    with recipe.averaged_weights(optimizer, trained_model.trainable_variables):
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
                state = {"phase": phase, "epoch": epoch + 1, "history": self.history}
                save_checkpoint(
                    self.checkpoints, {**state, "best": self.best}, self.model, optimizer
                )
            if stop and epoch + 1 < total:
                resume.preempted(self, phase, epoch + 1, None, optimizer, generators)

    def start_phase(self, phase, trained_model, rate, x, state) -> tuple[Any, tuple]:
        """The phase's optimizer, built on every worker, and where the phase starts: (first
        epoch, the partial epoch to go on with, the random state), from ``state`` when it is
        this phase's checkpoint."""
        with self.placement.strategy.scope():
            optimizer = self.optimizer_for(phase, trained_model, rate, len(x))
            # built here on every worker: creating a variable is a collective operation
            optimizer.build(trained_model.trainable_variables)
        self.optimizer, self.trained_model = optimizer, trained_model
        if state is None or state["phase"] != phase:
            return optimizer, (0, None, None)
        random = None
        if self.placement.is_chief:  # outside the scope: nothing it creates is collective
            trained = trained_model.trainable_variables
            random = restore_checkpoint(self.checkpoints, state, self.model, optimizer, trained)
        return optimizer, (state["epoch"], state.get("partial"), random)

    def found_rate(self, phase, trained_model, x, transforms, default) -> float:
        """The range test's rate for ``phase`` (``learning_rate="auto"``): the one recorded in
        ``run.json`` (a resumed run), or a new test's, recorded and plotted."""
        from tqdm import tqdm

        from zoo.training import lr_find

        key = "head" if phase == 1 else "phase 2"
        found = self.record.setdefault("lr_find", {})
        if key not in found:
            loss = recipe.loss(self.arguments["label_smoothing"], self.soft)
            compile_model(trained_model, lr_find.START, loss=loss)
            with tqdm(
                total=lr_find.STEPS, desc=f"lr find ({key})", unit="step", disable=not self.progress
            ) as bar:
                curve = lr_find.sweep(
                    trained_model,
                    x,
                    self.train_y,
                    batch_size=self.batch_size,
                    seed=self.seed,
                    progress=bar,
                    augment=transforms[0],
                    mix=transforms[1],
                )
            found[key] = curve
            write_record(self.out, self.record)
            if plots_available():
                lr_find.plot(self.out / run_dir.LR_FIND_FILE, found, f"{self.spec.name}: lr find")
        return found[key]["suggestion"] or default

    def step(self, trained_model):
        """The training step: ``train_on_batch`` on one device, a replicated step otherwise."""
        from zoo.training.train_steps import KerasStep, ReplicatedStep

        if not self.placement.replicated:
            return KerasStep(trained_model, self.stop_requested)
        return ReplicatedStep(
            self.placement,
            trained_model,
            self.batch_size,
            self.stop_requested,
            label_smoothing=self.arguments["label_smoothing"],
        )

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
            variables = self.trained_model.trainable_variables
            with recipe.averaged_weights(self.optimizer, variables):  # the EMA weights, when on
                save_model(self.out, self.model, self.name)
