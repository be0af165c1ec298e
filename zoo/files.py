"""Safe file writes shared by the caches: an inter-process lock and atomic replacement.
No TensorFlow import.

Example:
    >>> with zoo.files.file_lock(folder / "choices.json.lock"):
    ...     zoo.files.atomic_write(folder / "choices.json", '{"a": 1}')
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

from zoo.errors import WriteError


class LockedError(OSError):
    """Another process holds the lock (``file_lock(..., wait=False)``)."""


#: errno values that mean "the disk cannot take this write": full, over quota, too large for
#: the file-size limit, or failing.
WRITE_FAILURES = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)
_WRITE_FAILURE_WORDS = ("No space left on device", "Disk quota exceeded", "File too large",
                        "Input/output error", "errno = 28", "errno = 27", "errno = 5")  # fmt: skip
#: How NumPy reports a short write (no errno): "250000 requested and 130016 written".
_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")


def is_write_failure(error: BaseException) -> bool:
    """True for an error that says the disk could not take a write (``WRITE_FAILURES``), from
    the OS or from a library that only reports it in its message (HDF5)."""
    if isinstance(error, OSError) and error.errno in WRITE_FAILURES:
        return True
    text = str(error)
    return any(word in text for word in _WRITE_FAILURE_WORDS) or bool(_SHORT_WRITE.search(text))


def write_error(path: Path | str, error: BaseException, kept: str) -> WriteError:
    """The one-line ``WriteError`` for a failed write of ``path``: why, and what is ``kept``."""
    reason = os.strerror(error.errno) if getattr(error, "errno", None) else _reason(error)
    if isinstance(error, OSError) and error.strerror and error.strerror != os.strerror(error.errno):
        reason += f" ({error.strerror})"  # what zoo measured when it refused before writing
    return WriteError(f"Could not write {path}: {reason}. {kept}")


def _reason(error: BaseException) -> str:
    text = str(error)
    for word in _WRITE_FAILURE_WORDS[:4]:
        if word in text:
            return word
    if short := _SHORT_WRITE.search(text):  # NumPy says no more; the disk is full (or failing)
        return f"No space left on device ({short.group(0)})"
    return f"{type(error).__name__}: {text.splitlines()[0][:200] if text else ''}"


def _what_is_kept(path: Path) -> str:
    kept = "The previous file is kept, whole" if path.exists() else "Nothing was left in its place"
    return f"{kept}; free some space and run the same command again"


def fsync_path(path: Path | str) -> None:
    """Flush ``path`` (a file or a folder) to the disk, so that a rename after it, or a count
    that vouches for it, never outlives its content."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def durable_replace(temp: Path | str, path: Path | str) -> None:
    """``os.replace(temp, path)`` with ``temp`` on the disk first and the rename after it."""
    fsync_path(temp)
    os.replace(temp, path)
    fsync_path(Path(path).parent)


@contextlib.contextmanager
def file_lock(path: Path, wait: bool = True) -> Iterator[None]:
    """An exclusive lock between processes on ``path`` (created if missing; a no-op where
    ``fcntl`` does not exist). ``wait=False``: raise ``LockedError`` at once instead of waiting
    while another process holds it, for work that must not run twice at the same time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        with _locked(handle.fileno(), wait, path):
            yield


@contextlib.contextmanager
def folder_lock(folder: Path, wait: bool = True) -> Iterator[None]:
    """``file_lock`` on the folder itself, which leaves no lock file beside the user's own
    (e.g. while an export moves its artefact and side files into the user's folder).

    Example:
        >>> with folder_lock(out.parent):
        ...     os.replace(staged, out)
    """
    handle = os.open(folder, os.O_RDONLY)
    try:
        with _locked(handle, wait, folder):
            yield
    finally:
        os.close(handle)


@contextlib.contextmanager
def _locked(handle: int, wait: bool, what: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        raise LockedError(f"{what} is locked by another process") from None
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (one of another user's counts too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def utc_now() -> str:
    """The current UTC time as ISO 8601 to the second, as zoo's files record dates."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def new_temp_file(folder: Path, prefix: str, suffix: str = ".tmp") -> tuple[int, str]:
    """A new file in ``folder`` with a unique name, opened for writing: its descriptor and its
    path. Unlike ``tempfile.mkstemp`` (mode 0600) it gets the permissions of any file the user
    creates (0666 less the umask), so what it becomes by a rename is readable as theirs is.

    Example:
        >>> handle, temp = new_temp_file(Path("."), "labels.txt.")
    """
    for _ in range(100):
        temp = os.path.join(folder, f"{prefix}{secrets.token_hex(6)}{suffix}")
        try:
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), temp
        except FileExistsError:
            continue
    raise FileExistsError(f"No free temporary name in {folder} after 100 tries")


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and an atomic
    rename: a reader sees the old file or the new one, never a partial one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = new_temp_file(path.parent, path.name + ".")
    try:
        with os.fdopen(handle, "wb" if isinstance(data, bytes) else "w") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        durable_replace(temp, path)
    except OSError as error:
        if not is_write_failure(error):
            raise
        raise write_error(path, error, _what_is_kept(path)) from None
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffixes, for writers that check them) to write
    into; it replaces ``path`` atomically when the block ends without an error, and is removed
    otherwise. A kill during the write leaves the previous ``path`` whole.

    Example:
        >>> with atomic_path(run / "model.keras") as temp:
        ...     model.save(temp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix="".join(path.suffixes)
    )
    os.close(handle)
    temp = Path(name)
    temp.unlink()  # writers such as h5py and Keras create the file themselves
    try:
        yield temp
        durable_replace(temp, path)
    except (OSError, RuntimeError) as error:  # h5py and Keras report a full disk as either
        if not is_write_failure(error):
            raise
        raise write_error(path, error, _what_is_kept(path)) from None
    finally:
        if temp.exists():
            temp.unlink()


def check_writable_folder(folder: Path, what: str) -> None:
    """Create ``folder`` if needed and check a file can be written in it; an ``InputError``
    naming ``what`` (e.g. "the run directory") otherwise, before any work is done."""
    import tempfile

    from zoo.errors import InputError

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise InputError(f"Cannot write {what} {folder}: {error.strerror}") from None
