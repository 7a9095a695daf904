"""The ticket draft for an escalation: Markdown, JSON, and a ``mailto:`` link.

It holds what the FAQ says support asks for: the login, the project's name, a detailed
description, and the diagnostics gathered (answers and live-check results).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from diagnose.exceptions import UsageError

_FIELDS = (("login", "Login"), ("project", "Project"), ("description", "Description"))


def to_markdown(ticket: Mapping[str, Any]) -> str:
    lines = [f"# {ticket['subject']}", ""]
    for key, label in _FIELDS:
        if key in ticket:
            value = ticket[key] or "(not given)"
            if key == "description" and "\n" in value:
                lines += [f"**{label}:**", "", value, ""]
            else:
                lines.append(f"**{label}:** {value}  ")
    diagnostics = ticket.get("diagnostics", {})
    lines += ["", "## Diagnostics", "", f"- Article: {diagnostics.get('article')}"]
    if diagnostics.get("tried"):
        lines.append(f"- Tried without success: {diagnostics['tried']}")
    for question, answer in diagnostics.get("answers", {}).items():
        lines.append(f"- {question}: {answer}")
    checks = diagnostics.get("checks", [])
    if checks:
        lines += ["", "### Live checks", ""]
        for check in checks:
            lines.append(f"- {check['id']}: {check['status']}: {check['message']}")
            for sub in check.get("checks", []) or []:
                lines.append(f"  - {sub['id']}: {sub['status']}: {sub['message']}")
    return "\n".join(lines).rstrip() + "\n"


def mail_channel(ticket: Mapping[str, Any]) -> Mapping[str, str] | None:
    for channel in ticket.get("channels", []):
        if "@" in channel["address"]:
            return channel
    return None


def mailto(ticket: Mapping[str, Any]) -> str | None:
    """A ``mailto:`` link (RFC 6068) whose subject and body are the draft."""
    channel = mail_channel(ticket)
    if channel is None:
        return None
    subject = quote(str(ticket["subject"]), safe="")
    body = quote(to_markdown(ticket).replace("\n", "\r\n"), safe="")
    return f"mailto:{channel['address']}?subject={subject}&body={body}"


def write(ticket: Mapping[str, Any], path: Path | str) -> Path:
    """Write the draft as JSON when ``path`` ends in .json, else as Markdown."""
    path = Path(path)
    text = (
        json.dumps(dict(ticket), indent=2, ensure_ascii=False) + "\n"
        if path.suffix.lower() == ".json"
        else to_markdown(ticket)
    )
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"Cannot write the ticket draft to {path}: {error.strerror}.") from None
    return path
