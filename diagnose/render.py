"""Text rendering of a recommendation (rich: colour only on a terminal, NO_COLOR honoured)."""

from __future__ import annotations

import os

from rich.console import Console, Group
from rich.markup import escape
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from diagnose import ticket as tickets
from diagnose.checks.results import Status
from diagnose.consultation import Recommendation


def make_console(*, stderr: bool = False) -> Console:
    """A console for people: styled on a terminal, plain text when NO_COLOR is set
    (https://no-color.org) or the output is not a terminal (rich's own rule)."""
    plain = bool(os.environ.get("NO_COLOR"))
    return Console(stderr=stderr, highlight=False, color_system=None if plain else "auto")


MARKS = {
    Status.PASS: "[green]✓ pass[/]",
    Status.WARN: "[yellow]! warn[/]",
    Status.FAIL: "[red]✗ fail[/]",
    Status.ERROR: "[magenta]? undetermined[/]",
    Status.SKIP: "[dim]- skip[/]",
}
OUTCOME_STYLE = {"resolution": "green", "information": "cyan", "escalation": "yellow"}


def recommendation(console: Console, rec: Recommendation, *, explain: bool = False) -> None:
    article = rec.article
    body: list = [Text(article.summary)]
    body.append(Text())
    for number, step in enumerate(rec.steps, start=1):
        body.append(Text(f"{number}. {step}"))
    style = OUTCOME_STYLE.get(str(article.outcome), "white")
    title = f"[bold]{escape(article.title)}[/] [{style}]({article.outcome})[/]"
    console.print(Panel(Group(*body), title=title, title_align="left", subtitle=article.id))
    if rec.checks:
        console.print("[bold]Live checks[/]")
        for result in rec.checks:
            console.print(_findings([result.to_dict()], indent=2))
            subchecks = result.details.get("checks", ()) or ()
            if subchecks:
                console.print(_findings(subchecks, indent=6))
    if rec.ticket is not None:
        ticket_block(console, rec.ticket)
    console.print(f"[dim]Because: {escape(rec.rule.rationale)} (rule {rec.rule.id})[/]")
    if explain:
        explanation(console, rec)


def _findings(results, indent: int) -> Padding:
    """Check results as rows of mark, id and finding; long findings wrap inside their
    own column."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    for result in results:
        grid.add_row(MARKS[Status(result["status"])], f"{result['id']}:", escape(result["message"]))
    return Padding(grid, (0, 0, 0, indent))


def ticket_block(console: Console, ticket) -> None:
    channel = ticket["channel"]
    console.print(
        f"[bold]Contact support:[/] {escape(channel['name'])}: {escape(channel['address'])} "
        f"({escape(channel['hours'])})"
    )
    others = [c for c in ticket["channels"] if c["id"] != channel["id"]]
    for other in others:
        console.print(
            f"  or {escape(other['name'])}: {escape(other['address'])} ({escape(other['hours'])})"
        )
    console.print("[bold]Ticket draft[/] (support needs these to act without asking back):")
    for key, label in (("login", "Login"), ("project", "Project"), ("description", "Description")):
        if key in ticket:
            console.print(f"  {label}: {escape(ticket[key] or '(not given)')}")
    link = tickets.mailto(ticket)
    if link:
        console.print(f"  Send it by mail: {escape(link)}", soft_wrap=True)


def explanation(console: Console, rec: Recommendation) -> None:
    console.print()
    console.print(
        f"[bold]How this was reached[/] (rule {rec.rule.id}: {escape(rec.rule.rationale)})"
    )
    for item in rec.evidence:
        console.print(f"  - {escape(item.condition)}: {escape(item.fact)}")
    console.print("[bold]Why not the others[/]")
    for item in rec.considered:
        console.print(f"  - {item.article} (rule {item.rule}): {escape(item.reason)}")
