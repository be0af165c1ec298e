#!/usr/bin/env python3
"""Record the golden outputs that ship in zoo/data/golden.json: every classic model with
shipped or builtin weights, and MobileNet v1 0.25 @128 from ../shared/weights/imagenet.

    python scripts/make_golden.py ../shared/weights/imagenet zoo/data/golden.json
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

IMAGENET = ["mobilenet_v1_0.25_128"]


def main(weights_folder: Path, out: Path) -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["KERAS_HOME"] = home  # a cache holding only the shared, verified files
        (Path(home) / "models").mkdir()
        for file in weights_folder.glob("*.h5"):
            shutil.copy(file, Path(home) / "models" / file.name)
        import zoo
        from zoo.exporting.golden import record, user_file

        names = [
            name
            for name in zoo.list_models(pretrained=True)
            if zoo.get_spec(name).dataset != "imagenet"
        ] + IMAGENET
        for name in names:
            print(name, record(name)["top5"], flush=True)
        records = json.loads(user_file().read_text())
    out.write_text(json.dumps(records, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
