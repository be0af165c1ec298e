"""``zoo.export``: a model as an artefact that loads without zoo (this package is not named
``export``: ``zoo.export`` is the public function).

- ``artefact``: ``zoo.export`` itself: samples and calibration images, the parity report, the
  artefact moved into place whole.
- ``formats``: writing each of the four formats, and loading an artefact to run it.
- ``digit_graph``: the MNIST digit recipe as TensorFlow ops (the ``serving_bytes`` signature).
- ``golden``: golden self-checks: a model's or an artefact's output on a reference input
  against the recorded one (``zoo verify NAME``, ``zoo verify --artefact``).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """``export`` (``zoo.export`` itself), imported on first use, as zoo 0.1's
    ``from zoo.exporting import export`` found it."""
    if name == "export":
        from zoo.exporting.artefact import export

        return export
    raise AttributeError(f"module 'zoo.exporting' has no attribute {name!r}")
