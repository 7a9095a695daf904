"""Parsed TOML, cached by the file's content.

tomllib is pure Python: parsing the shipped knowledge base takes about 7 ms of the 50 ms
a scripted consultation may add to start-up, and a knowledge base of 10,000 rules about
a second (README.md, "Performance"). The parsed tables of each file are kept in marshal
format under ``$DIAGNOSE_CACHE_DIR`` (default ``$XDG_CACHE_HOME/diagnose``, else
``~/.cache/diagnose``). marshal holds plain data only, so reading an entry runs no code
(pickle would).

What makes the cache safe to trust (issue 9):

- The key is a BLAKE2b digest of the file's bytes, which are read every time (reading
  is cheap; parsing is what costs). An edit that keeps the size and the modification
  time, as ``cp -p`` or ``tar x`` leave them, changes the digest: never stale data.
- An entry is used only when it is the current user's file in the current user's
  directory, neither writable by anyone else: another user cannot plant one.
- An entry carries a digest of its own data, checked before the data is unmarshalled,
  and the data must be what TOML can hold (tables, arrays, text, numbers, booleans):
  a damaged or hand-made entry is parsed again, never served.

Anything wrong with the cache (unwritable, corrupt, a value marshal cannot hold) falls
back to parsing: the cache can make loading faster, never different. (Someone who can
write the user's own files can change the knowledge base itself; the cache adds no way
in that the files did not have.)
"""

from __future__ import annotations

import contextlib
import marshal
import os
import stat
import sys
import zlib
from pathlib import Path
from typing import Any

from diagnose.fileio import (
    MAX_DEPTH,
    InputFileError,
    malformed_reason,
    read_bounded_bytes,
    too_deep,
)
from diagnose.i18n import _

_FORMAT = f"2-{sys.version_info[0]}.{sys.version_info[1]}-{marshal.version}"

#: A knowledge-base file larger than this is refused unread (README.md, "Limits"); a
#: generated knowledge base of 10,000 rules is about 2 MiB in all.
MAX_BYTES = 16 << 20

_PLAIN_TYPES = frozenset({str, int, float, bool})


class TomlError(ValueError):
    """The file is not TOML diagnose can read (the message says why)."""


def cache_dir() -> Path:
    if os.environ.get("DIAGNOSE_CACHE_DIR"):
        return Path(os.environ["DIAGNOSE_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "diagnose"
    try:
        return Path.home() / ".cache" / "diagnose"
    except (RuntimeError, KeyError):  # no home directory: a cache nowhere, never an error
        return Path("/nonexistent/diagnose-cache")


def _digest(data: bytes) -> bytes:
    # _blake2 is built in and imports in about 0.5 ms; hashlib (OpenSSL) costs 5 ms.
    from _blake2 import blake2b

    return blake2b(data, digest_size=20).digest()


def read_toml(path: Path) -> dict[str, Any]:
    """``tomllib.loads`` of the file, from the cache when its content was parsed before.

    Raises OSError (unreadable), InputFileError (a FIFO, a device, too large) and
    TomlError (not UTF-8, not TOML, nested too deep).
    """
    raw = read_bounded_bytes(path, MAX_BYTES)
    key = _FORMAT.encode() + b"\0" + _digest(raw)
    # One entry per file, named by a checksum of its path (so an edited file replaces
    # its entry instead of adding one); the entry holds the content's digest.
    where = str(path.resolve())
    entry = cache_dir() / "toml" / f"{zlib.crc32(where.encode()):08x}.marshal"
    cached = _from_cache(entry, key)
    if cached is not None:
        return cached
    data = _parse(raw)
    _store(entry, key, data)
    return data


def _parse(raw: bytes) -> dict[str, Any]:
    import tomllib

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TomlError(_("it is not UTF-8 text")) from None
    try:
        data = tomllib.loads(text)
    except (RecursionError, ValueError) as error:  # TOMLDecodeError, or 5,000 digits
        raise TomlError(malformed_reason(error)) from None
    if too_deep(data):
        raise TomlError(_("it nests deeper than {n} levels").format(n=MAX_DEPTH))
    return data


def _private(info: os.stat_result) -> bool:
    """Whether a cache file or directory is the current user's alone to change."""
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _from_cache(entry: Path, key: bytes) -> dict[str, Any] | None:
    try:
        blob = read_bounded_bytes(entry, MAX_BYTES * 4)
        if not (_private(os.stat(entry.parent)) and _private(os.stat(entry))):
            return None
        stored_key, checksum, payload = marshal.loads(blob)
        if stored_key != key or checksum != _digest(payload):
            return None
        data = marshal.loads(payload)
    except (OSError, InputFileError, EOFError, ValueError, TypeError):
        return None
    return data if isinstance(data, dict) and _plain(data) else None


def _plain(data: dict[str, Any]) -> bool:
    """Whether ``data`` holds only what TOML parses to (no code objects, no bytes, no
    sets), nested no deeper than any input may be. Exact types, one level at a time:
    this runs on every cached load, so it is kept to a few operations per value."""
    level: list[Any] = [data]
    for _level in range(MAX_DEPTH + 1):
        below: list[Any] = []
        for item in level:
            kind = type(item)
            if kind is dict:
                if not all(type(name) is str for name in item):
                    return False
                below += item.values()
            elif kind is list:
                below += item
            elif kind not in _PLAIN_TYPES:
                return False
        if not below:
            return True
        level = below
    return False  # deeper than any input may nest


def _store(entry: Path, key: bytes, data: dict[str, Any]) -> None:
    try:
        payload = marshal.dumps(data)
        blob = marshal.dumps((key, _digest(payload), payload))
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = entry.with_suffix(f".{os.getpid()}.tmp")
    except (OSError, ValueError):
        return  # not cacheable (a date, say) or nowhere to write: parsing is enough
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(blob)
        os.replace(partial, entry)  # atomic: a reader sees the old entry or the new one
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(partial)
