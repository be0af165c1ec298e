"""Where a fine-tuning run trains: one device, every device of this machine
(``tf.distribute.MirroredStrategy``) or many machines (``MultiWorkerMirroredStrategy``, the
cluster described by ``TF_CONFIG``).

The rules a distributed run follows:

- **Batch size is global**: each step trains on ``batch_size`` images split evenly across the
  replicas. Left unset, it is 32 per replica (32 × replicas).
- **Learning rates scale linearly with the replicas** (Goyal et al., 2017, "Accurate, Large
  Minibatch SGD"): the rates given (or the defaults, tuned for batches of 32 on one device) are
  multiplied by the number of replicas.
- **The chief writes the run directory**; every other worker writes to a temporary folder of
  its own, removed when it finishes. At the start of each phase every worker takes the chief's
  weights, optimizer state and random state, so a worker whose disk was wiped rejoins a resumed
  run as it is.

Example:
    >>> placement = place("mirrored")            # two GPUs: 2 replicas on one machine
    >>> placement.replicas, placement.is_chief
    (2, True)
    >>> scaled_rates((1e-2, 1e-4), placement.replicas)
    (0.02, 0.0002)
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from zoo.errors import InputError, TrainingError

STRATEGIES = ("auto", "one", "mirrored", "multiworker")
#: Images per replica when a distributed run is given no batch size.
PER_REPLICA_BATCH = 32


@dataclass(frozen=True)
class Worker:
    """This process' place in a ``TF_CONFIG`` cluster (the standard TensorFlow description)."""

    task_type: str
    index: int
    workers: int

    @property
    def is_chief(self) -> bool:
        """The task that writes the run: ``chief``, or worker 0 of a cluster without one."""
        return self.task_type == "chief" or (self.task_type == "worker" and self.index == 0)


@dataclass
class Placement:
    """The strategy a run trains under and this process' role in it.

    Attributes:
        name: ``one``, ``mirrored`` or ``multiworker`` (what ``auto`` became).
        strategy: the ``tf.distribute.Strategy`` (the default one for ``one``).
        replicas: the replicas in sync (devices over all workers).
        worker: this process' task in the cluster (``multiworker`` only).
    """

    name: str
    strategy: Any
    replicas: int
    worker: Worker | None = None

    @property
    def is_chief(self) -> bool:
        return self.worker is None or self.worker.is_chief

    @property
    def replicated(self) -> bool:
        """Whether steps run through ``strategy.run`` (every strategy but ``one``)."""
        return self.name != "one"

    def describe(self) -> dict[str, Any]:
        """What a run records of where it trained."""
        described: dict[str, Any] = {"strategy": self.name, "replicas": self.replicas}
        if self.worker is not None:
            described["workers"] = self.worker.workers
        return described


def check_strategy(strategy: Any) -> str:
    """``strategy`` when it is one of ``STRATEGIES``; an ``InputError`` naming them otherwise."""
    if strategy not in STRATEGIES:
        raise InputError(f"strategy must be one of {', '.join(STRATEGIES)}; received {strategy!r}")
    return strategy


def read_tf_config(environ: dict[str, str] | None = None) -> Worker:
    """This process' task from ``$TF_CONFIG``.

    Raises:
        InputError: ``TF_CONFIG`` is missing, is not JSON, or does not name this task in its
            cluster; the message shows the expected form.
    """
    environ = os.environ if environ is None else environ
    form = (
        'TF_CONFIG=\'{"cluster": {"worker": ["host1:port", "host2:port"]}, '
        '"task": {"type": "worker", "index": 0}}\''
    )
    text = environ.get("TF_CONFIG")
    if not text:
        raise InputError(f"strategy 'multiworker' needs the cluster in TF_CONFIG, e.g. {form}")
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        task_type, index = str(task["type"]), int(task["index"])
        members = cluster[task_type]
        workers = sum(len(cluster.get(kind, ())) for kind in ("chief", "worker"))
    except (ValueError, KeyError, TypeError):
        raise InputError(f"TF_CONFIG is not a cluster description: {text!r}; e.g. {form}") from None
    if task_type not in ("chief", "worker") or not 0 <= index < len(members):
        raise InputError(
            f"TF_CONFIG's task {task_type!r} {index} is not a chief or worker of its cluster "
            f"({', '.join(f'{k}: {len(v)}' for k, v in cluster.items())})"
        )
    return Worker(task_type, index, workers)


def this_worker(strategy: str) -> Worker | None:
    """This process' task for ``strategy`` (None unless ``multiworker``), read without
    importing TensorFlow: the caller needs the role before it touches the run directory."""
    return read_tf_config() if check_strategy(strategy) == "multiworker" else None


def place(strategy: str) -> Placement:
    """Create the ``tf.distribute`` strategy for ``strategy``.

    ``mirrored`` uses every GPU, or every logical CPU device when there is no GPU (one CPU
    device unless the process configured more); ``auto`` is ``mirrored`` on a machine with two
    or more GPUs and ``one`` otherwise.
    """
    from zoo.backend import quiet_tensorflow

    check_strategy(strategy)
    quiet_tensorflow()
    import tensorflow as tf

    if strategy == "multiworker":  # before anything starts TensorFlow's runtime
        worker = read_tf_config()
        try:
            workers = tf.distribute.MultiWorkerMirroredStrategy()
        except RuntimeError as error:
            raise InputError(
                "strategy 'multiworker' must be set up before TensorFlow runs anything in the "
                f"process ({error}): start a fresh process, e.g. `zoo finetune --strategy "
                "multiworker`"
            ) from None
        return Placement("multiworker", workers, workers.num_replicas_in_sync, worker)
    gpus = tf.config.list_logical_devices("GPU")
    if strategy == "auto":
        strategy = "mirrored" if len(gpus) >= 2 else "one"
    if strategy == "one":
        return Placement("one", tf.distribute.get_strategy(), 1)
    devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
    mirrored = tf.distribute.MirroredStrategy(devices)
    return Placement("mirrored", mirrored, mirrored.num_replicas_in_sync)


def global_batch(batch_size: int | None, replicas: int) -> int:
    """The images of one step over all replicas: ``batch_size``, or 32 per replica."""
    return PER_REPLICA_BATCH * replicas if batch_size is None else batch_size


def scaled_rates(rates: tuple[float, float], replicas: int) -> tuple[float, float]:
    """The linear scaling rule: each rate times the number of replicas."""
    return rates[0] * replicas, rates[1] * replicas


def speaks_for_worker(placement: Placement, context: Any) -> bool:
    """Whether the replica of ``context`` is its worker's first: the one that adds the
    worker's own value to a sum over replicas (the others add zeros), so the sum counts each
    worker once. Each worker hosts as many replicas, numbered in a row."""
    local_replicas = len(placement.strategy.extended.worker_devices)
    return context.replica_id_in_sync_group % local_replicas == 0


def _sum_over_workers(placement: Placement, flat: np.ndarray) -> np.ndarray:
    """The sum over workers of each worker's float64 vector ``flat`` (one replica per worker
    contributes it, the others add zeros: integers up to 2**53 travel exactly)."""
    import tensorflow as tf

    nothing = np.zeros_like(flat)

    def share(context) -> Any:
        return tf.constant(flat if speaks_for_worker(placement, context) else nothing)

    with cluster_errors(placement, "the exchange of the chief's state"):
        values = placement.strategy.experimental_distribute_values_from_function(share)
        return placement.strategy.reduce(tf.distribute.ReduceOp.SUM, values, axis=None).numpy()


def from_chief(placement: Placement, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """The chief's values of ``arrays`` on every worker (each worker passes its own arrays of
    the same shapes; a single-process placement returns them as they are)."""
    if placement.worker is None:
        return arrays
    flat = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays] or [[]])
    total = _sum_over_workers(placement, flat if placement.is_chief else np.zeros_like(flat))
    out, start = [], 0
    for array in arrays:
        array = np.asarray(array)
        out.append(total[start : start + array.size].reshape(array.shape).astype(array.dtype))
        start += array.size
    return out


def agree(placement: Placement, problem: Exception | None) -> None:
    """Raise ``problem`` here, and an error on every other worker, when any worker has one:
    the others would otherwise wait for it at their next all-reduce for ever."""
    if placement.worker is None:
        if problem is not None:
            raise problem
        return
    failed = int(_sum_over_workers(placement, np.array([1.0 if problem else 0.0]))[0])
    if problem is not None:
        raise problem
    if failed:
        raise InputError(
            f"{failed} other worker(s) of the cluster stopped with an error (see their output); "
            "this worker stops too"
        )


def sync_from_chief(placement: Placement, variables: list[Any]) -> None:
    """Set ``variables`` on every worker to the chief's values (weights, optimizer state and
    random state, at the start of each phase)."""
    if placement.worker is None:
        return
    values = from_chief(placement, [np.asarray(v.numpy()) for v in variables])
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


@contextlib.contextmanager
def cluster_errors(placement: Placement, during: str) -> Iterator[None]:
    """Turn the error TensorFlow raises when a worker of the cluster dies or cannot be reached
    (a collective operation aborted) into a one-line ``TrainingError``."""
    if placement.worker is None:
        yield
        return
    import tensorflow as tf

    try:
        yield
    except (
        tf.errors.UnavailableError,
        tf.errors.InternalError,
        tf.errors.AbortedError,
        tf.errors.CancelledError,
        tf.errors.DeadlineExceededError,
    ) as error:
        reason = _reason(str(error.message))
        raise TrainingError(
            f"The cluster lost a worker during {during} ({reason}). The last checkpoint is "
            "kept: start every worker again with the same command to resume"
        ) from None


#: Words of the line of TensorFlow's (long) collective error that says what happened.
_REASONS = ("unhealthy", "reset by peer", "heartbeat", "unavailable", "aborted by", "timed out")


def _reason(message: str) -> str:
    """The telling line of a collective operation's error message."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    for line in lines:
        if any(word in line.lower() for word in _REASONS):
            return line[:200]
    return (lines[-1] if lines else "no message")[:200]
