"""The command line: parses, wires and renders; nothing else.

Each command lives in its own module under ``diagnose.commands`` and is imported only
when it runs, so ``diagnose --version`` and ``diagnose --help`` load click and nothing
heavy (experta, dnspython, email-validator and rich are imported inside the commands
that need them). ``main`` is the one place where a domain error becomes an exit code.
"""

from __future__ import annotations

import importlib

import click

from diagnose import __version__
from diagnose.exceptions import EXIT_INTERRUPTED, DiagnoseError, SessionInterrupted

#: name -> (module, attribute, one-line help). The help is here so that ``--help``
#: can list the commands without importing them.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": (
        "diagnose.commands.run",
        "run",
        "Run a diagnosis: interactive, or scripted with answers.",
    ),
    "mail": ("diagnose.commands.mail", "mail", "Check whether mail domains can receive mail."),
    "email": ("diagnose.commands.email", "email", "Check an email address and its domain."),
    "articles": ("diagnose.commands.listing", "articles", "List the knowledge base's articles."),
    "questions": ("diagnose.commands.listing", "questions", "List the questions and answers."),
    "kb": ("diagnose.commands.kb", "kb", "Validate a knowledge base."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, attribute, _ = entry
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, short) for name, (_, _, short) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> object:
        # The one place where an outcome becomes an exit code: a command returns its
        # code (or nothing: 0); a domain error is one line on stderr, never a traceback.
        try:
            code = super().invoke(ctx)
        except SessionInterrupted as stopped:  # not an error: the user chose to stop
            click.echo(f"\ndiagnose: {stopped}", err=True)
            ctx.exit(stopped.exit_code)
        except DiagnoseError as error:
            click.echo(f"diagnose: error: {error}", err=True)
            ctx.exit(error.exit_code)
        except (KeyboardInterrupt, click.exceptions.Abort):
            click.echo("\ndiagnose: interrupted.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        if isinstance(code, int) and code:
            ctx.exit(code)
        return None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="diagnose")
def cli() -> None:
    """Troubleshoot a cloud account problem, or check a mail domain.

    Start with `diagnose run`; `diagnose mail DOMAIN` checks whether a domain can
    receive mail.
    """


def main(argv: list[str] | None = None) -> None:
    """The console script's entry point."""
    cli.main(args=argv, prog_name="diagnose")
