"""The interactive side of ``diagnose run``: asking in a terminal, one question at a time.

At any question the user can type a number or an answer, or one of:
``?``/``help``, ``why``, ``back``, ``unknown``, ``quit``.

Questions are written with click alone: rich (about 40 ms to import) is loaded only
when a live check shows its spinner or the recommendation is rendered, so the first
question appears sooner. Styles only on a terminal, and none when NO_COLOR is set.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import click

from diagnose.answers import legal_values, parse_answer
from diagnose.checks.results import CheckResult, Status
from diagnose.consultation import AskContext, GoBack, Interrupted
from diagnose.exceptions import AnswerError, SecretRefused
from diagnose.kb.model import UNKNOWN, Question, QuestionType, TicketField
from diagnose.secrets import refuse_secret

MARKS = {
    Status.PASS: ("✓", "green"),
    Status.WARN: ("!", "yellow"),
    Status.FAIL: ("✗", "red"),
    Status.ERROR: ("?", "magenta"),
    Status.SKIP: ("-", None),
}

COMMANDS_HELP = "Type a number or an answer; or ? (help), why, back, unknown, quit."


class TerminalAsker:
    """Asks questions on a terminal; implements ``consultation.Asker``."""

    def __init__(self, *, err: bool = False, read: Callable[[str], str] = input) -> None:
        self.err = err  # True in JSON mode: stdout carries only the JSON
        self.read = read
        # None lets click decide (styles on a terminal only); NO_COLOR turns them off.
        self.color: bool | None = False if os.environ.get("NO_COLOR") else None

    def say(self, text: str = "", **style: object) -> None:
        if style:
            text = click.style(text, **style)  # type: ignore[arg-type]
        click.echo(text, err=self.err, color=self.color)

    def _read(self, prompt: str) -> str:
        try:
            if self.err:
                # input() would write its prompt to stdout, which carries only the JSON.
                click.echo(prompt, nl=False, err=True)
                return self.read("")
            return self.read(prompt)
        except KeyboardInterrupt:
            raise Interrupted(eof=False) from None
        except EOFError:
            raise Interrupted(eof=True) from None

    # --- questions ------------------------------------------------------------------
    def ask(self, question: Question, context: AskContext) -> str:
        self.say()
        self.say(f"{context.number}. {question.prompt}", bold=True)
        if question.type is QuestionType.CHOICE:
            for number, choice in enumerate(question.choices, start=1):
                self.say(f"   {number}) {choice.label}")
        elif question.type is QuestionType.YESNO:
            self.say("   yes / no")
        while True:
            raw = self._read("> ").strip()
            command = raw.lower()
            if command in {"?", "help"}:
                self._help(question)
                continue
            if command == "why":
                self._why(question, context)
                continue
            if command == "back":
                if context.can_go_back:
                    raise GoBack()
                self.say("There is no earlier answer to change.")
                continue
            if command == "quit":
                raise Interrupted(eof=False)  # like Ctrl-C: the answers so far are saved
            if command == UNKNOWN:
                return UNKNOWN
            if question.type is QuestionType.CHOICE and command.isdigit():
                index = int(command) - 1
                if 0 <= index < len(question.choices):
                    return question.choices[index].id
            try:
                return parse_answer(question, raw)
            except AnswerError as error:
                self.say(str(error), fg="red")
                if question.type is QuestionType.CHOICE:
                    self.say(f"Type 1-{len(question.choices)}, or: {legal_values(question)}.")

    def _help(self, question: Question) -> None:
        if question.help:
            self.say(question.help)
        if question.type is QuestionType.CHOICE:
            legal = ", ".join(f"{n}={c.id}" for n, c in enumerate(question.choices, start=1))
            self.say(f"Legal answers: {legal}, or unknown.")
        else:
            self.say(f"Legal answers: {legal_values(question)}.")
        self.say(COMMANDS_HELP)

    def _why(self, question: Question, context: AskContext) -> None:
        if question.why:
            self.say(question.why)
        if context.check:
            self.say(f"Your answer is measured by the live check '{context.check}'.")
        self.say("Possible conclusions that wait on this answer:")
        seen: set[str] = set()
        for rule in context.rules:
            if rule.article not in seen:
                seen.add(rule.article)
                self.say(f"  - {rule.article}: {rule.rationale}")

    # --- ticket fields ---------------------------------------------------------------
    def ask_ticket(self, field: TicketField) -> str | None:
        self.say()
        hint = " (end with an empty line)" if field.multiline else ""
        self.say(
            click.style(field.prompt, bold=True)
            + hint
            + "  "
            + click.style("Enter skips.", dim=True)
        )
        if field.help:
            self.say(field.help, dim=True)
        while True:
            lines: list[str] = []
            try:
                while True:
                    line = self._read("> " if not lines else "  ")
                    if not field.multiline or not line.strip():
                        if not field.multiline:
                            lines.append(line)
                        break
                    lines.append(line)
            except Interrupted as interrupted:
                # Keep what was typed: it goes into the saved session.
                interrupted.partial = {field.id: "\n".join(lines)} if lines else {}
                raise
            value = "\n".join(lines).strip()
            if not value:
                return None
            try:
                refuse_secret(field.id, value)
            except SecretRefused as error:
                self.say(str(error), fg="red")
                continue
            return value

    # --- live checks -------------------------------------------------------------------
    def checking(self, description: str, value: str) -> Callable[[CheckResult], None]:
        self.say(f"Checking {description}: {value} ...")
        from diagnose.render import make_console  # rich, only now that it is needed

        status = make_console(stderr=self.err).status("working", spinner="dots")
        # The spinner shows only when the check takes longer than half a second.
        timer = threading.Timer(0.5, status.start)
        timer.start()

        def done(result: CheckResult) -> None:
            timer.cancel()
            status.stop()
            mark, colour = MARKS[result.status]
            self.say(click.style(mark, fg=colour) + " " + result.message)

        return done

    def confirm(self, prompt: str) -> bool | None:
        """A yes/no question outside the knowledge base; None for unknown."""
        self.say()
        self.say(click.style(prompt, bold=True) + " (yes/no)")
        while True:
            answer = self._read("> ").strip().lower()
            if answer in {"y", "yes"}:
                return True
            if answer in {"n", "no"}:
                return False
            if answer in {"unknown", ""}:
                return None
            self.say("Please answer yes or no.")

    def offer_save(self) -> str | None:
        """Offer to save the ticket draft; returns the path typed, or None."""
        self.say()
        self.say(
            click.style("Save the ticket draft to a file?", bold=True)
            + " Type a path (.md, or .json), or Enter to skip."
        )
        path = self._read("> ").strip()
        return path or None

    def wants_explanation(self) -> bool:
        self.say()
        self.say(
            "Type "
            + click.style("explain", bold=True)
            + " to see how this was reached, or Enter to finish."
        )
        return self._read("> ").strip().lower() == "explain"
