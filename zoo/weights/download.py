"""HTTP downloads that resume, retry and report progress. No TensorFlow import.

``download(url, part_path)`` appends to ``part_path`` with an HTTP Range request when it already
holds the start of the file, retries network errors and 5xx answers with exponential backoff
(resuming each time), and fails at once, clearly, on other HTTP errors. Hash checks and the
atomic rename into place are the caller's job (``zoo.weights.cache``).

Example:
    >>> zoo.weights.download.download("http://127.0.0.1:8000/w.h5", Path("/tmp/w.h5.part"))
"""

from __future__ import annotations

import http.client
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from zoo.errors import ZooError

CHUNK_SIZE = 1 << 16
#: Seconds before the first retry; doubled for each further one.
RETRY_BACKOFF = 0.5
RETRIES = 4
USER_AGENT = "keras-zoo"


class DownloadError(ZooError):
    """A download that failed for good (after retries, or on an HTTP error that retrying
    cannot fix). ``retryable`` is True for network failures."""

    def __init__(self, message: str, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


class _Interrupted(Exception):
    """The connection ended before the promised bytes arrived; resume."""


def _progress_bar(total: int | None, initial: int, label: str, enabled: bool | None):
    if enabled is None:
        enabled = sys.stderr.isatty()
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        enabled = False
    if not enabled:
        return None
    return tqdm(
        total=total,
        initial=initial,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=label,
        leave=False,
        file=sys.stderr,
    )


def _fetch_once(url: str, part: Path, timeout: float, progress: bool | None) -> None:
    """One attempt: resume ``part`` from its current size, raise on any failure."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # our partial file is not a prefix we can extend
            part.unlink()
            raise _Interrupted("server refused the resume range; starting again") from None
        retryable = error.code >= 500 or error.code in (408, 429)
        raise DownloadError(f"HTTP {error.code} {error.reason} for {url}", retryable) from None
    with response:
        resumed = response.status == 206
        if have and not resumed:  # server ignored Range: start from scratch
            have = 0
        length = response.headers.get("Content-Length")
        expected_total = have + int(length) if length is not None else None
        bar = _progress_bar(expected_total, have, part.name.removesuffix(".part"), progress)
        received = have
        try:
            with open(part, "ab" if resumed else "wb") as handle:
                while True:
                    chunk = response.read(CHUNK_SIZE)
                    if not chunk:
                        break
                    handle.write(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
    if expected_total is not None and received < expected_total:
        raise _Interrupted(f"connection closed after {received} of {expected_total} bytes")


def download(
    url: str,
    part: Path,
    *,
    retries: int | None = None,
    backoff: float | None = None,
    timeout: float = 30.0,
    progress: bool | None = None,
) -> None:
    """Download ``url`` into ``part`` (resuming what is there), retrying with backoff.

    Raises:
        DownloadError: an HTTP error such as 404, or a network failure that outlived the
            retries (``retryable=True``).
    """
    retries = RETRIES if retries is None else retries
    backoff = RETRY_BACKOFF if backoff is None else backoff
    part.parent.mkdir(parents=True, exist_ok=True)
    last_problem = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            _fetch_once(url, part, timeout, progress)
            return
        except DownloadError as error:
            if not error.retryable:
                raise
            last_problem = str(error)
        except _Interrupted as error:
            last_problem = str(error)
        except (
            urllib.error.URLError,
            http.client.HTTPException,
            ConnectionError,
            TimeoutError,
        ) as error:
            reason = getattr(error, "reason", error)
            last_problem = f"{type(error).__name__}: {reason}"
    raise DownloadError(
        f"Could not download {url} after {retries + 1} attempts: {last_problem}", retryable=True
    )


def is_offline() -> bool:
    """True when ``ZOO_OFFLINE`` is set to a true value: never open a connection."""
    return os.environ.get("ZOO_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")
