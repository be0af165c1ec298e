#!/usr/bin/env python3
"""Extract features of a folder of images: a thin wrapper over `zoo features`.

python scripts/extract_features.py photos/ --model mobilenet_v2_1.0_224 --out feats.h5
"""

import sys

from zoo.cli import main

sys.exit(main(["features", *sys.argv[1:]]))
