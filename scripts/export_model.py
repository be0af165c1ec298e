#!/usr/bin/env python3
"""Export a model or a fine-tuning run directory, checked: a thin wrapper over `zoo export`.

python scripts/export_model.py mnist_convnet --format litert --out convnet.tflite
"""

import sys

from zoo.cli import main

sys.exit(main(["export", *sys.argv[1:]]))
