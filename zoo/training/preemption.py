"""SIGTERM as a request to stop at the next step boundary, not a kill: what cluster managers
send before they take a machine back. Training checks ``requested`` after each step, saves one
checkpoint (every worker at the same step) and stops with :class:`zoo.errors.Preempted`.

Example:
    >>> with PreemptionWatch() as watch:
    ...     for batch in batches:
    ...         train(batch)
    ...         if watch.requested():
    ...             save_checkpoint(...); raise Preempted(...)
"""

from __future__ import annotations

import signal
import threading
from typing import Any


class PreemptionWatch:
    """While inside, SIGTERM sets a flag (the main thread only: elsewhere signals cannot be
    caught, and the watch never reports a request). The previous handler comes back on exit."""

    def __init__(self) -> None:
        self._requested = False
        self._previous: Any = None
        self._installed = False

    def requested(self) -> bool:
        """Whether SIGTERM arrived since the watch started."""
        return self._requested

    def _handle(self, _signum: int, _frame: Any) -> None:
        self._requested = True

    def __enter__(self) -> PreemptionWatch:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
            self._installed = True
        return self

    def __exit__(self, *_exc: Any) -> None:
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)
            self._installed = False
