"""The command line: parses, wires and renders; nothing else.

Each command lives in its own module under ``diagnose.commands`` and is imported only
when it runs, so ``diagnose --version`` and ``diagnose --help`` load click and nothing
heavy (experta, dnspython, email-validator and rich are imported inside the commands
that need them). ``main`` is the one place where a domain error becomes an exit code.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from typing import NoReturn

import click

from diagnose import __version__, i18n
from diagnose.exceptions import EXIT_INTERRUPTED, DiagnoseError, SessionInterrupted
from diagnose.i18n import N_, _

#: name -> (module, attribute, one-line help). The help is here so that ``--help``
#: can list the commands without importing them.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": (
        "diagnose.commands.run",
        "run",
        N_("Run a diagnosis: interactive, or scripted with answers."),
    ),
    "mail": ("diagnose.commands.mail", "mail", N_("Check whether mail domains can receive mail.")),
    "email": ("diagnose.commands.email", "email", N_("Check an email address and its domain.")),
    "articles": (
        "diagnose.commands.listing",
        "articles",
        N_("List the knowledge base's articles."),
    ),
    "questions": ("diagnose.commands.listing", "questions", N_("List the questions and answers.")),
    "kb": ("diagnose.commands.kb", "kb", N_("Check, draw and test knowledge bases.")),
    "serve": (
        "diagnose.commands.serve",
        "serve",
        N_("Serve the consultation as a web page and an HTTP API."),
    ),
}


class TranslatedHelp(click.HelpFormatter):
    """Help text in the chosen language. Commands and options are defined (and their
    help strings written) before the language is known, so their texts are looked up
    in the catalog as they are written out; click's own words ("Usage:", "Options",
    "[default: ...]") are translated by click itself through the same catalog."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, metavars(args), prefix)

    def write_text(self, text: str) -> None:
        super().write_text(_(text))

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        super().write_dl(
            [(metavars(term), _help(text)) for term, text in rows], col_max, col_spacing
        )


#: The placeholders of the usage line and the options' values, which click writes as
#: they are given (its own "[OPTIONS]" and "COMMAND [ARGS]..." are not in its catalog).
#: click's own type names ("file", "directory") are translated by click itself.
_METAVARS = {
    "[OPTIONS]": N_("[OPTIONS]"),
    "COMMAND [ARGS]...": N_("COMMAND [ARGS]..."),
    "FILE": N_("FILE"),
    "SECONDS": N_("SECONDS"),
    "HOST[:PORT]": N_("HOST[:PORT]"),
    "HOST": N_("HOST"),
    "PORT": N_("PORT"),
    "DOMAIN...": N_("DOMAIN..."),
    "ADDRESS...": N_("ADDRESS..."),
    "ARTICLE": N_("ARTICLE"),
    "ID=VALUE": N_("ID=VALUE"),
}
_METAVAR_PATTERN: re.Pattern[str] | None = None


def metavars(text: str) -> str:
    """``text`` (a usage line, an option's names and value) with its placeholders in
    the chosen language: ``--timeout SECONDS`` is ``--timeout СЕКУНДЫ`` in Russian."""
    global _METAVAR_PATTERN
    if i18n.current() == i18n.DEFAULT:
        return text
    if _METAVAR_PATTERN is None:
        keys = sorted(_METAVARS, key=len, reverse=True)
        _METAVAR_PATTERN = re.compile(
            r"(?<![\w\-\[.])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w\[=:])"
        )
    return _METAVAR_PATTERN.sub(lambda m: _(_METAVARS[m.group(1)]), text)


def _help(text: str) -> str:
    # An option's help may carry click's extras after two spaces ("  [default: 5.0]"),
    # already translated: only the help itself is looked up.
    head, sep, extras = text.partition("  [")
    return _(head) + sep + extras


click.Context.formatter_class = TranslatedHelp


def _language_in(args: Iterable[str]) -> str | None:
    """The value of ``--lang`` among the top-level options (before the command)."""
    items = list(args)
    for index, arg in enumerate(items):
        if arg == "--lang":
            return items[index + 1] if index + 1 < len(items) else None
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
        if not arg.startswith("-"):
            break
    return None


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # The language is chosen before anything is parsed or shown, so that click's
        # own errors about the arguments come out in it too.
        chosen = i18n.normalize(_language_in(args))
        i18n.activate(chosen or i18n.from_environment())
        try:
            return super().parse_args(ctx, args)
        except click.ClickException as error:  # the group's own options: diagnose --bogus
            _usage_error(error)

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
        rows = [(name, short) for name, (_module, _attribute, short) in COMMANDS.items()]
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> object:
        # The one place where an outcome becomes an exit code: a command returns its
        # code (or nothing: 0); a domain error is one line on stderr, never a traceback.
        try:
            code = super().invoke(ctx)
        except SessionInterrupted as stopped:  # not an error: the user chose to stop
            click.echo(f"\ndiagnose: {one_line(str(stopped))}", err=True)
            ctx.exit(stopped.exit_code)
        except DiagnoseError as error:
            click.echo(
                "diagnose: " + _("error: {message}").format(message=one_line(str(error))), err=True
            )
            ctx.exit(error.exit_code)
        except click.ClickException as error:  # a subcommand's usage error
            _usage_error(error)
        except (KeyboardInterrupt, click.exceptions.Abort):
            from diagnose.__main__ import restore_cursor

            restore_cursor()
            click.echo("\ndiagnose: " + _("interrupted."), err=True)
            ctx.exit(EXIT_INTERRUPTED)
        if isinstance(code, int) and code:
            ctx.exit(code)
        return None


#: Line breaks and terminal controls, as escapes: an error stays one line on stderr
#: whatever text it quotes (an answer with a newline, a file name with an escape).
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))}
_ESCAPES.update({0x2028: "\\u2028", 0x2029: "\\u2029"})


def one_line(text: str) -> str:
    """``text`` on one line, printable: control characters and line breaks escaped,
    bytes that were not UTF-8 (lone surrogates) as ``\\udcff``."""
    text = text.translate(_ESCAPES)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _usage_error(error: click.ClickException) -> NoReturn:
    """click's usage error as one line, like every other error (README.md, "Exit
    codes"): click's own form takes four (usage, hint, blank line, error)."""
    if type(error).__name__ == "NoArgsIsHelpError":  # `diagnose kb`: the help is the answer
        error.show()
        raise click.exceptions.Exit(error.exit_code)
    message = one_line(" ".join(error.format_message().split()))
    if isinstance(error, click.MissingParameter):  # names the argument by its placeholder
        message = metavars(message)
    context = getattr(error, "ctx", None)
    if context is not None and context.help_option_names:
        # click's own hint, in the language chosen (its catalog entry is click's).
        hint = _("Try '{command} {option}' for help.").format(
            command=context.command_path, option=context.help_option_names[0]
        )
        message = f"{message} {hint}"
    click.echo("diagnose: " + _("error: {message}").format(message=message), err=True)
    raise click.exceptions.Exit(error.exit_code)


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    # click's own version option reads its message when the command is defined, before
    # the language is chosen: this one reads it (the same catalog entry) when it prints.
    if not value or ctx.resilient_parsing:
        return
    message = _("%(prog)s, version %(version)s")
    click.echo(message % {"prog": "diagnose", "version": __version__}, color=ctx.color)
    ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
@click.option(
    "--lang",
    type=click.Choice(i18n.LANGUAGES),
    expose_value=False,
    is_eager=True,
    help="Language: en or ru (default: DIAGNOSE_LANG, then the locale).",
)
def cli() -> None:
    """Troubleshoot a cloud account problem, or check a mail domain.

    Start with `diagnose run`; `diagnose mail DOMAIN` checks whether a domain can
    receive mail.
    """


#: Set by a command whose process may end without the interpreter's clean-up.
_exit_quickly = False


def exit_without_cleanup() -> None:
    """Let ``main`` end the process at once when the command is done (``os._exit``).

    Tearing the interpreter down after the mail checks (asyncio, dnspython and
    thousands of objects) costs about 20 ms, a fifth of a round trip. A command calls
    this only when nothing is left to do but exit: its sockets and event loop are
    closed, and its files written. ``main`` flushes stdout and stderr first. Commands
    run in-process (tests, ``cli.main`` from other code) exit as usual.
    """
    global _exit_quickly
    _exit_quickly = True


def main(argv: list[str] | None = None) -> None:
    """The console script's entry point (kept here for callers of old; the script
    itself is ``diagnose.__main__:main``, which guards the imports too)."""
    from diagnose.__main__ import main as guarded

    guarded(argv)
