"""The consultation in a terminal: renders the core's steps and reads the replies.

It holds no flow of its own: ``Conversation.next(state)`` says what comes next, this
module shows it, reads a line, and hands it back with ``Conversation.answer`` (or takes
the state ``back``). At every prompt a person can type ``?``/``help``, ``why``,
``back`` and ``quit``; at questions ``unknown`` too; at a ticket field, Enter skips it.

Questions are written with click alone: rich (about 40 ms to import) is loaded only
when a live check shows its spinner or an article is shown, so the first question
appears sooner. Text is wrapped to the terminal's width with hanging indents, and
text from DNS or from the person is shown with control characters escaped.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import textwrap
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from diagnose.conversation.state import State
from diagnose.conversation.steps import (
    BACK,
    EDIT,
    EXPLAIN,
    HELP_WORDS,
    QUIT,
    UNKNOWN_WORD,
    WHY,
    Ask,
    AskField,
    Confirm,
    Done,
    Measure,
    Review,
    Step,
    command_word,
)
from diagnose.exceptions import AnswerError, SecretRefused, UsageError
from diagnose.i18n import N_, _
from diagnose.kb.model import QuestionType
from diagnose.render.marks import MARKS, printable, use_colour

if TYPE_CHECKING:
    from rich.console import Console

    from diagnose.conversation.machine import Conversation
    from diagnose.conversation.reasoning import Recommendation

#: The line that ends a multi-line description (Ctrl-D does too).
END_OF_TEXT = "."

#: What "type the corrected ..." names, by the question's type.
CORRECTED = {
    QuestionType.EMAIL: N_("email address"),
    QuestionType.PHONE: N_("phone number"),
    QuestionType.DOMAIN: N_("domain"),
}

#: The words every prompt obeys besides its answers.
PROMPT_WORDS = HELP_WORDS | {WHY, BACK, QUIT}

ESCALATION_LEAD = N_(
    "Support needs a few details to act on this without writing back to you. "
    "Each may be skipped: press Enter."
)


class Stopped(Exception):
    """The person stopped before the end: Ctrl-C, SIGTERM or SIGHUP, end of input, or
    ``quit``. ``state`` is everything said so far, what was being typed included;
    ``shown`` is the recommendation already on the screen, if any."""

    def __init__(self, state: State, *, eof: bool, shown: Recommendation | None) -> None:
        super().__init__("stopped")
        self.state = state
        self.eof = eof
        self.shown = shown


class _Stop(Exception):
    def __init__(self, *, eof: bool, partial: tuple[str, str] | None = None) -> None:
        super().__init__("stop")
        self.eof = eof
        self.partial = partial  # (ticket field id, the lines typed so far)


class Terminal:
    """One consultation on a terminal."""

    def __init__(
        self,
        conversation: Conversation,
        *,
        err: bool = False,
        explain: bool = False,
        offer_save: bool = True,
        read: Callable[[str], str] = input,
    ) -> None:
        self.conversation = conversation
        self.err = err  # True: stdout carries the result (JSON, or a file), so talk on stderr
        self.explain = explain
        self.offer_save = offer_save
        self.read = read
        self.colour = use_colour(sys.stderr if err else sys.stdout)
        if read is input:
            # Line editing (arrows, Ctrl-A, history) for input(): importing readline is
            # all it takes. Not everywhere (a Python built without it): then plain lines.
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401
        self.shown: Recommendation | None = None
        self.saved_ticket: str | None = None
        self._console: Console | None = None

    # --- output -----------------------------------------------------------------------
    @property
    def width(self) -> int:
        return max(20, min(shutil.get_terminal_size().columns, 120) - 1)

    def say(self, text: str = "", *, indent: str = "", hang: str = "", **style: object) -> None:
        """A paragraph, wrapped at word boundaries with a hanging indent."""
        lines = []
        for paragraph in text.split("\n"):
            lines.append(
                textwrap.fill(
                    paragraph,
                    width=self.width,
                    initial_indent=indent,
                    subsequent_indent=indent + hang,
                    break_long_words=False,
                    break_on_hyphens=False,
                )
                or indent.rstrip()
            )
        out = "\n".join(lines)
        if style:
            out = click.style(out, **style)  # type: ignore[arg-type]
        click.echo(out, err=self.err, color=self.colour)

    def console(self) -> Console:
        if self._console is None:
            from diagnose.render.text import make_console  # rich, only when needed

            self._console = make_console(stderr=self.err)
        return self._console

    def _read(self, prompt: str = "> ") -> str:
        try:
            if self.err:
                # input() would write its prompt to stdout, which carries the result.
                click.echo(prompt, nl=False, err=True)
                return self.read("")
            return self.read(prompt)
        except KeyboardInterrupt:
            raise _Stop(eof=False) from None
        except EOFError:
            raise _Stop(eof=True) from None

    # --- the loop ---------------------------------------------------------------------
    def run(self, state: State) -> tuple[State, Recommendation]:
        """Converse until the end; raises Stopped when the person stops."""
        while True:
            try:
                step = self.conversation.next(state)
                if isinstance(step, Done):
                    finished = self._done(state, step)
                    if finished is None:
                        return state, step.recommendation
                    state = finished
                    continue
                state = self._step(state, step)
            except _Stop as stop:
                if stop.partial is not None:
                    state = self._keep_partial(state, *stop.partial)
                raise Stopped(state, eof=stop.eof, shown=self.shown) from None
            except KeyboardInterrupt:  # during a live check, or between prompts
                raise Stopped(state, eof=False, shown=self.shown) from None

    def _step(self, state: State, step: Step) -> State:
        if isinstance(step, Ask):
            return self._ask(state, step)
        if isinstance(step, Measure):
            return self._measure(state, step)
        if isinstance(step, Confirm):
            return self._confirm(state, step)
        if isinstance(step, AskField):
            return self._field(state, step)
        if isinstance(step, Review):
            return self._review(state, step)
        raise AssertionError(step)  # pragma: no cover

    def _common(
        self, state: State, step: Step, command: str, help_text: str, why: str
    ) -> State | None:
        """The words every prompt obeys; the new state for ``back``, else None."""
        if command in HELP_WORDS:
            self.say(help_text, indent="  ")
            self.say(self._commands(step), indent="  ", dim=True)
        elif command == WHY:
            self.say(why, indent="  ")
        elif command == BACK:
            if step.can_go_back:
                return state.back()
            self.say(_("There is no earlier answer to change."), indent="  ")
        elif command == QUIT:
            raise _Stop(eof=False)
        return None

    @staticmethod
    def _commands(step: Step) -> str:
        words = [_("? (help)"), _("why"), _("back"), _("quit")]
        if isinstance(step, Ask):
            words.insert(3, _("unknown"))
        if isinstance(step, AskField):
            return _("Enter skips this field. You can also type: {words}.").format(
                words=", ".join(words)
            )
        return _("You can also type: {words}.").format(words=", ".join(words))

    # --- questions --------------------------------------------------------------------
    def _ask(self, state: State, step: Ask) -> State:
        question = step.question
        self.say()
        self.say(f"{step.number}. {question.prompt}", hang="   ", bold=True)
        choices = question.choices
        for number, choice in enumerate(choices, start=1):
            self.say(f"{number}) {choice.label}", indent="   ", hang="   ")
        if question.type is QuestionType.YESNO:
            self.say(_("yes / no"), indent="   ")

        typed = ""

        def by_number(raw: str) -> str:
            nonlocal typed
            typed = raw
            if choices and raw.isdigit() and 0 < int(raw) <= len(choices):
                return choices[int(raw) - 1].id
            return raw

        def wrong(error: AnswerError) -> None:
            # The parser's sentence names the question's id and its answer ids, right
            # for a script; a person at the prompt is told what to type instead.
            if choices or question.type is QuestionType.YESNO:
                lead = (
                    _("'{typed}' is not one of the answers.").format(typed=printable(typed))
                    if typed
                    else _("Please choose an answer.")
                )
                self.say(lead, indent="  ", fg="red")
                if choices:
                    self.say(
                        _("Type a number from 1 to {n}, or ? for help.").format(n=len(choices)),
                        indent="  ",
                    )
                else:
                    self.say(_("Type yes or no, or ? for help."), indent="  ")
            elif not typed:
                self.say(
                    _("Please type an answer, or unknown if you cannot tell (? for help)."),
                    indent="  ",
                    fg="red",
                )
            else:
                self._error(error)

        return self._until_answered(
            state, step, self._help(step), self._why(step), wrong, by_number
        )

    def _until_answered(
        self,
        state: State,
        step: Ask | Confirm | Review,
        help_text: str,
        why: str,
        wrong: Callable[[AnswerError], None],
        prepare: Callable[[str], str] = str,
    ) -> State:
        """Read lines until one answers ``step`` (the state after it), or is a word that
        changes the state (``back``); the other words are obeyed and it asks again."""
        while True:
            raw = self._read().strip()
            command = command_word(raw)
            if command in PROMPT_WORDS:
                changed = self._common(state, step, command, help_text, why)
                if changed is not None:
                    return changed
                continue
            try:
                return self.conversation.answer(state, step, prepare(raw))
            except AnswerError as error:
                wrong(error)

    def _error(self, error: Exception) -> None:
        self.say(printable(str(error)), indent="  ", fg="red")

    def _help(self, step: Ask) -> str:
        question = step.question
        lines = [question.help] if question.help else []
        if question.choices:
            listed = "; ".join(f"{n}) {c.label}" for n, c in enumerate(question.choices, 1))
            lines.append(
                _("Answer with a number: {listed}. Or unknown, if you cannot tell.").format(
                    listed=listed
                )
            )
        elif question.type is QuestionType.YESNO:
            lines.append(_("Answer yes or no, or unknown if you cannot tell."))
        elif question.type is QuestionType.EMAIL:
            lines.append(_("Type an email address, or unknown."))
        elif question.type is QuestionType.PHONE:
            lines.append(
                _("Type a phone number with its country code, starting with +, or unknown.")
            )
        else:
            lines.append(_("Type your answer, or unknown."))
        return "\n".join(lines)

    def _why(self, step: Ask) -> str:
        question = step.question
        lines = [question.why] if question.why else []
        if step.check:
            lines.append(_("Your answer is checked live, so you do not have to check it yourself."))
        titles: list[str] = []
        for rule in step.waiting:
            title = self.conversation.kb.articles[rule.article].title
            if title not in titles:
                titles.append(title)
        if titles:
            lines.append(_("It decides between: {titles}.").format(titles="; ".join(titles)))
        return "\n".join(lines)

    # --- live checks --------------------------------------------------------------------
    def _measure(self, state: State, step: Measure) -> State:
        self.say(
            _("Checking {what}: {value} ...").format(
                what=_(step.description), value=printable(step.value)
            )
        )
        status = self.console().status(_("working"), spinner="dots")
        # The spinner shows only when the check takes longer than half a second.
        timer = threading.Timer(0.5, status.start)
        timer.start()
        try:
            result = self.conversation.measure(step)
        finally:
            timer.cancel()
            status.stop()  # the cursor comes back, whatever happened
        mark = MARKS[result.status]
        self.say(
            click.style(mark.symbol, fg=mark.colour) + " " + printable(result.message),
            hang="  ",
        )
        return state.measured(step.check, step.value, result)

    # --- after the article -----------------------------------------------------------------
    def _show_article(self, rec: Recommendation) -> None:
        if self.shown is not None and self.shown.key == rec.key:
            return
        from diagnose.render import text

        self.say()
        text.article(self.console(), rec, explain=self.explain)
        self.shown = rec

    def _confirm(self, state: State, step: Confirm) -> State:
        self._show_article(step.recommendation)
        self.shown = step.recommendation
        extra = ""
        if step.correctable is not None:
            extra = _(", or type the corrected {what}").format(
                what=_(CORRECTED.get(step.correctable.type, str(step.correctable.type)))
            )
        self.say()
        self.say(click.style(_(step.prompt), bold=True) + " (" + _("yes / no") + extra + ")")
        why = _(
            "If it did not, diagnose prepares a request to support that says what you "
            "tried, so you do not have to explain it again."
        )
        return self._until_answered(
            state,
            step,
            _("Answer yes or no{extra}.").format(extra=extra),
            why,
            lambda error: self.say(
                _("Please answer yes or no{extra}.").format(extra=extra), indent="  "
            ),
        )

    def _field(self, state: State, step: AskField) -> State:
        rec = step.recommendation
        if self.shown is None or self.shown.key != rec.key:
            self._show_article(rec)
            self.say(_(ESCALATION_LEAD))
        field = step.field
        self.say()
        hints = []
        if step.current is not None:
            hints.append(_("now: {value}").format(value=printable(field.shown(step.current))))
        if step.default:
            hints.append(_("Enter keeps {value}").format(value=printable(step.default)))
        elif step.current is None:
            hints.append(_("Enter skips"))
        counter = f"({step.index + 1}/{step.total}) "
        self.say(
            click.style(counter + field.prompt, bold=True) + f"  [{'; '.join(hints)}]",
            hang="   ",
        )
        for number, choice in enumerate(field.choices, start=1):
            self.say(f"{number}) {choice.label}", indent="   ", hang="   ")
        if field.type is QuestionType.YESNO:
            self.say(_("yes / no"), indent="   ")
        if field.multiline:
            self.say(
                _(
                    "Several lines are fine, blank ones too: end with a line holding only a "
                    "dot (.) or Ctrl-D, or type edit to write it in your editor."
                ),
                indent="   ",
                dim=True,
            )
        why = (field.help + "\n" if field.help else "") + _(
            "Support needs this to act on your request without writing back to you."
        )
        help_text = field.help or field.prompt
        while True:
            first = self._read()
            command = command_word(first)
            if command in PROMPT_WORDS:
                changed = self._common(state, step, command, help_text, why)
                if changed is not None:
                    return changed
                continue
            if command == UNKNOWN_WORD:
                return state.add("ticket", field.id, None)
            text = first
            if field.multiline and command == EDIT:
                edited = click.edit(step.current or "")
                if edited is None:
                    self.say(_("Nothing was saved in the editor; type the text here instead."))
                    continue
                text = edited
            elif field.multiline and first.strip() and first.strip() != END_OF_TEXT:
                text = self._more_lines(field.id, first)
            elif field.multiline and first.strip() == END_OF_TEXT:
                text = ""
            if not text.strip() and step.current is not None:
                return state.add("ticket", field.id, step.current)  # Enter keeps it
            try:
                return self.conversation.answer(state, step, text)
            except (AnswerError, SecretRefused) as error:
                self._error(error)

    def _more_lines(self, field_id: str, first: str) -> str:
        lines = [first]
        try:
            while True:
                try:
                    line = self._read("  ")
                except _Stop as stop:
                    if not stop.eof:
                        raise KeyboardInterrupt from None
                    click.echo(err=self.err)  # Ctrl-D ends the text
                    break
                if line.strip() == END_OF_TEXT:
                    break
                lines.append(line)
        except KeyboardInterrupt:
            # Ctrl-C or a signal at the next line's prompt or between two lines: what
            # was typed so far goes with the saved session.
            raise _Stop(eof=False, partial=(field_id, "\n".join(lines))) from None
        return "\n".join(lines).strip("\n")

    def _keep_partial(self, state: State, field_id: str, text: str) -> State:
        """What was being typed when the person stopped goes into the saved state,
        unless it holds a secret: then it is dropped, and they are told."""
        from diagnose.secrets import refuse_secret

        try:
            refuse_secret(field_id, text)
        except SecretRefused:
            self.say(
                _(
                    "What you were typing looks like it holds a password or a code, "
                    "so it was not saved."
                ),
                fg="red",
            )
            return state
        return state.add("ticket", field_id, text.strip() or None)

    def _review(self, state: State, step: Review) -> State:
        from diagnose.render import text

        ticket = step.recommendation.ticket
        assert ticket is not None
        self.say()
        text.draft(self.console(), ticket, numbered=True)
        self.say(
            click.style(_("Is the draft right?"), bold=True)
            + " "
            + _("Press Enter to keep it, or type a field's number to change it.")
        )
        why = _(
            "This is what support reads; a complete request is answered without questions back."
        )
        help_text = _("Type 1 to {n} to change that field, or press Enter.").format(
            n=len(ticket.values)
        )
        return self._until_answered(state, step, help_text, why, self._error)

    # --- the end ---------------------------------------------------------------------
    def _done(self, state: State, step: Done) -> State | None:
        """The end: the channels, an offer to save the draft, and the explanation.
        Returns a state to go on with (``back`` typed), or None when finished."""
        from diagnose.render import text

        rec = step.recommendation
        self._show_article(rec)
        if rec.ticket is not None:
            self.say()
            text.contact(self.console(), rec.ticket)
            if self.offer_save and self.saved_ticket is None:
                self.say()
                self.say(
                    click.style(_("Save the ticket draft to a file?"), bold=True)
                    + " "
                    + _("Type a path (.md, or .json), or press Enter to skip.")
                )
                while True:
                    path = self._read().strip()
                    if command_word(path) == BACK:
                        return state.back()
                    if command_word(path) == QUIT:
                        raise _Stop(eof=False)
                    if not path:
                        break
                    from diagnose.conversation import ticket as tickets

                    try:
                        written = tickets.write(rec.ticket, path)
                    except UsageError as error:
                        self._error(error)
                        self.say(_("Type another path, or press Enter to skip."), indent="  ")
                        continue
                    self.saved_ticket = str(written)
                    self.say(
                        _("Ticket draft written to {path}.").format(path=printable(str(written)))
                    )
                    break
        if not self.explain:
            self.say()
            self.say(
                _("Type {explain} to see how this was reached, or press Enter to finish.").format(
                    explain=click.style(_("explain"), bold=True)
                )
            )
            answer = command_word(self._read())
            if answer == BACK:
                return state.back()
            if answer == EXPLAIN:
                text.explanation(self.console(), rec)
        return None
