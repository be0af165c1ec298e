#!/usr/bin/env python3
"""Retrain the classic models' weights: a thin wrapper over `zoo classics train`.

python scripts/train_classics.py mnist_convnet --data ../shared/data/mnist/mnist.npz --out runs/
"""

import sys

from zoo.cli import main

sys.exit(main(["classics", "train", *sys.argv[1:]]))
