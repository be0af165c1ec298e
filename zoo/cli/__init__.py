"""The ``zoo`` command: one module per command group, each adding its own sub-parsers
(``zoo.cli.app`` puts them together). ``zoo --help``, ``zoo list`` and ``zoo info`` import
neither TensorFlow nor Beam.

Example:
    >>> from zoo.cli import main
    >>> main(["list", "mnist_*"])
    0
"""

from zoo.cli.app import main

__all__ = ["main"]
