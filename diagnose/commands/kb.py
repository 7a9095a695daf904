"""``diagnose kb``: the tools of the people who write the knowledge base.

``check`` validates it (the loader's checks, then ``diagnose.kb.lint``'s deeper ones),
``graph`` draws its decision structure, ``test`` runs its scenarios and ``explain``
says in words which paths lead to an article.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from diagnose.commands.options import format_option, rules_option
from diagnose.exceptions import EXIT_OK, EXIT_PROBLEM, KnowledgeBaseError
from diagnose.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from diagnose.kb.model import KnowledgeBase


@click.group()
def kb() -> None:
    """Check, draw and test knowledge bases."""


def _load(rules_dir: str | None) -> KnowledgeBase | int:
    """The knowledge base, or EXIT_PROBLEM after listing each defect on stderr."""
    from diagnose.kb.loader import load

    try:
        return load(rules_dir)
    except KnowledgeBaseError as error:
        _problems(error.problems)
        return EXIT_PROBLEM


def _problems(problems: list[str], *, warning: bool = False) -> None:
    """Each problem on its own line, with the prefix the CLI gives every error."""
    from diagnose.render.marks import printable

    prefix = _("warning: {message}") if warning else _("error: {message}")
    for problem in problems:
        click.echo("diagnose: " + prefix.format(message=printable(problem)), err=True)


@kb.command(short_help=N_("Validate a knowledge base."))
@rules_option
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@format_option()
def check(rules_dir: str | None, strict: bool, output_format: str) -> int:
    """Validate a knowledge base: exit 1 on any error (or warning, with --strict)."""
    loaded = _load(rules_dir)
    if isinstance(loaded, int):
        return loaded
    from diagnose.engine import compile_kb
    from diagnose.kb.lint import Level, counts, lint

    compile_kb(loaded)  # proves the rules build a working engine too
    findings = lint(loaded)
    tally = counts(findings)
    failed = tally[Level.ERROR] > 0 or (strict and tally[Level.WARNING] > 0)
    counted = ", ".join(
        (
            ngettext("{n} article", "{n} articles", len(loaded.articles)).format(
                n=len(loaded.articles)
            ),
            ngettext("{n} question", "{n} questions", len(loaded.questions)).format(
                n=len(loaded.questions)
            ),
            ngettext("{n} rule", "{n} rules", len(loaded.rules)).format(n=len(loaded.rules)),
        )
    )
    found = ", ".join(
        (
            ngettext("{n} error", "{n} errors", tally[Level.ERROR]).format(n=tally[Level.ERROR]),
            ngettext("{n} warning", "{n} warnings", tally[Level.WARNING]).format(
                n=tally[Level.WARNING]
            ),
        )
    )
    summary = f"{loaded.directory}: {counted}: " + (_("OK") if not findings else found)
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "directory": str(loaded.directory),
                    "ok": not failed,
                    "errors": [f.to_dict() for f in findings if f.level is Level.ERROR],
                    "warnings": [f.to_dict() for f in findings if f.level is Level.WARNING],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        _problems([str(f) for f in findings if f.level is Level.ERROR])
        _problems([str(f) for f in findings if f.level is Level.WARNING], warning=True)
        click.echo(summary)
    return EXIT_PROBLEM if failed else EXIT_OK


@kb.command(short_help=N_("Draw the decision structure."))
@rules_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["mermaid", "dot", "json"]),
    default="mermaid",
    show_default=True,
    help="Mermaid (renders on GitHub and GitLab), Graphviz DOT, or JSON (nodes, edges).",
)
def graph(rules_dir: str | None, output_format: str) -> int:
    """Draw the decision structure: questions, checks, rules and articles."""
    loaded = _load(rules_dir)
    if isinstance(loaded, int):
        return loaded
    from diagnose.kb import graph as drawing

    built = drawing.build(loaded)
    if output_format == "json":
        click.echo(json.dumps(drawing.to_dict(built), indent=2, ensure_ascii=False))
    elif output_format == "dot":
        click.echo(drawing.dot(built), nl=False)
    else:
        click.echo(drawing.mermaid(built), nl=False)
    return EXIT_OK


@kb.command(short_help=N_("Say which paths lead to an article."))
@click.argument("article")
@rules_option
@format_option()
def explain(article: str, rules_dir: str | None, output_format: str) -> int:
    """Say in words every path of answers and checks that leads to ARTICLE, and by
    which rule."""
    loaded = _load(rules_dir)
    if isinstance(loaded, int):
        return loaded
    from diagnose.kb.explain import explain as paths_to
    from diagnose.kb.explain import to_text
    from diagnose.render.marks import printable

    found = paths_to(loaded, article)
    if output_format == "json":
        click.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(printable(to_text(found)), nl=False)
    return EXIT_OK


@kb.command(short_help=N_("Run the knowledge base's scenarios."))
@rules_option
@format_option()
def test(rules_dir: str | None, output_format: str) -> int:
    """Run the scenarios in the knowledge base's scenarios/ directory; exit 1 on a failure."""
    loaded = _load(rules_dir)
    if isinstance(loaded, int):
        return loaded
    from diagnose.kb import scenarios
    from diagnose.render.marks import printable

    try:
        found = scenarios.load(loaded)
    except KnowledgeBaseError as error:
        _problems(error.problems)
        return EXIT_PROBLEM
    report = scenarios.run(loaded, found)
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        for result in report.results:
            if result.passed:
                click.echo(_("PASS") + "  " + printable(result.scenario.name))
            else:
                click.echo(
                    _("FAIL")
                    + "  "
                    + f"{printable(result.scenario.name)}: {printable(result.explanation())}"
                )
        if report.uncovered:
            click.echo(
                _("Rules no scenario reaches: {rules}.").format(rules=", ".join(report.uncovered))
            )
        failed = len(report.failed)
        passed = len(report.results) - failed
        click.echo(
            ngettext("{n} passed", "{n} passed", passed).format(n=passed)
            + ", "
            + ngettext("{n} failed.", "{n} failed.", failed).format(n=failed)
        )
    return EXIT_PROBLEM if report.failed else EXIT_OK
