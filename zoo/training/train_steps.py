"""One training step on one batch: Keras' ``train_on_batch`` on one device, or a step run on
every replica of a ``tf.distribute`` strategy.

``model.fit`` and ``train_on_batch`` fail under ``MultiWorkerMirroredStrategy`` on Keras 3
("Attempt to convert a value (PerReplica...)", keras-team/keras#20585), so the replicated step
is a custom one: each replica takes its share of the global batch, computes its part of the
batch's mean loss (per-row losses scaled by 1 / the batch's size, as
``tf.nn.compute_average_loss`` does) and the optimizer sums the replicas' gradients. It matches
``train_on_batch`` on the whole batch: same loss, same weighted accuracy, the same update up to
the order of floating-point sums.

Example:
    >>> step = ReplicatedStep(placement, model, global_batch=64)
    >>> loss, accuracy, stop = step(x_batch, y_batch, None)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zoo.training.distribution import cluster_errors, speaks_for_worker


class KerasStep:
    """``model.train_on_batch`` (the model compiled), as a step: ``(loss, accuracy, stop)``."""

    def __init__(self, model: Any, stop_requested: Any = None) -> None:
        self.model = model
        self.stop_requested = stop_requested or (lambda: False)

    def __call__(self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None):
        self.model.reset_metrics()
        logs = self.model.train_on_batch(x, y, sample_weight=sample_weight, return_dict=True)
        return float(logs["loss"]), float(logs["accuracy"]), bool(self.stop_requested())


class ReplicatedStep:
    """A training step of ``model`` (compiled, its optimizer built) on every replica of
    ``placement``. Batches are split in equal shares of ``ceil(global_batch / replicas)`` rows;
    a short batch is padded with rows of weight 0. ``stop`` is true on every worker when any
    worker's ``stop_requested()`` was (one more all-reduce in the same step: a preemption
    signal reaches all workers at the same step)."""

    def __init__(
        self,
        placement: Any,
        model: Any,
        global_batch: int,
        stop_requested: Any = None,
        *,
        label_smoothing: float = 0.0,
    ) -> None:
        import tensorflow as tf

        self.placement, self.model = placement, model
        self.share = math.ceil(global_batch / placement.replicas)
        self.stop_requested = stop_requested or (lambda: False)
        strategy, optimizer = placement.strategy, model.optimizer
        sum_ = tf.distribute.ReduceOp.SUM

        def on_replica(x, y, scale, weight, stop):
            import keras

            with tf.GradientTape() as tape:
                probabilities = model(x, training=True)
                if y.shape.rank == 2:  # one-hot or mixed labels
                    rows = keras.losses.categorical_crossentropy(
                        y, probabilities, label_smoothing=label_smoothing
                    )
                else:
                    rows = keras.losses.sparse_categorical_crossentropy(y, probabilities)
                loss = tf.reduce_sum(tf.cast(rows, "float32") * scale)
                if model.losses:
                    loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
                scaled = optimizer.scale_loss(loss)
            variables = model.trainable_variables
            gradients = tape.gradient(scaled, variables)
            optimizer.apply_gradients(zip(gradients, variables, strict=True))
            truth = tf.argmax(y, axis=-1) if y.shape.rank == 2 else tf.cast(y, "int64")
            hits = tf.cast(tf.argmax(probabilities, axis=-1) == truth, "float32")
            return loss, tf.reduce_sum(hits * weight), tf.reduce_sum(weight), stop

        @tf.function
        def step(values):
            results = strategy.run(on_replica, args=values)
            return [strategy.reduce(sum_, value, axis=None) for value in results]

        self._step = step

    def __call__(self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None):
        import tensorflow as tf

        x = np.asarray(x, dtype="float32")  # an augmented batch comes as a tensor
        y = np.asarray(y)
        count = len(y)
        weight = np.ones(count, "float32") if sample_weight is None else sample_weight
        padded = self.share * self.placement.replicas
        if padded > count:
            pad = padded - count
            x = np.concatenate([x, np.zeros((pad, *x.shape[1:]), x.dtype)])
            y = np.concatenate([y, np.zeros((pad, *y.shape[1:]), y.dtype)])
            weight = np.concatenate([weight, np.zeros(pad, "float32")])
        scale = (weight / count).astype("float32")  # the batch's mean, not each share's
        stop = np.float32(1.0 if self.stop_requested() else 0.0)
        share, placement = self.share, self.placement

        def replica_values(context):
            replica = context.replica_id_in_sync_group
            rows = slice(replica * share, (replica + 1) * share)
            first_local = speaks_for_worker(placement, context)
            return (
                tf.constant(x[rows]),
                tf.constant(y[rows]),
                tf.constant(scale[rows]),
                tf.constant(weight[rows].astype("float32")),
                tf.constant(stop if first_local else np.float32(0.0)),
            )

        values = self.placement.strategy.experimental_distribute_values_from_function(
            replica_values
        )
        with cluster_errors(self.placement, "a training step"):
            loss, hits, weights, stops = (float(v) for v in self._step(values))
        accuracy = hits / weights if weights > 0 else 0.0
        return loss, accuracy, stops > 0


def inference(model: Any, chunk: int = 64):
    """A function of a batch giving ``model``'s outputs (training off), called outside any
    replica context: ``model.predict`` would shard its input across the workers of a
    multi-worker strategy."""
    import tensorflow as tf

    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def run(x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros((0, *model.outputs[0].shape[1:]), "float32")
        return np.concatenate(
            [
                np.asarray(call(tf.constant(x[start : start + chunk].astype("float32"))))
                for start in range(0, len(x), chunk)
            ]
        )

    return run
