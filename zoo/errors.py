"""Errors raised by keras-zoo.

Every error a user can cause derives from :class:`ZooError`, so the CLI can print it as one line
instead of a traceback. Each message says what was received and what is valid.
"""

from __future__ import annotations


class ZooError(Exception):
    """Base class of the errors a user can cause (bad name, bad file, bad input)."""


class UnknownModelError(ZooError, ValueError):
    """A model name that is not in the registry."""


class WeightsError(ZooError):
    """Weights that cannot be found, read or trusted."""


class WeightsHashError(WeightsError):
    """A weights file whose sha256 differs from the pinned one; nothing was loaded."""


class InputError(ZooError, ValueError):
    """Input data (an array or an image file) that a model cannot take."""


class DataError(ZooError):
    """A data set (e.g. MNIST) that cannot be found or read."""


class TrainingError(ZooError):
    """Training that cannot go on (a loss that became NaN or infinite); the last good
    checkpoint is kept."""


class WriteError(ZooError, OSError):
    """A file zoo writes could not be written durably (a full disk, a quota, an I/O error);
    what was written before it is kept whole, and the same command run again once there is
    space goes on from there."""


class ZooWarning(UserWarning):
    """Something a user should know that does not stop the work (e.g. an unchecked int8
    model); the CLI prints it as one ``zoo: warning:`` line."""


class Preempted(ZooError):
    """Training stopped on a preemption signal (SIGTERM) after saving an aligned checkpoint;
    the same command run again resumes from it."""


class PipelineError(ZooError):
    """A Beam pipeline (``--engine beam``) that failed; the shards it wrote are kept, and the
    same command run again goes on from them."""
