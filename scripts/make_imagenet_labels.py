#!/usr/bin/env python3
"""Developer tool: write zoo/data/imagenet_class_index.json from keras-hub's ImageNet utilities.

keras-hub (on PyPI) holds the 1000 ImageNet-1k WordNet ids and names in Keras' class order.
The file is written in Keras' `imagenet_class_index.json` layout, `json.dumps` of
{"0": ["n01440764", "tench"], ...}, whose md5 Keras pins (c2c37ea517e94d9795004a39431a14cb).

    pip install keras-hub && python scripts/make_imagenet_labels.py
"""

import hashlib
import json
import sys
from pathlib import Path

from keras_hub.src.utils.imagenet.imagenet_utils import IMAGENET_NAMES

KERAS_MD5 = "c2c37ea517e94d9795004a39431a14cb"

text = json.dumps(
    {str(index): [wnid, name] for index, (wnid, name) in sorted(IMAGENET_NAMES.items())}
)
digest = hashlib.md5(text.encode()).hexdigest()
if digest != KERAS_MD5:
    sys.exit(f"md5 {digest} differs from Keras' {KERAS_MD5}: keras-hub's table changed")
out = Path(__file__).resolve().parents[1] / "zoo" / "data" / "imagenet_class_index.json"
out.write_text(text)
print(f"wrote {out} (md5 {digest})")
