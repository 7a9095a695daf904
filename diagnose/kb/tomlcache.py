"""Parsed TOML, cached by file identity.

tomllib is pure Python: parsing the shipped knowledge base takes about 7 ms of the
50 ms a scripted consultation may add to start-up (README.md, "Performance"). The parsed tables
of each file are kept in marshal format under ``$DIAGNOSE_CACHE_DIR`` (default
``$XDG_CACHE_HOME/diagnose``, else ``~/.cache/diagnose``), keyed by the file's absolute
path, size and modification time in nanoseconds, as Python keys its own bytecode cache.
marshal holds plain data only, so reading a cache file runs no code (pickle would).
Any trouble with the cache (unwritable, corrupt, a value marshal cannot hold) falls
back to parsing: the cache can make loading faster, never different.
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib
from pathlib import Path
from typing import Any

_FORMAT = f"1-{sys.version_info[0]}.{sys.version_info[1]}-{marshal.version}"


def cache_dir() -> Path:
    if os.environ.get("DIAGNOSE_CACHE_DIR"):
        return Path(os.environ["DIAGNOSE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "diagnose"


def read_toml(path: Path) -> dict[str, Any]:
    """``tomllib.loads`` of the file, from the cache when the file has not changed.

    Raises what reading and parsing raise: OSError, UnicodeDecodeError,
    tomllib.TOMLDecodeError.
    """
    stat = path.stat()
    where = str(path.resolve())
    key = f"{_FORMAT}\0{where}\0{stat.st_size}\0{stat.st_mtime_ns}"
    # One entry per file, named by a checksum of its path; the entry holds the whole key,
    # so a checksum collision or a changed file is a miss, never someone else's data.
    # (zlib is built in; hashlib would cost more to import than the cache saves.)
    entry = cache_dir() / "toml" / f"{zlib.crc32(where.encode()):08x}.marshal"
    try:
        stored_key, data = marshal.loads(entry.read_bytes())
        if stored_key == key and isinstance(data, dict):
            return data
    except (OSError, EOFError, ValueError, TypeError):
        pass
    import tomllib

    data = tomllib.loads(path.read_text(encoding="utf-8"))
    try:
        blob = marshal.dumps((key, data))
        entry.parent.mkdir(parents=True, exist_ok=True)
        partial = entry.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(blob)
        os.replace(partial, entry)  # atomic: a reader sees the old entry or the new one
    except (OSError, ValueError):
        pass  # not cacheable (a date, say) or nowhere to write: parsing is enough
    return data
