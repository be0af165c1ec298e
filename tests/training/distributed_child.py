"""A fine-tuning run in its own process, for the distributed tests: on ``--logical-cpus N``
CPU devices (configured before anything else touches TensorFlow), under ``TF_CONFIG`` when the
test sets it, sending itself SIGTERM where a test says (``--sigterm-at "phase 2 epoch 1"``: after
that epoch's second batch), or SIGKILL (``--die-at``). Writes the run's final weights to
``--weights-out`` (an .npz) and prints one JSON line: the role and the history. Exits 143 when
preempted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("data")
parser.add_argument("out")
parser.add_argument("--logical-cpus", type=int, default=1)
parser.add_argument("--sigterm-at", default=None)
parser.add_argument("--die-at", default=None, help="SIGKILL itself there instead")
parser.add_argument("--weights-out", required=True)
parser.add_argument("--options", default="{}")
args = parser.parse_args()

import tensorflow as tf  # noqa: E402

if args.logical_cpus > 1:
    (cpu,) = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus
    )

import numpy as np  # noqa: E402

import zoo  # noqa: E402
import zoo.training.trainer as trainer  # noqa: E402
from zoo.errors import Preempted  # noqa: E402


class SignalAtSecondBatch:
    def __init__(self, signum: int) -> None:
        self.batches, self.signum = 0, signum

    def update(self, count: int) -> None:
        self.batches += 1
        if self.batches == 2:
            os.kill(os.getpid(), self.signum)

    def set_postfix(self, **_: object) -> None:
        pass


if args.sigterm_at or args.die_at:
    real_train_epoch = trainer.train_epoch

    def train_epoch(*positional, where="", **keywords):
        if where == args.sigterm_at:
            keywords["progress"] = SignalAtSecondBatch(signal.SIGTERM)
        if where == args.die_at:
            keywords["progress"] = SignalAtSecondBatch(signal.SIGKILL)
        return real_train_epoch(*positional, where=where, **keywords)

    trainer.train_epoch = train_epoch

try:
    run = zoo.fine_tune(args.model, args.data, args.out, progress=False, **json.loads(args.options))
except Preempted as error:
    print(json.dumps({"preempted": str(error)}))
    sys.exit(143)
if run.model is not None:
    np.savez(args.weights_out, *[np.asarray(w) for w in run.model.get_weights()])
record = {"role": run.role, "history": run.history, "metrics": run.metrics.get("accuracy")}
print(json.dumps(record, default=str))
