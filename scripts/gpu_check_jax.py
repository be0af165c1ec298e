#!/usr/bin/env python3
"""GPU check for a machine without TensorFlow: Keras 3 on its JAX backend, beside PyTorch.

The GPU machines lent to this project (NVIDIA H200) hold JAX and PyTorch but no TensorFlow, and
TensorFlow with its CUDA 12 libraries (about 2.5 GB of wheels) cannot travel there. This script
measures what can: the forward pass of the same Keras architectures zoo builds (keras.applications
MobileNetV2 and ResNet50, random weights) compiled by JAX, in float32 and mixed bfloat16, against
torchvision's versions of the same architectures in PyTorch as the yardstick. It prints markdown
tables for docs/benchmarks.md.

    KERAS_BACKEND=jax python scripts/gpu_check_jax.py           # the full check (GPU machine)
    KERAS_BACKEND=jax python scripts/gpu_check_jax.py --quick   # tiny sizes: checks the script
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

FULL = {"models": ["MobileNetV2", "ResNet50"], "batch": 128, "repeats": 30}
QUICK = {"models": ["MobileNetV2"], "batch": 2, "repeats": 2}
TORCH_NAMES = {"MobileNetV2": "mobilenet_v2", "ResNet50": "resnet50"}


def keras_rate(name: str, policy: str, batch_size: int, repeats: int) -> float:
    """Images/s of a jitted forward pass of keras.applications ``name`` under ``policy``."""
    import jax
    import keras
    import numpy as np

    keras.config.set_dtype_policy(policy)
    try:
        model = getattr(keras.applications, name)(weights=None)
        x = jax.numpy.asarray(
            np.random.default_rng(0).uniform(-1, 1, (batch_size, 224, 224, 3)), "float32"
        )
        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]

        @jax.jit
        def forward(trainable, frozen, x):
            return model.stateless_call(trainable, frozen, x, training=False)[0]

        forward(trainable, frozen, x).block_until_ready()  # compile
        started = time.perf_counter()
        for _ in range(repeats):
            result = forward(trainable, frozen, x)
        result.block_until_ready()
        return batch_size * repeats / (time.perf_counter() - started)
    finally:
        keras.config.set_dtype_policy("float32")
        keras.backend.clear_session()


def torch_rate(name: str, bfloat16: bool, batch_size: int, repeats: int) -> float | None:
    """Images/s of torchvision's ``name`` (channels-last, eval, no grad), or None without CUDA."""
    import torch
    import torchvision

    if not torch.cuda.is_available():
        return None
    model = getattr(torchvision.models, TORCH_NAMES[name])().cuda().eval()
    model = model.to(memory_format=torch.channels_last)
    x = torch.randn(batch_size, 3, 224, 224, device="cuda").to(memory_format=torch.channels_last)
    with torch.no_grad(), torch.autocast("cuda", torch.bfloat16, enabled=bfloat16):
        for _ in range(3):
            model(x)
        torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(repeats):
            model(x)
        torch.cuda.synchronize()
    return batch_size * repeats / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, on any machine")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    import jax
    import keras

    try:
        gpu = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        gpu = "none"
    try:
        import tensorflow  # noqa: F401

        has_tf = "yes"
    except ImportError:
        has_tf = "no"
    print(
        f"GPU: {gpu} | JAX {jax.__version__} on {jax.devices()[0].platform} | "
        f"Keras {keras.__version__} ({keras.backend.backend()}) | TensorFlow installed: {has_tf}"
    )
    batch, repeats = settings["batch"], settings["repeats"]
    print()
    print(f"| architecture | engine | precision | images/s (batch {batch}) |")
    print("|---|---|---|---|")
    for name in settings["models"]:
        for policy in ("float32", "mixed_bfloat16"):
            rate = keras_rate(name, policy, batch, repeats)
            print(f"| {name} | Keras 3 on JAX (jit) | {policy} | {rate:.0f} |", flush=True)
        for bfloat16 in (False, True):
            try:
                rate = torch_rate(name, bfloat16, batch, repeats)
            except ImportError:
                rate = None
            if rate is not None:
                precision = "bfloat16 autocast" if bfloat16 else "float32"
                print(f"| {name} | PyTorch torchvision | {precision} | {rate:.0f} |", flush=True)


if __name__ == "__main__":
    main()
