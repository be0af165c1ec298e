"""Resuming a fine-tune: where every worker starts (the chief's checkpoint position, shared),
and the checkpoint saved inside an epoch when a preemption signal stops the run.

The checkpoint files themselves are ``zoo.training.fit_loop``'s; whether a run directory may
resume at all (same arguments, data and devices) is ``zoo.training.run_folder``'s.

Example:
    >>> state = resume.agreed_state(trainer, read_checkpoint(trainer.checkpoints))
    >>> state["phase"], state["epoch"]
    (2, 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.errors import Preempted
from zoo.training import distribution
from zoo.training.fit_loop import (
    random_state,
    save_checkpoint,
)


def agreed_state(trainer, state: dict[str, Any] | None) -> dict[str, Any] | None:
    """The chief's checkpoint position on every worker (the workers have none of their
    own): phase, epoch and how far into it."""
    if trainer.placement.worker is None:
        return state
    partial = (state or {}).get("partial") or {}
    fields = ("batches", "seen", "loss_sum", "correct_sum", "seconds")
    if state is not None:
        mine = [1, state["phase"], state["epoch"], *(partial.get(f, 0) for f in fields)]
    else:
        mine = [0, 0, 0, *([0] * len(fields))]
    (agreed,) = distribution.from_chief(trainer.placement, [np.array(mine, np.float64)])
    if trainer.placement.is_chief or not agreed[0]:
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


def preempted(trainer, phase, epoch, partial, optimizer, generators) -> None:
    """Save the checkpoint inside an epoch every worker stopped at (the chief writes it;
    at an epoch's end it is already saved), then stop."""
    where = f"phase {phase}, " + (
        f"after epoch {epoch}"
        if partial is None
        else f"epoch {epoch + 1} after batch {partial['batches']}"
    )
    if trainer.placement.is_chief and partial is not None:
        save_checkpoint(
            trainer.checkpoints,
            {
                "phase": phase,
                "epoch": epoch,
                "partial": partial,
                "history": trainer.history,
                "best": trainer.best,
            },
            trainer.model,
            optimizer,
            random=random_state(generators),
        )
    raise Preempted(
        f"Stopped on a preemption signal (SIGTERM) at {where}; the checkpoint is saved in "
        f"{trainer.checkpoints}. Run the same command again to resume"
    )
