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

from diagnose.conversation.state import State, StateError
from diagnose.exceptions import AnswersFileError, UsageError

KEEP_DAYS = 30
#: A session file is a few kilobytes; anything far larger is not one (and is not read).
MAX_BYTES = 1 << 20


def state_dir() -> Path:
    """Where sessions are saved: $DIAGNOSE_STATE_DIR, else $XDG_STATE_HOME/diagnose,
    else ~/.local/state/diagnose."""
    if os.environ.get("DIAGNOSE_STATE_DIR"):
        return Path(os.environ["DIAGNOSE_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "diagnose"


def new_path() -> Path:
    """The file a consultation started now will be saved to (not created yet)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return state_dir() / f"session-{stamp}-{os.getpid()}.json"


def save(state: State, path: Path) -> Path:
    """Write ``state`` to ``path`` atomically (owner-only: it holds what was typed)."""
    from diagnose.fileio import write_atomic

    data = {"saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **state.to_json()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", mode=0o600)
    except (OSError, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise UsageError(f"Cannot save the session to {path}: {reason}.") from None
    prune(path.parent)
    return path


def load(path: Path) -> State:
    """Read a saved session; AnswersFileError with a sentence when it is not one."""
    from diagnose.fileio import InputFileError, read_bounded, too_deep

    try:
        text = read_bounded(path, MAX_BYTES)
    except OSError as error:
        raise AnswersFileError(
            f"Cannot read the session {path}: {error.strerror or error}."
        ) from None
    except InputFileError as error:
        raise AnswersFileError(f"Cannot read the session {path}: it {error}.") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # 5,000-digit numbers and deep nesting too
        raise AnswersFileError(f"The session {path} is not valid JSON.") from None
    if too_deep(data):
        raise AnswersFileError(f"The session {path} nests deeper than any session.")
    try:
        return State.from_json(data)
    except StateError as error:
        raise AnswersFileError(f"The file {path} is not a saved session: {error}") from None


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
