"""The ticket draft for an escalation: a frozen value, as Markdown, JSON and ``mailto:``.

It holds what the FAQ says support asks for (the login, the project's name, a detailed
description) and what an article's own fields add (which quota, which numbers), with the
diagnostics gathered: answers and live-check results. Every field the knowledge base
declares reaches every form: JSON, Markdown, the terminal and the mailto body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from diagnose.checks.results import CheckResult
from diagnose.exceptions import UsageError
from diagnose.i18n import N_, _
from diagnose.kb.model import Channel, TicketField

#: What the draft shows for a field left empty (translated where it is shown).
NOT_GIVEN = N_("(not given)")


@dataclass(frozen=True)
class TicketValue:
    field: TicketField
    value: str | None  # None: skipped or not asked

    @property
    def shown(self) -> str:
        return _(NOT_GIVEN) if self.value is None else self.field.shown(self.value)


@dataclass(frozen=True)
class Ticket:
    subject: str
    channel: Channel
    channels: tuple[Channel, ...]
    values: tuple[TicketValue, ...]
    article: str
    answers: tuple[tuple[str, str], ...]
    checks: tuple[CheckResult, ...]
    tried: str | None = None  # the article whose steps did not help

    def value(self, field_id: str) -> str | None:
        for item in self.values:
            if item.field.id == field_id:
                return item.value
        return None

    @property
    def mail_channel(self) -> Channel | None:
        return next((c for c in self.channels if "@" in c.address), None)

    def to_dict(self) -> dict[str, object]:
        """The JSON form: the fields by id at the top level (as since version 1), and
        ``fields`` with their labels in order."""
        diagnostics: dict[str, object] = {
            "article": self.article,
            "answers": dict(self.answers),
            "checks": [result.to_dict() for result in self.checks],
        }
        if self.tried:
            diagnostics["tried"] = self.tried
        return {
            "subject": self.subject,
            "channel": _channel(self.channel),
            "channels": [_channel(c) for c in self.channels],
            **{item.field.id: item.value for item in self.values},
            "fields": [
                {"id": item.field.id, "label": item.field.title, "value": item.value}
                for item in self.values
            ],
            "diagnostics": diagnostics,
        }


def _channel(channel: Channel) -> dict[str, str]:
    return {
        "id": channel.id,
        "name": channel.name,
        "address": channel.address,
        "hours": channel.hours,
    }


def _one_line(text: str) -> str:
    """A value on one Markdown line: a newline in it cannot start a heading or a list."""
    return " ".join(text.split())


def to_markdown(ticket: Ticket) -> str:
    lines = [f"# {_one_line(ticket.subject)}", ""]
    for item in ticket.values:
        label = _one_line(item.field.title)
        if item.field.multiline and item.value and "\n" in item.value.strip():
            # A block quote keeps the description's own lines and blank lines, and
            # nothing in it can pass for the draft's own headings.
            quoted = ["> " + line if line.strip() else ">" for line in item.value.splitlines()]
            lines += [f"**{label}:**", "", *quoted, ""]
        else:
            lines.append(f"**{label}:** {_one_line(item.shown)}  ")
    lines += ["", "## " + _("Diagnostics"), "", "- " + _("Article: {id}").format(id=ticket.article)]
    if ticket.tried:
        lines.append("- " + _("Tried without success: {id}").format(id=ticket.tried))
    for question, answer in ticket.answers:
        lines.append(f"- {question}: {_one_line(answer)}")
    if ticket.checks:
        lines += ["", "### " + _("Live checks"), ""]
        for check in ticket.checks:
            lines.append(f"- {check.id}: {check.status}: {_one_line(check.message)}")
            for sub in check.subchecks():
                lines.append(f"  - {sub['id']}: {sub['status']}: {_one_line(str(sub['message']))}")
    return "\n".join(lines).rstrip() + "\n"


def mailto(ticket: Ticket) -> str | None:
    """A ``mailto:`` link (RFC 6068) whose subject and body are the draft."""
    channel = ticket.mail_channel
    if channel is None:
        return None
    subject = quote(ticket.subject, safe="")
    body = quote(to_markdown(ticket).replace("\n", "\r\n"), safe="")
    return f"mailto:{channel.address}?subject={subject}&body={body}"


def render(ticket: Ticket, path: Path) -> str:
    """The draft as it is written to ``path``: JSON for ``*.json``, else Markdown."""
    if path.suffix.lower() == ".json":
        return json.dumps(ticket.to_dict(), indent=2, ensure_ascii=False) + "\n"
    return to_markdown(ticket)


def write(ticket: Ticket, path: Path | str) -> Path:
    """Write the draft (atomically: an existing file is replaced whole or not at all)."""
    from diagnose.fileio import reason, write_atomic

    target = Path(path)
    try:
        write_atomic(target, render(ticket, target))
    except (OSError, ValueError) as error:  # UnicodeError, a NUL in a name: ValueErrors
        raise UsageError(
            _("Cannot write the ticket draft to {path}: {reason}.").format(
                path=target, reason=reason(error)
            )
        ) from None
    return target


def write_anywhere(ticket: Ticket, path: Path | str) -> tuple[Path | None, str, str]:
    """Write the draft to ``path``, else to the same name in the fallback directory
    (``diagnose.fileio.write_anywhere``); never raises. Returns where it went (None:
    nowhere), why not at ``path`` (empty when there) and the draft's text, to print
    when it went nowhere."""
    from diagnose.fileio import write_anywhere as write

    target = Path(path)
    text = render(ticket, target)
    written, problem = write(target, text)
    return written, problem, text
