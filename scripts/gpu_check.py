#!/usr/bin/env python3
"""GPU check, for a machine with an NVIDIA GPU (H100/H200 class); at most ~5 minutes.

Prints TensorFlow's devices; MobileNetV2 and ResNet50 pure-forward images/s (random weights,
batch 64) in float32 and mixed float16, each with and without XLA; and `zoo features` end to
end on 512 generated JPEGs on the TF runtime as zoo runs it on that machine (mixed precision and
XLA on a GPU) and in float32. Paste what it prints into docs/benchmarks.md.

    python scripts/gpu_check.py            # the full check (GPU machine)
    python scripts/gpu_check.py --quick    # a tiny model and sizes: checks the script anywhere
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FULL = {"models": ["mobilenet_v2_1.0_224", "resnet50"], "batch": 64, "repeats": 20, "images": 512}
QUICK = {"models": ["mobilenet_v1_0.25_128"], "batch": 4, "repeats": 2, "images": 16}


def forward_rate(name: str, policy: str, xla: bool, batch_size: int, repeats: int) -> float:
    """Images/s of a compiled forward pass of ``name`` built under the dtype ``policy``."""
    import keras
    import tensorflow as tf

    from zoo.backend import dtype_policy
    from zoo.models import load

    try:
        with dtype_policy(policy):
            model = load(name, weights=None)
        shape = tuple(model.inputs[0].shape[1:])
        batch = tf.constant(
            np.random.default_rng(0).uniform(0, 255, (batch_size, *shape)), tf.float32
        )
        call = tf.function(lambda x: model(x, training=False), jit_compile=xla)
        call(batch).numpy()  # compile / warm up
        started = time.perf_counter()
        for _ in range(repeats):
            result = call(batch)
        result.numpy()
        return batch_size * repeats / (time.perf_counter() - started)
    finally:
        keras.backend.clear_session()


def features_rate(model: str, folder: str, count: int, batch_size: int) -> tuple[float, str]:
    """Images/s of ``zoo.extract_features`` on the TF runtime, and how that runtime ran."""
    from zoo.inference.features import extract_features

    extract_features(
        model, folder, weights=None, runtime="tf", batch_size=batch_size, progress=False
    )  # warm up: build, compile
    started = time.perf_counter()
    result = extract_features(
        model, folder, weights=None, runtime="tf", batch_size=batch_size, progress=False
    )
    return count / (time.perf_counter() - started), result.runtime


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny model and sizes, to check the script on any machine",
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL

    from zoo.backend import quiet_tensorflow

    quiet_tensorflow()
    import tensorflow as tf

    from zoo.bench.runtimes import make_jpegs

    print("TensorFlow", tf.__version__, "| CPU cores:", os.cpu_count())
    gpus = tf.config.list_physical_devices("GPU")
    for device in tf.config.list_physical_devices():
        print("device:", device.name, device.device_type)
    for gpu in gpus:
        details = tf.config.experimental.get_device_details(gpu)
        print(
            "GPU:",
            details.get("device_name"),
            "compute capability",
            details.get("compute_capability"),
        )
    if not gpus:
        print("no GPU: the figures below are CPU figures")
    batch, repeats = settings["batch"], settings["repeats"]
    print()
    print(f"| model | precision | XLA | images/s (batch {batch}) |")
    print("|---|---|---|---|")
    for name in settings["models"]:
        for policy in ("float32", "mixed_float16"):
            for xla in (False, True):
                rate = forward_rate(name, policy, xla, batch, repeats)
                print(f"| {name} | {policy} | {'yes' if xla else 'no'} | {rate:.0f} |", flush=True)
    model = settings["models"][0]
    count = settings["images"]
    print()
    print(f"| zoo features, tf runtime, {count} JPEGs, {model} | images/s |")
    print("|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        make_jpegs(Path(folder), count)
        for precision in ("auto", "float32"):
            os.environ["ZOO_PRECISION"] = precision
            rate, how = features_rate(model, folder, count, batch)
            print(f"| ZOO_PRECISION={precision}: {how} | {rate:.0f} |", flush=True)
        os.environ.pop("ZOO_PRECISION")
    finetune_check(model, count)


def finetune_check(model: str, count: int) -> None:
    """A short zoo.fine_tune on random pixels under each precision (``ZOO_PRECISION`` auto:
    mixed float16 on a GPU; float32) and strategy (one device; mirrored: every GPU): the
    policy it ran under, the dtype of its probabilities (float32 under mixed precision too)
    and its phase-2 images/s."""
    import zoo
    from zoo import run_dir
    from zoo.training.finetune import fine_tune

    rng = np.random.default_rng(0)
    shape = zoo.get_spec(model).input_shape
    x = rng.integers(0, 256, (count, *shape), dtype=np.uint8)
    y = np.arange(count) % 2
    print()
    print(f"| zoo.fine_tune, {count} images, {model} | replicas | layer policies | "
          "head dtype | phase-2 images/s |")  # fmt: skip
    print("|---|---|---|---|---|")
    for precision in ("auto", "float32"):
        os.environ["ZOO_PRECISION"] = precision
        for strategy in ("one", "mirrored"):
            with tempfile.TemporaryDirectory() as folder:
                run = fine_tune(
                    model, (x, y), Path(folder) / "run", weights=None, head_epochs=1, epochs=2,
                    validation=None, augment="none", progress=False, strategy=strategy,
                )  # fmt: skip
                dtype = run.model.get_layer("predictions").compute_dtype
                policies = sorted({layer.dtype_policy.name for layer in run.model.layers})
                replicas = run_dir.read_run(run.directory)["distribution"]["replicas"]
                rate = run.history[-1]["images_per_s"]
            print(
                f"| ZOO_PRECISION={precision}, strategy {strategy} | {replicas} | "
                f"{', '.join(policies)} | {dtype} | {rate:.0f} |",
                flush=True,
            )
            assert dtype == "float32", dtype
    os.environ.pop("ZOO_PRECISION")


if __name__ == "__main__":
    main()
