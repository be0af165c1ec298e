"""A fine-tuning run in its own process, which SIGKILLs itself where a test says: in the middle
of an epoch (``--kill-at "phase 2 epoch 2"``: at its third batch) or in the middle of writing
``model.keras`` (``--kill-in-save N``: the N-th save writes half a file, then the process dies).

Used by test_finetune.py; the arguments after ``--`` are ``zoo.fine_tune`` keywords as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal

import zoo
import zoo.training.trainer as trainer

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("data")
parser.add_argument("out")
parser.add_argument("--kill-at", default=None)
parser.add_argument("--kill-in-save", type=int, default=None)
parser.add_argument("--options", default="{}")
args = parser.parse_args()


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class KillAtThirdBatch:
    def __init__(self) -> None:
        self.batches = 0

    def update(self, count: int) -> None:
        self.batches += 1
        if self.batches == 3:
            die()

    def set_postfix(self, **_: object) -> None:
        pass


if args.kill_at:
    real_train_epoch = trainer.train_epoch

    def train_epoch(*positional, where="", **keywords):
        if where == args.kill_at:
            keywords["progress"] = KillAtThirdBatch()
        return real_train_epoch(*positional, where=where, **keywords)

    trainer.train_epoch = train_epoch

if args.kill_in_save:
    real_save_model = trainer.save_model
    saves = []

    def save_model(out, model, name):
        saves.append(name)
        if len(saves) == args.kill_in_save:
            import keras

            original = keras.Model.save

            def half_save(self, path, *a, **k):
                original(self, path, *a, **k)
                data = open(path, "rb").read()
                with open(path, "wb") as handle:
                    handle.write(data[: len(data) // 2])
                die()

            keras.Model.save = half_save
        real_save_model(out, model, name)

    trainer.save_model = save_model

run = zoo.fine_tune(args.model, args.data, args.out, progress=False, **json.loads(args.options))
print(json.dumps({"accuracy": run.metrics["accuracy"]}))
