"""One table of check-status marks and one colour policy, for every output.

Colour only when the stream is a terminal and NO_COLOR (https://no-color.org) is unset
or empty; the same rule for click's styles (the questions, mail reports) and for rich
(the recommendation), so no output is coloured where another is not.
"""

from __future__ import annotations

import os
from typing import NamedTuple, TextIO

from diagnose.checks.results import Status
from diagnose.i18n import N_, _


class Mark(NamedTuple):
    symbol: str
    word: str  # what the status is called in text (translated where shown: ``_(word)``)
    colour: str | None
    tag: str  # four columns wide, for the aligned rows of a mail report


MARKS: dict[Status, Mark] = {
    Status.PASS: Mark("✓", N_("pass"), "green", "PASS"),
    Status.WARN: Mark("!", N_("warn"), "yellow", "WARN"),
    Status.FAIL: Mark("✗", N_("fail"), "red", "FAIL"),
    Status.ERROR: Mark("?", N_("undetermined"), "magenta", "ERR?"),
    Status.SKIP: Mark("-", N_("skip"), None, "skip"),
}


def use_colour(stream: TextIO) -> bool:
    """The colour policy: a terminal, and NO_COLOR unset or empty."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def rich_mark(status: Status) -> str:
    """The mark as rich markup (rich drops the colour itself where the policy says)."""
    mark = MARKS[status]
    text = f"{mark.symbol} {_(mark.word)}"
    return f"[{mark.colour}]{text}[/]" if mark.colour else f"[dim]{text}[/]"


#: C0 and C1 control characters but tab and newline, and DEL: what a TXT record or a
#: pasted line could use to move the cursor, retitle the window or hide text.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F)}
_CONTROLS.update({c: f"\\x{c:02x}" for c in range(0x80, 0xA0)})


def printable(text: str) -> str:
    """``text`` with terminal control characters shown as ``\\xNN`` escapes: text from
    DNS or from a user never reaches a terminal raw."""
    return text.translate(_CONTROLS)
