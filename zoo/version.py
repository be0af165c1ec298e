"""The package version: a leaf module, so that any module may stamp outputs with it."""

__version__ = "0.1.0"
