"""The knowledge base as typed, immutable records. ``loader`` builds them from TOML and
validates them; the engine compiles them; nothing here knows about experta.

The records are typed NamedTuples rather than frozen dataclasses: just as immutable and
typed, but defined about six times faster (a frozen dataclass execs six generated
methods), and every start of ``diagnose run`` defines them (README.md, "Performance").
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from diagnose.i18n import N_, _

#: The answer every question accepts: "I don't know". It matches only a condition
#: that names it, so the engine goes on with what else it knows.
UNKNOWN = "unknown"

#: The languages diagnose speaks (the first is the default), and their names in English
#: (for messages about a knowledge base's missing texts).
LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = LANGUAGES[0]
#: Each language's name, translated where it is shown (``_``).
LANGUAGE_NAMES = {"en": N_("English"), "ru": N_("Russian")}

#: Check statuses a condition may name (see diagnose.checks.results.Status).
CHECK_STATUSES = frozenset({"pass", "warn", "fail", "error", "skip"})


class QuestionType(enum.StrEnum):
    CHOICE = "choice"
    YESNO = "yesno"
    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    DOMAIN = "domain"


class Outcome(enum.StrEnum):
    RESOLUTION = "resolution"  # steps the user takes themselves
    INFORMATION = "information"  # the answer to a question about policy
    ESCALATION = "escalation"  # only support can act: a channel and a ticket draft


class Choice(NamedTuple):
    id: str
    label: str
    # The label in every language the knowledge base declares: a person may type any.
    labels: tuple[str, ...] = ()


class Question(NamedTuple):
    id: str
    type: QuestionType
    prompt: str
    help: str = ""
    why: str = ""
    choices: tuple[Choice, ...] = ()
    source: str = ""

    @property
    def values(self) -> tuple[str, ...] | None:
        """The legal answers, ``unknown`` included; None when any text is allowed."""
        if self.type is QuestionType.CHOICE:
            return (*(choice.id for choice in self.choices), UNKNOWN)
        if self.type is QuestionType.YESNO:
            return ("yes", "no", UNKNOWN)
        return None


class Channel(NamedTuple):
    id: str
    name: str
    address: str
    hours: str


#: The ticket's own keys in its JSON form (``Ticket.to_dict``); a knowledge base's
#: ticket field may not take one of these ids (``kb check`` refuses it).
TICKET_KEYS = frozenset({"subject", "channel", "channels", "fields", "diagnostics"})

#: The types a ticket field may have: free text (one line, or several with
#: ``multiline``), an email address, yes/no, or one of a few choices.
TICKET_FIELD_TYPES = frozenset(
    {QuestionType.TEXT, QuestionType.EMAIL, QuestionType.YESNO, QuestionType.CHOICE}
)


class TicketField(NamedTuple):
    """What support needs to act without writing back: asked once an escalation is
    decided, each skippable. ``default_from`` names a question whose answer is offered
    as the default (the login defaults to the support address given earlier)."""

    id: str
    prompt: str
    help: str = ""
    multiline: bool = False
    label: str = ""
    type: QuestionType = QuestionType.TEXT
    choices: tuple[Choice, ...] = ()
    default_from: str = ""
    source: str = ""

    @property
    def title(self) -> str:
        """The short name shown in the draft: ``label``, else the id in words."""
        return self.label or self.id.replace("-", " ").replace("_", " ").capitalize()

    @property
    def values(self) -> tuple[str, ...] | None:
        """The legal values of a choice or yes/no field; None for free text."""
        if self.type is QuestionType.CHOICE:
            return tuple(choice.id for choice in self.choices)
        if self.type is QuestionType.YESNO:
            return ("yes", "no")
        return None

    def shown(self, value: str) -> str:
        """A value as a person reads it: a choice's label, not its id."""
        for choice in self.choices:
            if choice.id == value:
                return choice.label
        return value


class Article(NamedTuple):
    id: str
    title: str
    outcome: Outcome
    summary: str
    steps: tuple[str, ...]
    faq: str = ""
    channel: str | None = None
    ticket: tuple[str, ...] = ()  # the ticket fields asked, in order (shared or own)
    source: str = ""
    fields: tuple[TicketField, ...] = ()  # ticket fields of this article's own


class Condition(NamedTuple):
    """``question`` or ``check`` ``target`` has (or, negated, has not) one of ``values``."""

    kind: str  # "question" or "check"
    target: str
    values: frozenset[str]
    negated: bool = False

    def matches(self, value: str) -> bool:
        return (value in self.values) != self.negated

    def describe(self) -> str:

        shown = _(" or ").join(sorted(self.values))
        if self.kind == "question":
            if self.negated:
                return _("answer to {question} is not {values}").format(
                    question=self.target, values=shown
                )
            return _("answer to {question} is {values}").format(question=self.target, values=shown)
        if self.negated:
            return _("check {check} is not {values}").format(check=self.target, values=shown)
        return _("check {check} is {values}").format(check=self.target, values=shown)


class CheckBinding(NamedTuple):
    """A live check the rules use, and the question whose answer it measures."""

    id: str
    input: str
    source: str = ""


class Rule(NamedTuple):
    id: str
    article: str
    rationale: str
    when: tuple[Condition, ...]
    advice: tuple[str, ...] = ()
    rank: int = 0  # position in the knowledge base: earlier rules win
    source: str = ""


class KnowledgeBase(NamedTuple):
    name: str
    fallback: str
    channels: tuple[Channel, ...]
    ticket_fields: tuple[TicketField, ...]
    questions: Mapping[str, Question]
    articles: Mapping[str, Article]
    checks: Mapping[str, CheckBinding]
    rules: tuple[Rule, ...]
    directory: Path = Path(".")
    languages: tuple[str, ...] = (DEFAULT_LANGUAGE,)  # declared; the first is the fallback
    lang: str = DEFAULT_LANGUAGE  # the language its texts were loaded in
    # Texts that lack a declared language (``kb check`` fails on them; a consultation
    # shows the fallback language's text instead).
    missing: tuple[tuple[str, str], ...] = ()  # (where, what): file and item, the text

    def channel(self, channel_id: str) -> Channel:
        return next(channel for channel in self.channels if channel.id == channel_id)

    def ticket_fields_for(self, article: Article) -> tuple[TicketField, ...]:
        """The fields an escalation to ``article`` asks, in its order."""
        known = {f.id: f for f in (*self.ticket_fields, *article.fields)}
        return tuple(known[field_id] for field_id in article.ticket if field_id in known)

    def all_ticket_fields(self) -> dict[str, TicketField]:
        """Every ticket field, shared or an article's own, by id."""
        fields = {f.id: f for f in self.ticket_fields}
        for article in self.articles.values():
            fields.update((f.id, f) for f in article.fields)
        return fields


#: How a problem names the item it is about: the kind of table and its id (or its
#: number, when it has no id), in the reader's language (``kb check`` in Russian says
#: «статья «x», поле обращения «y»»). Ids stay as written.
_PLACES = {
    "article": N_("article '{id}'"),
    "question": N_("question '{id}'"),
    "rule": N_("rule '{id}'"),
    "check": N_("check '{id}'"),
    "channel": N_("channel '{id}'"),
    "ticket_field": N_("ticket field '{id}'"),
    "scenario": N_("scenario '{id}'"),
}
_NUMBERED = {
    "article": N_("article #{n}"),
    "question": N_("question #{n}"),
    "rule": N_("rule #{n}"),
    "check": N_("check #{n}"),
    "channel": N_("channel #{n}"),
    "ticket_field": N_("ticket field #{n}"),
    "scenario": N_("scenario #{n}"),
    "choice": N_("choice #{n}"),
    "condition": N_("condition #{n}"),
}


def place(kind: str, item_id: str | None = None, number: int = 0) -> str:
    """The item a knowledge-base problem is about: ``place("article", "x")`` is
    "article 'x'"; without an id, ``place("choice", number=2)`` is "choice #2"."""
    if item_id is None:
        return _(_NUMBERED[kind]).format(n=number)
    return _(_PLACES[kind]).format(id=item_id)
