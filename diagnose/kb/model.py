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

#: The answer every question accepts: "I don't know". It matches only a condition
#: that names it, so the engine goes on with what else it knows.
UNKNOWN = "unknown"

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


class TicketField(NamedTuple):
    id: str
    prompt: str
    help: str = ""
    multiline: bool = False


class Article(NamedTuple):
    id: str
    title: str
    outcome: Outcome
    summary: str
    steps: tuple[str, ...]
    faq: str = ""
    channel: str | None = None
    ticket: tuple[str, ...] = ()
    source: str = ""


class Condition(NamedTuple):
    """``question`` or ``check`` ``target`` has (or, negated, has not) one of ``values``."""

    kind: str  # "question" or "check"
    target: str
    values: frozenset[str]
    negated: bool = False

    def matches(self, value: str) -> bool:
        return (value in self.values) != self.negated

    def describe(self) -> str:
        verb = "is not" if self.negated else "is"
        shown = " or ".join(sorted(self.values))
        noun = "answer to" if self.kind == "question" else "check"
        return f"{noun} {self.target} {verb} {shown}"


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

    def channel(self, channel_id: str) -> Channel:
        return next(channel for channel in self.channels if channel.id == channel_id)
