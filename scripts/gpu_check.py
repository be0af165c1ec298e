#!/usr/bin/env python3
"""GPU check, for a machine with an NVIDIA GPU (H100/H200 class); at most ~5 minutes.

Prints TensorFlow's devices; MobileNetV2 and ResNet50 pure-forward images/s (random weights,
batch 64) in float32 and mixed float16, each with and without XLA; and `zoo features` end to
end on 512 generated JPEGs. Paste what it prints into docs/benchmarks.md.

    python scripts/gpu_check.py
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BATCH = 64
REPEATS = 20


def forward_rate(name: str, precision: str, xla: bool) -> float:
    import keras
    import tensorflow as tf

    from zoo.models import load

    keras.mixed_precision.set_global_policy("mixed_float16" if precision == "mixed" else "float32")
    try:
        model = load(name, weights=None)
        size = model.inputs[0].shape[1]
        batch = tf.constant(np.random.default_rng(0).uniform(0, 255, (BATCH, size, size, 3)),
                            tf.float32)
        call = tf.function(lambda x: model(x, training=False), jit_compile=xla)
        call(batch).numpy()  # compile / warm up
        started = time.perf_counter()
        for _ in range(REPEATS):
            result = call(batch)
        result.numpy()
        return BATCH * REPEATS / (time.perf_counter() - started)
    finally:
        keras.mixed_precision.set_global_policy("float32")
        keras.backend.clear_session()


def main() -> None:
    import tensorflow as tf

    from zoo.bench import make_jpegs
    from zoo.features import extract_features

    print("TensorFlow", tf.__version__)
    for device in tf.config.list_physical_devices():
        print("device:", device.name, device.device_type)
    print()
    print("| model | precision | XLA | images/s (batch 64) |")
    print("|---|---|---|---|")
    for name in ("mobilenet_v2_1.0_224", "resnet50"):
        for precision in ("float32", "mixed"):
            for xla in (False, True):
                rate = forward_rate(name, precision, xla)
                print(f"| {name} | {precision} | {'yes' if xla else 'no'} | {rate:.0f} |",
                      flush=True)
    with tempfile.TemporaryDirectory() as folder:
        make_jpegs(Path(folder), 512)
        for runtime in ("tf",):
            extract_features("mobilenet_v2_1.0_224", folder, weights=None, runtime=runtime,
                             batch_size=BATCH, progress=False)  # warm up
            started = time.perf_counter()
            extract_features("mobilenet_v2_1.0_224", folder, weights=None, runtime=runtime,
                             batch_size=BATCH, progress=False)
            rate = 512 / (time.perf_counter() - started)
            print(f"\nzoo features end to end, 512 JPEGs, mobilenet_v2_1.0_224, {runtime}: "
                  f"{rate:.0f} images/s")


if __name__ == "__main__":
    main()
