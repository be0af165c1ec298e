"""sha256 and md5 of files: a leaf utility every other module may use. No TensorFlow import.

A file is read once per process while it is unchanged, however many checks a run makes (the
runtime's cache key, then the load).

Example:
    >>> zoo.hashing.sha256_file("zoo/data/weights/mlp_625.weights.h5")[:12]
    '0854fb04bea2'
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

#: (path, device, inode, size, mtime_ns, ctime_ns) -> hashes. Any later write changes the key:
#: the modification time, or, when a writer sets that back (``os.utime``, ``touch -d``), the
#: inode's change time, which no user can set. As in git's "racy clean" rule, a file changed in
#: the last RACY_SECONDS is not remembered, since timestamps are coarser than a quick rewrite.
_HASHED: dict[tuple, dict[str, str]] = {}
RACY_SECONDS = 2.0
CHUNK_BYTES = 1 << 20


def file_hashes(path: str | Path) -> dict[str, str]:
    """``{"sha256": ..., "md5": ...}`` of a file, in one pass; remembered in this process while
    the file is unchanged (same inode, size, modification and change times)."""
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    if key in _HASHED:
        return dict(_HASHED[key])
    sha256, md5 = hashlib.sha256(), hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            sha256.update(chunk)
            md5.update(chunk)
    hashes = {"sha256": sha256.hexdigest(), "md5": md5.hexdigest()}
    if time.time() - max(stat.st_mtime, stat.st_ctime) > RACY_SECONDS:
        _HASHED[key] = hashes
    return dict(hashes)


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file (see ``file_hashes``)."""
    return file_hashes(path)["sha256"]
