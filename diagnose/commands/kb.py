"""``diagnose kb check``: validate a knowledge base without running it."""

from __future__ import annotations

import click

from diagnose.commands.options import rules_option
from diagnose.exceptions import EXIT_PROBLEM, KnowledgeBaseError


@click.group()
def kb() -> None:
    """Work with knowledge bases."""


@kb.command()
@rules_option
def check(rules_dir: str | None) -> None:
    """Load and validate a knowledge base; exit 1 on any problem, listing each one."""
    from diagnose.kb.loader import load

    try:
        loaded = load(rules_dir)
    except KnowledgeBaseError as error:
        for problem in error.problems:
            click.echo(f"diagnose: error: {problem}", err=True)
        raise SystemExit(EXIT_PROBLEM) from None
    # Compiling proves the rules build a working engine too.
    from diagnose.engine import compile_kb

    compile_kb(loaded)
    click.echo(
        f"{loaded.directory}: {len(loaded.articles)} articles, {len(loaded.questions)} questions, "
        f"{len(loaded.rules)} rules: OK"
    )
