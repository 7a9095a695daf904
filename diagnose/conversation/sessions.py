"""Saved sessions: a consultation's state, written when it stops before the end.

One file per consultation, updated in place: a consultation started afresh gets a new
name under the state directory; a resumed one keeps writing to the file it came from.
A finished consultation removes its file from the state directory, and every save
prunes session files there older than ``KEEP_DAYS`` days (README.md, "Sessions").

The file is exactly the ``State`` (``State.to_json``): nothing is asked twice on
resume. It is also a valid ``--answers`` file (``answers.load_file`` reads it).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import NamedTuple

from diagnose.conversation.state import State, StateError
from diagnose.exceptions import AnswersFileError, UsageError
from diagnose.i18n import _

KEEP_DAYS = 30
#: A session file is a few kilobytes; anything far larger is not one (and is not read).
MAX_BYTES = 1 << 20


def state_dir() -> Path:
    """Where sessions are saved: $DIAGNOSE_STATE_DIR, else $XDG_STATE_HOME/diagnose,
    else ~/.local/state/diagnose (with no home directory at all: the fallback
    directory of ``diagnose.fileio.fallback_dir``, or the temporary directory)."""
    if os.environ.get("DIAGNOSE_STATE_DIR"):
        return Path(os.environ["DIAGNOSE_STATE_DIR"])
    if os.environ.get("XDG_STATE_HOME"):
        return Path(os.environ["XDG_STATE_HOME"]) / "diagnose"
    try:
        home = Path.home()
    except (RuntimeError, KeyError):  # no $HOME and no passwd entry (a bare container)
        import tempfile

        from diagnose.fileio import fallback_dir

        return fallback_dir() or Path(tempfile.gettempdir())
    return home / ".local" / "state" / "diagnose"


def new_path() -> Path:
    """The file a consultation started now will be saved to (not created yet)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return state_dir() / f"session-{stamp}-{os.getpid()}.json"


def save(state: State, path: Path) -> Path:
    """Write ``state`` to ``path`` atomically (owner-only: it holds what was typed)."""
    from diagnose.fileio import reason, write_atomic

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, _text(state), mode=0o600)
    except (OSError, ValueError) as error:  # UnicodeError, a NUL in a name: ValueErrors
        raise UsageError(
            _("Cannot save the session to {path}: {reason}.").format(
                path=path, reason=reason(error)
            )
        ) from None
    prune(path.parent)
    return path


class Saved(NamedTuple):
    """Where ``save_anywhere`` put a session: ``path`` (None: nowhere, ``text`` is
    what to print instead), and why not where it belongs (empty when it is there)."""

    path: Path | None
    problem: str
    text: str


def save_anywhere(state: State, path: Path) -> Saved:
    """Save ``state`` to ``path``, else in the fallback directory; never raises, so
    that nothing typed is lost: when no file can be written, ``text`` is the session
    to print (it is also a valid answers file)."""
    from diagnose.fileio import write_anywhere

    text = _text(state)
    written, problem = write_anywhere(path, text, mode=0o600)
    if written is not None:
        prune(written.parent)
    return Saved(written, problem, text)


def _text(state: State) -> str:
    data = {"saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **state.to_json()}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def load(path: Path) -> State:
    """Read a saved session; AnswersFileError with a sentence when it is not one."""
    from diagnose.fileio import InputFileError, read_bounded, reason, too_deep

    try:
        text = read_bounded(path, MAX_BYTES)
    except OSError as error:
        raise AnswersFileError(
            _("Cannot read the session {path}: {reason}.").format(path=path, reason=reason(error))
        ) from None
    except InputFileError as error:
        raise AnswersFileError(
            _("Cannot read the session {path}: it {error}.").format(path=path, error=error)
        ) from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # 5,000-digit numbers and deep nesting too
        raise AnswersFileError(
            _("The session {path} is not valid JSON.").format(path=path)
        ) from None
    if too_deep(data):
        raise AnswersFileError(
            _("The session {path} nests deeper than any session.").format(path=path)
        )
    try:
        return State.from_json(data)
    except StateError as error:
        raise AnswersFileError(
            _("The file {path} is not a saved session: {reason}").format(path=path, reason=error)
        ) from None


def finished(path: Path) -> None:
    """The consultation saved in ``path`` ended: remove its file if it lives in the
    state directory (a file the user named elsewhere is theirs to keep)."""
    with contextlib.suppress(OSError):
        if path.resolve().parent == state_dir().resolve() and path.name.startswith("session-"):
            path.unlink()


def prune(directory: Path, now: float | None = None) -> None:
    """Remove session files older than KEEP_DAYS from ``directory``."""
    limit = (now if now is not None else time.time()) - KEEP_DAYS * 86400
    with contextlib.suppress(OSError):
        for old in directory.glob("session-*.json"):
            with contextlib.suppress(OSError):
                if old.stat().st_mtime < limit:
                    old.unlink()
