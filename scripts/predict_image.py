#!/usr/bin/env python3
"""Classify image files: a thin wrapper over `zoo predict`.

python scripts/predict_image.py zoo/data/samples/digit_7.png --model mnist_convnet --top 3
"""

import sys

from zoo.cli import main

sys.exit(main(["predict", *sys.argv[1:]]))
