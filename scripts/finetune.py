#!/usr/bin/env python3
"""Fine-tune a model on a folder of labelled images: a thin wrapper over `zoo finetune`.

python scripts/finetune.py photos/train --model mobilenet_v2_1.0_224 --out runs/flowers
"""

import sys

from zoo.cli import main

sys.exit(main(["finetune", *sys.argv[1:]]))
