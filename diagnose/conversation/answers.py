"""Answers given up front: ``--answer ID=VALUE``, answers files and saved sessions.

Every answer is validated against the knowledge base before the engine sees it, so a
typo is a clear usage error (exit 2) naming the question and its legal values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from diagnose.exceptions import AnswerError, AnswersFileError, MissingAnswerError
from diagnose.i18n import _
from diagnose.kb.model import (
    UNKNOWN,
    Choice,
    KnowledgeBase,
    Question,
    QuestionType,
    TicketField,
)
from diagnose.secrets import refuse_secret

#: An answers file (or a saved session) is a few kilobytes; a larger one is refused
#: unread (README.md, "Limits").
MAX_FILE_BYTES = 1 << 20

# Answers are understood in every language diagnose speaks, whichever it speaks now.
_YES = {"yes", "y", "true", "да", "д"}
_NO = {"no", "n", "false", "нет", "н"}
_UNKNOWN = {UNKNOWN, "не знаю", "неизвестно"}


def missing_answer(question: Question) -> MissingAnswerError:
    return MissingAnswerError(
        _("The question '{id}' needs an answer: give --answer {id}=VALUE ({legal}).").format(
            id=question.id, legal=legal_values(question)
        ),
        question.id,
    )


def parse_yes_no(raw: str) -> str:
    """``yes`` or ``no``; nothing else (no silent default: Enter is not an answer)."""
    lowered = raw.strip().lower()
    if lowered in _YES:
        return "yes"
    if lowered in _NO:
        return "no"
    raise AnswerError(_("Please answer yes or no."))


def parse_field(field: TicketField, raw: str) -> str:
    """A ticket field's value, normalized; AnswerError (or SecretRefused, a kind of
    it) with a sentence when it cannot be one."""
    # A one-line field holds one line whatever it came from (an answers file, a
    # paste): its newlines could otherwise start lines of their own in the draft.
    _refuse_invalid_text(field.id, raw)
    text = raw.strip() if field.multiline else " ".join(raw.split())
    if field.type is QuestionType.YESNO:
        try:
            return parse_yes_no(text)
        except AnswerError:
            _refuse_quoting_a_secret(field.id, text)
            raise AnswerError(_("'{text}' is not yes or no.").format(text=text)) from None
    if field.type is QuestionType.CHOICE:
        lowered = text.lower()
        for number, choice in enumerate(field.choices, start=1):
            if lowered in {choice.id, str(number)}:
                return choice.id
        found = _by_label(field.choices, text)
        if found is not None:
            return found
        legal = ", ".join(f"{n}={c.id}" for n, c in enumerate(field.choices, start=1))
        _refuse_quoting_a_secret(field.id, text)
        raise AnswerError(
            _("'{text}' is not one of the answers: {legal}.").format(text=text, legal=legal)
        )
    if field.type is QuestionType.EMAIL and not _looks_like_address(text):
        _refuse_quoting_a_secret(field.id, text)
        raise AnswerError(
            _("'{text}' does not look like an email address (name@example.com).").format(text=text)
        )
    # In a one-line field a bare number is a value (a project named "2024", "64" vCPU);
    # in a free-text description it is a one-time code pasted by mistake.
    refuse_secret(field.id, text, bare_codes=field.multiline)
    return text


def _refuse_quoting_a_secret(owner: str, text: str) -> None:
    """Before an error that quotes what was typed: a password or code typed at the
    wrong prompt is refused without being shown back (on a screen, in a page, in a
    CI log), as it would be where it is stored."""
    refuse_secret(owner, text, bare_codes=False)


def _by_label(choices: Iterable[Choice], text: str) -> str | None:
    """The choice whose label (in any language) is ``text``, ignoring case and the
    spaces around it: "Войти в аккаунт" answers as well as ``sign-in``."""
    folded = " ".join(text.split()).casefold()
    for choice in choices:
        if any(
            folded == " ".join(label.split()).casefold() for label in (choice.label, *choice.labels)
        ):
            return choice.id
    return None


def _looks_like_address(text: str) -> bool:
    local, at, domain = text.rpartition("@")
    return bool(at and local and "." in domain.strip(".") and not any(c.isspace() for c in text))


def _refuse_invalid_text(question_id: str, text: str) -> None:
    """Bytes that are not UTF-8 (in an argument, or typed on a terminal that is not
    UTF-8) or a lone ``\\ud800`` (in JSON) come as lone surrogates: no file, session
    or ticket could hold them, so they are refused as a typo is."""
    from diagnose.fileio import has_surrogates

    if has_surrogates(text):
        shown = question_id.encode("utf-8", "backslashreplace").decode("utf-8")
        raise AnswerError(
            _("The answer to '{id}' is not valid text: it holds bytes that are not UTF-8.").format(
                id=shown
            )
        )


def legal_values(question: Question) -> str:
    values = question.values
    if values is None:
        return _("any {type} or {unknown}").format(type=question.type, unknown=UNKNOWN)
    return ", ".join(values)


def parse_answer(question: Question, raw: str) -> str:
    """Normalize ``raw`` into a legal answer to ``question`` or raise AnswerError."""
    _refuse_invalid_text(question.id, raw)
    text = raw.strip()
    lowered = text.lower()
    if lowered in _UNKNOWN:
        return UNKNOWN
    if not text:
        raise AnswerError(
            _("The answer to '{id}' is empty; legal values: {legal}.").format(
                id=question.id, legal=legal_values(question)
            )
        )
    if question.type is QuestionType.CHOICE:
        for choice in question.choices:
            if lowered == choice.id:
                return choice.id
        found = _by_label(question.choices, text)
        if found is not None:
            return found
        _refuse_quoting_a_secret(question.id, text)
        raise AnswerError(
            _("'{text}' is not an answer to '{id}'; legal values: {legal}.").format(
                text=text, id=question.id, legal=legal_values(question)
            )
        )
    if question.type is QuestionType.YESNO:
        if lowered in _YES:
            return "yes"
        if lowered in _NO:
            return "no"
        _refuse_quoting_a_secret(question.id, text)
        raise AnswerError(
            _("'{text}' is not an answer to '{id}'; legal values: {legal}.").format(
                text=text, id=question.id, legal="yes, no, unknown"
            )
        )
    if question.type is QuestionType.PHONE:
        from diagnose.checks.phone import parse_phone

        try:
            parse_phone(text)  # a number that is no phone number is re-asked, not measured
        except AnswerError:
            _refuse_quoting_a_secret(question.id, text)
            raise
    if question.type is QuestionType.TEXT:
        refuse_secret(question.id, text, bare_codes=False)  # a custom KB's free text
    return text


def validate(kb: KnowledgeBase, given: Mapping[str, str]) -> dict[str, str]:
    """Check every given answer against the knowledge base; returns them normalized.

    Ticket fields (login, project, description) may be given too; they are free text.
    """
    fields = kb.all_ticket_fields()
    result: dict[str, str] = {}
    for question_id, raw in given.items():
        _refuse_invalid_text(question_id, question_id)
        _refuse_invalid_text(question_id, str(raw))
        if question_id in fields:
            # Never stored, not even given up front; checked as if typed at its prompt.
            result[question_id] = parse_field(fields[question_id], str(raw))
            continue
        question = kb.questions.get(question_id)
        if question is None:
            known = ", ".join([*kb.questions, *fields])
            raise AnswerError(
                _("There is no question '{id}'; known questions: {known}.").format(
                    id=question_id, known=known
                )
            )
        result[question_id] = parse_answer(question, str(raw))
    return result


def parse_options(options: Iterable[str]) -> dict[str, str]:
    """``["goal=sign-in", ...]`` into a dict; a later option overrides an earlier one."""
    result: dict[str, str] = {}
    for option in options:
        question_id, sep, value = option.partition("=")
        if not sep or not question_id.strip():
            raise AnswerError(
                _("'{option}' is not of the form ID=VALUE (for example goal=sign-in).").format(
                    option=option
                )
            )
        result[question_id.strip()] = value
    return result


def load_file(path: Path | str) -> dict[str, str]:
    """Read answers from a JSON or TOML file: ``{"goal": "sign-in", ...}``.

    A saved session (``diagnose run`` writes one on Ctrl-C, ``--save`` on request) is
    accepted too: its answers and ticket values are used, so a recorded consultation
    can be replayed in CI.
    """
    path = Path(path)
    from diagnose.fileio import InputFileError, malformed_reason, read_bounded, reason, too_deep

    try:
        text = read_bounded(path, MAX_FILE_BYTES)
    except OSError as error:
        raise AnswersFileError(
            _("Cannot read the answers file {path}: {reason}.").format(
                path=path, reason=reason(error)
            )
        ) from None
    except InputFileError as error:
        raise AnswersFileError(
            _("Cannot read the answers file {path}: it {reason}.").format(path=path, reason=error)
        ) from None
    import tomllib  # here, not at the top: most runs read no answers file

    # ValueError: a number of thousands of digits (Python refuses to convert it);
    # RecursionError: brackets nested thousands deep. Neither is an answers file.
    malformed = (ValueError, RecursionError)
    data: Any
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(text)
        except malformed as error:
            raise AnswersFileError(
                _("The answers file {path} is not valid TOML: {reason}.").format(
                    path=path, reason=malformed_reason(error)
                )
            ) from None
    else:
        try:
            data = json.loads(text)
        except malformed as error:
            if path.suffix.lower() == ".json":
                raise AnswersFileError(
                    _("The answers file {path} is not valid JSON: {reason}.").format(
                        path=path, reason=malformed_reason(error)
                    )
                ) from None
            try:
                data = tomllib.loads(text)
            except malformed:
                raise AnswersFileError(
                    _("The answers file {path} is neither valid JSON nor valid TOML.").format(
                        path=path
                    )
                ) from None
    if too_deep(data):
        raise AnswersFileError(
            _("The answers file {path} nests deeper than any answers file.").format(path=path)
        )
    if isinstance(data, dict) and "diagnose_session" in data:
        # A saved session: everything given and typed in it (skipped fields stay out).
        from diagnose.conversation.state import State, StateError

        try:
            state = State.from_json(data)
        except StateError as error:
            raise AnswersFileError(
                _("The file {path} is not a saved session: {reason}").format(
                    path=path, reason=error
                )
            ) from None
        data = dict(state.given)
        data.update({e.id: e.value for e in state.entries if e.kind != "reply" and e.value})
    if not isinstance(data, dict):
        raise AnswersFileError(
            _("The answers file {path} must hold an object of question ids to answers.").format(
                path=path
            )
        )
    result: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise AnswersFileError(
                _(
                    "The answers file {path} gives '{key}' a value that is not text: {value}."
                ).format(path=path, key=key, value=repr(value))
            )
        result[str(key)] = str(value)
    return result
