"""Writing files without ever losing what was there: a temporary file, then a rename.

``os.replace`` is atomic on POSIX when both names are in one directory, so a reader (or
a concurrent writer) sees the old file or the new one, never a truncated mix, and a
write that fails (a full disk, an encoding error, a signal) leaves the old file whole.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; raises OSError on failure, leaving
    any existing file unchanged and no temporary file behind. ``mode``: the file's
    permissions (default: as the umask allows, like any file the user creates)."""
    data = text.encode("utf-8")  # before anything touches the disk: a bad string fails here
    directory = path.parent
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp creates 0600; a ticket draft is the user's file like any other.
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        with contextlib.suppress(OSError):
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
