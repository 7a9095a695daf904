"""Writing files without ever losing what was there: a temporary file, then a rename.

``os.replace`` is atomic on POSIX when both names are in one directory, so a reader (or
a concurrent writer) sees the old file or the new one, never a truncated mix, and a
write that fails (a full disk, an encoding error, a signal) leaves the old file whole.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
from pathlib import Path

from diagnose.i18n import N_, _


def write_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; raises OSError on failure, leaving
    any existing file unchanged and no temporary file behind. ``mode``: the file's
    permissions (default: as the umask allows, like any file the user creates)."""
    import tempfile  # here: reading the knowledge base imports this module, and writes nothing

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


#: How deep the data of any input file (answers, sessions, knowledge bases) may nest.
#: A knowledge base nests 6 levels (table, array of rules, rule, conditions, condition,
#: values); anything far deeper is not one of these files, and parsing it would run
#: out of stack (a RecursionError) before it said so.
MAX_DEPTH = 32


class InputFileError(Exception):
    """An input file that diagnose will not read; the message ends a sentence that
    begins with the file's name ("... is a FIFO, not a regular file"). In Russian it
    stands on its own after a colon ("это FIFO, а не обычный файл"), so a sentence
    that quotes it says "it {error}" in English and ": {error}" in Russian."""


def read_bounded(path: Path | str, limit: int) -> str:
    """The UTF-8 text of the regular file ``path`` (``read_bounded_bytes``, decoded;
    a leading byte-order mark dropped: Windows editors write one)."""
    data = read_bounded_bytes(path, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(_("is not UTF-8 text")) from None


def read_bounded_bytes(path: Path | str, limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Never blocks and never reads without end: a FIFO, a device or a socket is refused
    (opened without blocking, so a FIFO with no writer cannot hang the open), and a
    file longer than ``limit`` is refused after reading ``limit + 1`` bytes (a file
    that grows while being read included). Raises OSError (unreadable) or
    InputFileError (refused).
    """
    descriptor = _open_without_waiting(path, fifo=False)
    with os.fdopen(descriptor, "rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputFileError(_("is larger than {size}").format(size=_size(limit)))
    return data


def malformed_reason(error: Exception) -> str:
    """Why a JSON or TOML parser refused a file, as the end of a sentence: the parser's
    own words, or ours where Python's would puzzle a reader (a ``RecursionError`` from
    brackets nested thousands deep; a ``ValueError`` from a number Python will not
    convert, CVE-2020-10735's limit of 4,300 digits)."""
    if isinstance(error, RecursionError):
        return _("it nests too deep")
    if "integer string conversion" in str(error):
        return _("it holds a number of more than 4,300 digits")
    return str(error).rstrip(".")


def too_deep(data: object, limit: int = MAX_DEPTH) -> bool:
    """Whether lists and dicts in ``data`` nest deeper than ``limit`` (iterative: no
    recursion to run out of)."""
    pending: list[tuple[object, int]] = [(data, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list | tuple):
            children = list(item)
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def has_surrogates(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate: an argument that was not valid UTF-8
    (Python keeps its bytes as surrogates) or a JSON ``\\ud800`` escape. Such text
    cannot be written to any UTF-8 file, session or ticket."""
    return any("\ud800" <= char <= "\udfff" for char in text)


def _size(limit: int) -> str:
    if limit >= 1 << 20:
        return _("{n} MiB").format(n=limit >> 20)
    return _("{n} KiB").format(n=limit >> 10)


#: The reasons a file cannot be read or written that people meet, as the C library
#: words them in English (``strerror``): Python's own messages are English whatever the
#: locale, so ``reason`` gives these in the language diagnose speaks.
_REASONS = {
    errno.ENOENT: N_("No such file or directory"),
    errno.EACCES: N_("Permission denied"),
    errno.EPERM: N_("Operation not permitted"),
    errno.EISDIR: N_("Is a directory"),
    errno.ENOTDIR: N_("Not a directory"),
    errno.ENOSPC: N_("No space left on device"),
    errno.EDQUOT: N_("Disk quota exceeded"),
    errno.EROFS: N_("Read-only file system"),
    errno.EEXIST: N_("File exists"),
    errno.ENAMETOOLONG: N_("File name too long"),
    errno.ELOOP: N_("Too many levels of symbolic links"),
    errno.EIO: N_("Input/output error"),
    errno.EFBIG: N_("File too large"),
    errno.EMFILE: N_("Too many open files"),
}


def reason(error: BaseException) -> str:
    """Why ``error`` happened, as a phrase without a final full stop ("No space left on
    device"), in the language diagnose speaks when it is one of the usual reasons
    (``strerror`` as it is otherwise, else the message)."""
    text = getattr(error, "strerror", None) or str(error)
    known = _REASONS.get(getattr(error, "errno", None) or 0)
    return _(known) if known is not None and text == known else text


def fallback_dir() -> Path | None:
    """Where a file that cannot be written where it belongs goes instead: a directory
    of the current user's own under the system's temporary directory (``$TMPDIR``,
    else /tmp), ``diagnose-UID``, created owner-only. None when there is no such
    place, or when something else (a symlink, another user's directory) holds its
    name: the caller then prints what it could not save."""
    import stat
    import tempfile

    try:
        directory = Path(tempfile.gettempdir()) / f"diagnose-{os.geteuid()}"
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=0o700)
        info = os.lstat(directory)
    except (OSError, RuntimeError):  # RuntimeError: tempfile found no usable directory
        return None
    private = info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return directory if stat.S_ISDIR(info.st_mode) and private else None


def write_anywhere(path: Path, text: str, *, mode: int | None = None) -> tuple[Path | None, str]:
    """Write ``text`` to ``path`` atomically, or, when that fails, to a file of the
    same name in ``fallback_dir()``. Returns where it was written (None: nowhere) and,
    when it is not ``path``, why not there (a phrase such as "No space left on
    device"; empty when it is)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text, mode=mode)
    except (FileExistsError, NotADirectoryError):  # a regular file holds a directory's name
        why = _("{path} is not a directory").format(path=_not_a_directory(path.parent))
    except (OSError, ValueError) as error:  # UnicodeError, a NUL in a name: ValueErrors
        why = reason(error).rstrip(".")
    else:
        return path, ""
    directory = fallback_dir()
    if directory is None or directory == path.parent:
        return None, why
    instead = directory / _usable_name(path.name)
    try:
        write_atomic(instead, text, mode=mode)
    except (OSError, ValueError):
        return None, why
    return instead, why


def _not_a_directory(directory: Path) -> Path:
    """The first of ``directory`` and its parents that exists and is no directory."""
    for candidate in (*reversed(directory.parents), directory):
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return directory


def _open_without_waiting(path: Path | str, *, fifo: bool) -> int:
    """A descriptor of ``path`` for reading, opened without blocking so that a FIFO
    with no writer cannot hang the open. A directory, a device and a socket are refused
    with InputFileError, and so is a FIFO unless ``fifo``; an accepted FIFO is switched
    back to blocking reads (its writer may be slower than the reader). Closed when
    anything fails."""
    import stat

    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise InputFileError(_("is a directory"))
        if stat.S_ISFIFO(mode) and not fifo:
            raise InputFileError(_("is a FIFO, not a regular file"))
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise InputFileError(
                _("is a device or socket, not a file or a FIFO")
                if fifo
                else _("is a device or socket, not a regular file")
            )
        if stat.S_ISFIFO(mode):
            import fcntl

            flags = fcntl.fcntl(descriptor, fcntl.F_GETFL)
            fcntl.fcntl(descriptor, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def open_stream(path: Path | str) -> io.TextIOWrapper:
    """A regular file or a FIFO opened for reading as UTF-8 text, line by line (a list
    of domains is streamed, never read whole: it has no size limit).

    Never waits: a FIFO is opened without blocking and read as it is then, so one that
    no program writes to reads as empty instead of hanging (a writer must have it
    open). A device (``/dev/zero`` would never end a line) or a socket is refused with
    InputFileError; OSError when it cannot be opened."""
    descriptor = _open_without_waiting(path, fifo=True)
    return open(descriptor, encoding="utf-8")


def _usable_name(name: str) -> str:
    """``name``, or a plain one when no file can be called that (a NUL, a lone
    surrogate that stands for no byte)."""
    try:
        if "\x00" not in name and name:
            os.fsencode(name)
            return name
    except UnicodeError:
        pass
    return "unnamed"
