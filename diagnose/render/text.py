"""A recommendation as text for people (rich: wraps to the terminal's width by words,
colour by the one policy in ``marks``). Each part is its own function so the terminal
conversation shows each part when it is due: the article before "Did this solve it?" or
before the ticket fields, the draft at review, the channels at the end.

No internal jargon (rule ids, article ids, outcome names) unless ``explain`` is asked.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from diagnose.checks.results import CheckResult, Status
from diagnose.conversation import ticket as tickets
from diagnose.conversation.reasoning import Recommendation
from diagnose.conversation.ticket import Ticket
from diagnose.i18n import _
from diagnose.render.marks import printable, rich_mark, use_colour


def make_console(*, stderr: bool = False) -> Console:
    """A console for people: styled on a terminal, plain where the policy says."""
    stream: TextIO = sys.stderr if stderr else sys.stdout
    colour = use_colour(stream)
    console = Console(
        stderr=stderr, highlight=False, color_system="auto" if colour else None, emoji=False
    )
    # rich exits 1 on a broken pipe, which here means "a problem was found"; the entry
    # point (diagnose.__main__) turns the error into its own documented exit code.
    console.on_broken_pipe = _broken_pipe  # type: ignore[method-assign]
    return console


def _broken_pipe() -> None:
    raise BrokenPipeError(32, "Broken pipe")


def _safe(text: str) -> str:
    return escape(printable(text))


def article(console: Console, rec: Recommendation, *, explain: bool = False) -> None:
    """The article: title, summary and steps, in a panel."""
    body: list[RenderableType] = [Text(printable(rec.article.summary)), Text()]
    steps = Table.grid(padding=(0, 1))
    steps.add_column(no_wrap=True, justify="right")
    steps.add_column(ratio=1)
    for number, step in enumerate(rec.steps, start=1):
        steps.add_row(f"{number}.", Text(printable(step)))
    body.append(steps)
    title = f"[bold]{_safe(rec.article.title)}[/]"
    subtitle = f"{rec.article.id} ({rec.article.outcome})" if explain else None
    console.print(Panel(Group(*body), title=title, title_align="left", subtitle=subtitle))


def checks(console: Console, results: tuple[CheckResult, ...]) -> None:
    if not results:
        return
    console.print("[bold]" + escape(_("Live checks")) + "[/]")
    for result in results:
        print_trimmed(console, findings([result.to_dict()], indent=2))
        subchecks = result.subchecks()
        if subchecks:
            print_trimmed(console, findings(subchecks, indent=6))


def findings(results: Iterable[Mapping[str, object]], indent: int) -> Padding:
    """Check results as rows of mark, id and finding; long findings wrap inside their
    own column."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    for result in results:
        grid.add_row(
            rich_mark(Status(str(result["status"]))),
            f"{_safe(str(result['id']))}:",
            Text(printable(str(result["message"]))),
        )
    return Padding(grid, (0, 0, 0, indent))


def print_trimmed(console: Console, renderable: RenderableType) -> None:
    """Print ``renderable`` without the spaces rich pads each line with to the full
    width: a grid's short rows would otherwise end in a run of blanks, which a person
    copying the draft into a mail or a terminal recording carries along."""
    from rich.segment import Segment, Segments

    out: list[Segment] = []
    for line in console.render_lines(renderable, pad=False):
        while line and not line[-1].control and not line[-1].text.rstrip(" "):
            line.pop()
        if line and not line[-1].control:
            last = line[-1]
            line[-1] = Segment(last.text.rstrip(" "), last.style)
        out.extend(line)
        out.append(Segment.line())
    console.print(Segments(out), end="")


def draft(console: Console, ticket: Ticket, *, numbered: bool = False) -> None:
    """The ticket draft's fields; numbered at review, so one can be picked to change."""
    console.print("[bold]" + escape(_("Ticket draft:")) + "[/] " + _safe(ticket.subject))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for number, item in enumerate(ticket.values, start=1):
        label = f"{number}) {item.field.title}:" if numbered else f"{item.field.title}:"
        grid.add_row(Text(label), Text(printable(item.shown)))
    print_trimmed(console, Padding(grid, (0, 0, 0, 2)))


def contact(console: Console, ticket: Ticket) -> None:
    """Where to send the draft: the channel, the others, and a mailto link."""
    channel = ticket.channel
    console.print(
        "[bold]" + escape(_("Contact support:")) + "[/] " + f"{_safe(channel.name)}: "
        f"{_safe(channel.address)} ({_safe(channel.hours)})"
    )
    for other in ticket.channels:
        if other.id != channel.id:
            console.print(
                "  "
                + _("or {name}: {address} ({hours})").format(
                    name=_safe(other.name), address=_safe(other.address), hours=_safe(other.hours)
                )
            )
    link = tickets.mailto(ticket)
    if link:
        console.print("  " + _("Send it by mail: {link}").format(link=escape(link)), soft_wrap=True)


def because(console: Console, rec: Recommendation, *, explain: bool = False) -> None:
    rule = " " + _("(rule {rule})").format(rule=rec.rule.id) if explain else ""
    console.print(
        "[dim]" + _("Why: {rationale}").format(rationale=_safe(rec.rule.rationale)) + rule + "[/]"
    )


def recommendation(console: Console, rec: Recommendation, *, explain: bool = False) -> None:
    """The whole recommendation at once (a scripted run, or output to a file)."""
    article(console, rec, explain=explain)
    checks(console, rec.checks)
    if rec.ticket is not None:
        draft(console, rec.ticket)
        contact(console, rec.ticket)
    because(console, rec, explain=explain)
    if explain:
        explanation(console, rec)


def explanation(console: Console, rec: Recommendation) -> None:
    console.print()
    console.print(
        "[bold]"
        + escape(_("How this was reached"))
        + "[/] "
        + _("(rule {rule}: {rationale})").format(
            rule=rec.rule.id, rationale=_safe(rec.rule.rationale)
        )
    )
    for item in rec.evidence:
        console.print(f"  - {_safe(item.condition)}: {_safe(item.fact)}")
    console.print("[bold]" + escape(_("Why not the others")) + "[/]")
    for other in rec.considered:
        console.print(
            "  - "
            + _("{article} (rule {rule}): {reason}").format(
                article=other.article, rule=other.rule, reason=_safe(other.reason)
            )
        )
