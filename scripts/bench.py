#!/usr/bin/env python3
"""Throughput benchmark, a thin wrapper over `zoo bench`.

python scripts/bench.py --model mobilenet_v2_1.0_224 --weights none --images 512
"""

import sys

from zoo.cli import main

sys.exit(main(["bench", *sys.argv[1:]]))
