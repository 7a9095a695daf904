"""``diagnose run``: a consultation, interactive on a terminal or scripted for CI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from diagnose.commands.options import (
    dns_settings,
    format_option,
    nameserver_option,
    rules_option,
    timeout_option,
)
from diagnose.exceptions import EXIT_INTERRUPTED, EXIT_USAGE, SessionInterrupted


@click.command()
@click.option(
    "--answer",
    "-a",
    "answer_options",
    multiple=True,
    metavar="ID=VALUE",
    help="Answer a question up front (repeatable). `diagnose questions` lists ids and values.",
)
@click.option(
    "--answers",
    "answers_file",
    type=click.Path(dir_okay=False, path_type=str),
    help="Read answers from a JSON or TOML file (a saved session works too).",
)
@click.option(
    "--resume",
    "resume_file",
    type=click.Path(dir_okay=False, path_type=str),
    help="Continue a consultation saved on Ctrl-C.",
)
@click.option(
    "--save",
    "save_file",
    type=click.Path(dir_okay=False, path_type=str),
    help="Save this consultation's answers to FILE: replay it later with --answers FILE.",
)
@click.option(
    "--no-input", is_flag=True, help="Never prompt: a missing answer is an error (exit 2)."
)
@click.option(
    "--explain", is_flag=True, help="Show how the conclusion was reached and why not the others."
)
@click.option(
    "--ticket",
    "ticket_file",
    type=click.Path(dir_okay=False, path_type=str),
    help="Write the ticket draft of an escalation to FILE (Markdown, or JSON for *.json).",
)
@format_option()
@rules_option
@nameserver_option
@timeout_option
def run(
    answer_options: tuple[str, ...],
    answers_file: str | None,
    resume_file: str | None,
    save_file: str | None,
    no_input: bool,
    explain: bool,
    ticket_file: str | None,
    output_format: str,
    rules_dir: str | None,
    nameservers: tuple[str, ...],
    timeout: float,
) -> None:
    """Diagnose a problem and recommend what to do.

    On a terminal, asks one question at a time. With --answer/--answers and
    --no-input (or when stdin is not a terminal) it never prompts, and exits 2
    naming the first missing answer.

    Exit codes: 0 a recommendation was reached and no live check failed; 1 a live
    check found a problem; 3 a live check could not be completed; 2 bad input.
    """
    from diagnose import answers as answer_io
    from diagnose import sessions
    from diagnose import ticket as tickets
    from diagnose.consultation import Consultation, Interrupted
    from diagnose.engine import engine_for
    from diagnose.kb.loader import load

    kb = load(rules_dir)
    history = answer_io.validate(kb, answer_io.load_file(resume_file)) if resume_file else {}
    given: dict[str, str] = answer_io.load_file(answers_file) if answers_file else {}
    given.update(answer_io.parse_options(answer_options))
    given = answer_io.validate(kb, given)
    # Answers typed in the resumed session stay changeable with `back`; answers given
    # on the command line or in an answers file are fixed. The latter win.
    history = {k: v for k, v in history.items() if k not in given}
    dns = dns_settings(nameservers, timeout)

    interactive = not no_input and sys.stdin.isatty()
    asker = None
    if interactive:
        from diagnose.terminal import TerminalAsker

        # The conversation goes to stderr when stdout carries the JSON or is redirected:
        # the person at the terminal still sees the questions, the file gets the result.
        asker = TerminalAsker(err=output_format == "json" or not sys.stdout.isatty())
        if resume_file:
            asker.say(f"Resuming the consultation saved in {resume_file}.")

    consultation = Consultation(kb, engine_for(kb), dns=dns, asker=asker)
    console = None

    def text_console():
        nonlocal console
        if console is None:
            from diagnose.render import make_console  # rich: only once there is text to show

            console = make_console()
        return console

    def show(rec) -> None:
        if output_format == "text":
            from diagnose import render

            render.recommendation(text_console(), rec, explain=explain)

    try:
        if not interactive:
            given, history = {**history, **given}, {}
        rec = consultation.run(given, history)
        if asker is not None and str(rec.article.outcome) == "resolution":
            show(rec)
            if asker.confirm("Did this solve it?") is False:
                rec = consultation.unsolved(rec, given)
                show(rec)
        else:
            show(rec)
        if rec.ticket is not None:
            path = ticket_file or (asker.offer_save() if asker is not None else None)
            if path:
                written = tickets.write(rec.ticket, path)
                click.echo(f"Ticket draft written to {written}.", err=True)
        if (
            asker is not None
            and output_format == "text"
            and not explain
            and asker.wants_explanation()
        ):
            from diagnose import render

            render.explanation(text_console(), rec)
    except Interrupted as interrupted:
        path = sessions.save(kb, {**consultation.collected(), **interrupted.partial})
        what = "Input ended" if interrupted.eof else "Stopped"
        error = SessionInterrupted(
            f"{what} before the consultation finished. Your answers are saved in {path}; "
            f"continue with: diagnose run --resume {path}"
        )
        error.exit_code = EXIT_USAGE if interrupted.eof else EXIT_INTERRUPTED
        raise error from None

    if save_file:
        saved = sessions.save(kb, consultation.collected(), Path(save_file))
        click.echo(
            f"Answers saved to {saved}; replay with: diagnose run --answers {saved} --no-input",
            err=True,
        )
    if output_format == "json":
        click.echo(json.dumps(rec.to_dict(), indent=2, ensure_ascii=False))
    sys.exit(rec.exit_code)
