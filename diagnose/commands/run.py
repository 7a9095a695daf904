"""``diagnose run``: a consultation, interactive on a terminal or scripted for CI."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from diagnose.commands.options import (
    dns_settings,
    format_option,
    nameserver_option,
    path_param,
    rules_option,
    timeout_option,
)
from diagnose.exceptions import EXIT_INTERRUPTED, EXIT_USAGE
from diagnose.i18n import _

if TYPE_CHECKING:
    from diagnose.render.terminal import Stopped


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
    type=path_param(dir_okay=False),
    help="Read answers from a JSON or TOML file (a saved session works too).",
)
@click.option(
    "--resume",
    "resume_file",
    type=path_param(dir_okay=False),
    help="Continue a consultation saved on Ctrl-C.",
)
@click.option(
    "--save",
    "save_file",
    type=path_param(dir_okay=False),
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
    type=path_param(dir_okay=False),
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
) -> int:
    """Diagnose a problem and recommend what to do.

    On a terminal, asks one question at a time. With --answer/--answers and
    --no-input (or when stdin is not a terminal) it never prompts, and exits 2
    naming the first missing answer.

    Exit codes: 0 a recommendation was reached and no live check failed; 1 a live
    check found a problem; 3 a live check could not be completed; 2 bad input.
    """
    from diagnose.conversation import answers as answer_io
    from diagnose.conversation import sessions
    from diagnose.conversation.machine import Conversation
    from diagnose.conversation.state import State
    from diagnose.engine import engine_for
    from diagnose.kb.loader import load

    kb = load(rules_dir)
    given = answer_io.load_file(answers_file) if answers_file else {}
    given.update(answer_io.parse_options(answer_options))
    given = answer_io.validate(kb, given)
    if resume_file:
        # Answers given now win over the same ids in the session; measurements are
        # taken again (DNS may have changed since it was saved).
        state = sessions.load(Path(resume_file)).without_checks()
        answer_io.validate(kb, state.given)
        answer_io.validate(
            kb, {e.id: e.value for e in state.entries if e.kind != "reply" and e.value}
        )
        state = state.with_given(given)
        session_path = Path(resume_file)
    else:
        state = State(given=given)
        session_path = sessions.new_path()
    interactive = not no_input and sys.stdin.isatty()
    conversation = Conversation(
        kb, engine_for(kb), dns=dns_settings(nameservers, timeout), converse=interactive
    )
    # The conversation goes to stderr when stdout carries the JSON or is redirected:
    # the person at the terminal still sees it all, the file gets the result.
    talk_on_stderr = output_format == "json" or not sys.stdout.isatty()

    if interactive:
        from diagnose.render.terminal import Stopped, Terminal

        terminal = Terminal(
            conversation, err=talk_on_stderr, explain=explain, offer_save=ticket_file is None
        )
        if resume_file:
            terminal.say(_("Resuming the consultation saved in {path}.").format(path=resume_file))
        try:
            with _signals_stop():
                state, rec = terminal.run(state)
        except Stopped as stopped:
            return _stopped(stopped, session_path, output_format)
        sessions.finished(session_path)
        shown = True
    else:
        state, rec = conversation.run(state)
        shown = False

    if rec.ticket is not None and ticket_file:
        from diagnose.conversation import ticket as tickets

        written, problem, draft = tickets.write_anywhere(rec.ticket, ticket_file)
        _report_write(True, ticket_file, written, problem, draft)
    elif ticket_file:
        click.echo(
            _(
                "No ticket draft was written to {path}: this consultation ended without an "
                "escalation to support."
            ).format(path=ticket_file),
            err=True,
        )
    if save_file:
        saved = sessions.save_anywhere(state, Path(save_file))
        _report_write(False, save_file, saved.path, saved.problem, saved.text)
        if saved.path is not None:
            click.echo(
                _("Replay with: {command}").format(
                    command=f"diagnose run --answers {saved.path} --no-input"
                ),
                err=True,
            )
    if output_format == "json":
        click.echo(json.dumps(rec.to_dict(), indent=2, ensure_ascii=False))
    elif not shown or talk_on_stderr:
        from diagnose.render import text

        text.recommendation(text.make_console(), rec, explain=explain)
    elif explain:
        from diagnose.render import text

        text.explanation(text.make_console(), rec)
    return rec.exit_code


def _stopped(stopped: Stopped, path: Path, output_format: str) -> int:
    """Save what was said and say how to go on; the exit code says why it stopped."""
    from diagnose.conversation import sessions

    # Never lost: where it belongs, else in the fallback directory, else printed.
    saved = sessions.save_anywhere(stopped.state, path)
    where = _("in {path}").format(path=saved.path)
    if saved.problem:
        where = _("in {path} (it could not be saved in {wanted}: {problem})").format(
            path=saved.path, wanted=path, problem=saved.problem
        )
    resume = _("continue with: {command}").format(command=f"diagnose run --resume {saved.path}")
    if saved.path is None:
        where = _("below (they could not be saved in {wanted}: {problem}, nor elsewhere)").format(
            wanted=path, problem=saved.problem
        )
        resume = _(
            "copy the lines between the marks into a file and continue with: {command}"
        ).format(command="diagnose run --resume " + _("FILE"))
    if stopped.shown is not None:
        # The recommendation was on the screen: it stands, and so does its exit code.
        _tell(
            "diagnose: "
            + _(
                "stopped. The recommendation above stands; what you typed since is saved "
                "{where}; {resume}"
            ).format(where=where, resume=resume)
        )
        _print_unsaved(saved.path, saved.text)
        if output_format == "json":
            click.echo(json.dumps(stopped.shown.to_dict(), indent=2, ensure_ascii=False))
        return stopped.shown.exit_code
    said = (
        _("Input ended before the consultation finished. Your answers are saved {where}; {resume}")
        if stopped.eof
        else _("Stopped before the consultation finished. Your answers are saved {where}; {resume}")
    )
    _tell("diagnose: " + said.format(where=where, resume=resume))
    _print_unsaved(saved.path, saved.text)
    return EXIT_USAGE if stopped.eof else EXIT_INTERRUPTED


_MARK = "-----8<-----"


def _print_unsaved(written: Path | None, text: str) -> None:
    """What could not be written anywhere, on stderr between two marks, to copy."""
    if written is None:
        click.echo(f"{_MARK}\n{text.rstrip()}\n{_MARK}", err=True)


def _report_write(ticket: bool, wanted: str, written: Path | None, problem: str, text: str) -> None:
    """Say where ``--ticket`` (``ticket``) or ``--save`` wrote (or, failing all, print
    it). A sentence each: Russian agrees its verbs with what was written."""
    if written is not None and not problem:
        said = _("Ticket draft written to {path}.") if ticket else _("Answers written to {path}.")
        click.echo(said.format(path=written), err=True)
    elif written is not None:
        said = (
            _(
                "the ticket draft could not be written to {wanted} ({problem}); written to "
                "{path} instead."
            )
            if ticket
            else _(
                "the answers could not be written to {wanted} ({problem}); written to {path} "
                "instead."
            )
        )
        click.echo(
            "diagnose: " + said.format(wanted=wanted, problem=problem, path=written), err=True
        )
    else:
        said = (
            _(
                "the ticket draft could not be written to {wanted} ({problem}) nor anywhere "
                "else; copy them from between the marks:"
            )
            if ticket
            else _(
                "the answers could not be written to {wanted} ({problem}) nor anywhere else; "
                "copy them from between the marks:"
            )
        )
        click.echo("diagnose: " + said.format(wanted=wanted, problem=problem), err=True)
        _print_unsaved(None, text)


def _tell(message: str) -> None:
    """A message on stderr after a blank line, wrapped to the terminal's width (a path
    stays whole: it must stay copyable)."""
    import shutil
    import textwrap

    width = max(20, shutil.get_terminal_size().columns - 1)
    text = textwrap.fill(message, width, break_long_words=False, break_on_hyphens=False)
    click.echo("\n" + text, err=True)


@contextlib.contextmanager
def _signals_stop() -> Iterator[None]:
    """SIGTERM and SIGHUP stop a consultation as Ctrl-C (SIGINT) does: what was said is
    saved. Any of them ends the consultation, so the first one counts, once."""
    import os
    import threading

    stopping = threading.Event()
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def stop(signum: int, frame: object) -> None:
        if not stopping.is_set():  # once: a nudge below may deliver it twice
            stopping.set()
            raise KeyboardInterrupt

    # CPython's readline prints the prompt, then waits in select() without looking at
    # a signal that arrived in between: the handler would run only once a line is
    # typed, and a terminated consultation would hang instead of saving. The wake-up
    # fd hears of every signal at once; until the handler has run, it is sent again.
    reading, writing = os.pipe()
    os.set_blocking(writing, False)

    def nudge() -> None:
        while data := os.read(reading, 64):
            for signum in data:
                if signum in stops:
                    for _ in range(100):
                        if stopping.wait(0.05):
                            break
                        os.kill(os.getpid(), signum)

    previous = {sig: signal.signal(sig, stop) for sig in stops}
    woken = signal.set_wakeup_fd(writing, warn_on_full_buffer=False)
    nudger = threading.Thread(target=nudge, name="signal-nudge", daemon=True)
    nudger.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(woken)
        os.close(writing)  # ends nudge()'s read
        nudger.join(timeout=1)
        os.close(reading)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
