"""Saved sessions: what was answered so far, written on Ctrl-C or end of input.

A saved session is also a valid ``--answers`` file (``diagnose.answers.load_file``
reads its ``answers`` and ``ticket`` tables), so a consultation recorded once can be
replayed with ``--no-input`` in CI.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path

from diagnose.exceptions import UsageError
from diagnose.kb.model import KnowledgeBase


def state_dir() -> Path:
    """Where sessions are saved: $DIAGNOSE_STATE_DIR, else $XDG_STATE_HOME/diagnose."""
    if os.environ.get("DIAGNOSE_STATE_DIR"):
        return Path(os.environ["DIAGNOSE_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "diagnose"


def save(kb: KnowledgeBase, values: Mapping[str, str], path: Path | None = None) -> Path:
    """Write the answers and ticket fields so far; returns the file's path."""
    fields = {f.id for f in kb.ticket_fields}
    data = {
        "diagnose_session": 1,
        "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "answers": {k: v for k, v in values.items() if k not in fields},
        "ticket": {k: v for k, v in values.items() if k in fields},
    }
    if path is None:
        directory = state_dir()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = directory / f"session-{stamp}-{os.getpid()}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as error:
        raise UsageError(f"Cannot save the session to {path}: {error.strerror}.") from None
    return path
