"""The interactive side of ``diagnose run``: asking in a terminal, one question at a time.

At any question the user can type a number or an answer, or one of:
``?``/``help``, ``why``, ``back``, ``unknown``, ``quit``. Output goes through rich, which
drops colour when stdout is not a terminal or NO_COLOR is set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape

from diagnose.answers import legal_values, parse_answer
from diagnose.checks.results import CheckResult, Status
from diagnose.consultation import AskContext, GoBack, Interrupted
from diagnose.exceptions import AnswerError, SecretRefused
from diagnose.kb.model import UNKNOWN, Question, QuestionType, TicketField
from diagnose.secrets import refuse_secret

MARKS = {
    Status.PASS: "[green]✓[/]",
    Status.WARN: "[yellow]![/]",
    Status.FAIL: "[red]✗[/]",
    Status.ERROR: "[magenta]?[/]",
    Status.SKIP: "[dim]-[/]",
}

COMMANDS_HELP = "Type a number or an answer; or ? (help), why, back, unknown, quit."


class TerminalAsker:
    """Asks questions on a terminal; implements ``consultation.Asker``."""

    def __init__(self, console: Console, read: Callable[[str], str] = input) -> None:
        self.console = console
        self.read = read

    def _read(self, prompt: str) -> str:
        try:
            return self.read(prompt)
        except KeyboardInterrupt:
            raise Interrupted(eof=False) from None
        except EOFError:
            raise Interrupted(eof=True) from None

    # --- questions ------------------------------------------------------------------
    def ask(self, question: Question, context: AskContext) -> str:
        self.console.print()
        self.console.print(f"[bold]{context.number}. {escape(question.prompt)}[/]")
        if question.type is QuestionType.CHOICE:
            for number, choice in enumerate(question.choices, start=1):
                self.console.print(f"   {number}) {escape(choice.label)}")
        elif question.type is QuestionType.YESNO:
            self.console.print("   yes / no")
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
                self.console.print("There is no earlier answer to change.")
                continue
            if command == "quit":
                raise Interrupted(eof=False, quit=True)
            if command == UNKNOWN:
                return UNKNOWN
            if question.type is QuestionType.CHOICE and command.isdigit():
                index = int(command) - 1
                if 0 <= index < len(question.choices):
                    return question.choices[index].id
            try:
                return parse_answer(question, raw)
            except AnswerError as error:
                self.console.print(f"[red]{escape(str(error))}[/]")
                if question.type is QuestionType.CHOICE:
                    self.console.print(
                        f"Type 1-{len(question.choices)}, or: {legal_values(question)}."
                    )

    def _help(self, question: Question) -> None:
        if question.help:
            self.console.print(escape(question.help))
        if question.type is QuestionType.CHOICE:
            legal = ", ".join(f"{n}={c.id}" for n, c in enumerate(question.choices, start=1))
            self.console.print(f"Legal answers: {escape(legal)}, or unknown.")
        else:
            self.console.print(f"Legal answers: {escape(legal_values(question))}.")
        self.console.print(COMMANDS_HELP)

    def _why(self, question: Question, context: AskContext) -> None:
        if question.why:
            self.console.print(escape(question.why))
        if context.check:
            self.console.print(f"Your answer is measured by the live check '{context.check}'.")
        self.console.print("Possible conclusions that wait on this answer:")
        seen: set[str] = set()
        for rule in context.rules:
            if rule.article not in seen:
                seen.add(rule.article)
                self.console.print(f"  - {escape(rule.article)}: {escape(rule.rationale)}")

    # --- ticket fields ---------------------------------------------------------------
    def ask_ticket(self, field: TicketField) -> str | None:
        self.console.print()
        hint = " (end with an empty line)" if field.multiline else ""
        self.console.print(f"[bold]{escape(field.prompt)}[/]{hint}  [dim]Enter skips.[/]")
        if field.help:
            self.console.print(f"[dim]{escape(field.help)}[/]")
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
                self.console.print(f"[red]{escape(str(error))}[/]")
                continue
            return value

    # --- live checks -------------------------------------------------------------------
    def checking(self, description: str, value: str) -> Callable[[CheckResult], None]:
        self.console.print(f"Checking {escape(description)}: {escape(value)} ...")
        status = self.console.status("working", spinner="dots")
        # The spinner shows only when the check takes longer than half a second.
        timer = threading.Timer(0.5, status.start)
        timer.start()

        def done(result: CheckResult) -> None:
            timer.cancel()
            status.stop()
            self.console.print(f"{MARKS[result.status]} {escape(result.message)}")

        return done

    def confirm(self, prompt: str) -> bool | None:
        """A yes/no question outside the knowledge base; None for unknown."""
        self.console.print()
        self.console.print(f"[bold]{escape(prompt)}[/] (yes/no)")
        while True:
            answer = self._read("> ").strip().lower()
            if answer in {"y", "yes"}:
                return True
            if answer in {"n", "no"}:
                return False
            if answer in {"unknown", ""}:
                return None
            self.console.print("Please answer yes or no.")

    def offer_save(self) -> str | None:
        """Offer to save the ticket draft; returns the path typed, or None."""
        self.console.print()
        self.console.print(
            "[bold]Save the ticket draft to a file?[/] Type a path (.md, or .json), or Enter to skip."
        )
        path = self._read("> ").strip()
        return path or None

    def wants_explanation(self) -> bool:
        self.console.print()
        self.console.print("Type [bold]explain[/] to see how this was reached, or Enter to finish.")
        return self._read("> ").strip().lower() == "explain"
