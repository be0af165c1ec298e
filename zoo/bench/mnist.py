"""``zoo bench --model NAME`` for an MNIST model: its inference throughput against the deck's
convnet, side by side in one run, on each installed runtime.

Both models classify the same in-memory MNIST-sized digits (random pixels: throughput does not
depend on them) in batches of ``batch_size``, alternated rounds, best of ``rounds``.

Example:
    $ zoo bench --model mnist_committee
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from zoo import registry

BASELINE = "mnist_convnet"


def _rate(runner, batch: np.ndarray, repeats: int = 5) -> float:
    runner.run(batch)
    started = time.perf_counter()
    for _ in range(repeats):
        runner.run(batch)
    return len(batch) * repeats / (time.perf_counter() - started)


def mnist_bench(
    model: str, batch_size: int = 256, rounds: int = 3, weights: Any = "default"
) -> str:
    """Markdown table: images/s of ``model`` and of ``mnist_convnet`` per runtime, and the
    ratio."""
    from zoo.engines.engine import installed
    from zoo.engines.runtimes import get_runner
    from zoo.models import load

    names = [model, BASELINE] if model != BASELINE else [model]
    batch = np.random.default_rng(0).uniform(0, 255, (batch_size, 28, 28, 1)).astype("float32")
    best: dict[tuple[str, str], float] = {}
    runners = {}
    for runtime in installed():
        for name in names:
            spec = registry.get_spec(name)
            runners[name, runtime] = get_runner(
                spec, runtime=runtime, weights=weights,
                model_factory=lambda spec=spec: load(spec, weights=weights),
            )  # fmt: skip
    for _ in range(rounds):  # alternated, best of rounds: the machine is noisy
        for key, runner in runners.items():
            best[key] = max(best.get(key, 0.0), _rate(runner, batch))
    lines = [
        f"MNIST digits in batches of {batch_size}, {os.cpu_count()} CPU cores; images/s, best of "
        f"{rounds} alternated rounds.",
        "",
        "| runtime | "
        + " | ".join(f"`{name}`" for name in names)
        + (f" | `{model}` / `{BASELINE}` |" if len(names) > 1 else " |"),
        "|---" * (len(names) + 1 + (len(names) > 1)) + "|",
    ]
    for runtime in installed():
        cells = [f"{best[name, runtime]:.0f}" for name in names]
        if len(names) > 1:
            cells.append(f"{best[model, runtime] / best[BASELINE, runtime]:.2f}")
        lines.append(f"| {runtime} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
