"""The knowledge base as typed, frozen objects. ``loader`` builds them from TOML and
validates them; the engine compiles them; nothing here knows about experta."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass(frozen=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True)
class Question:
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


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    address: str
    hours: str


@dataclass(frozen=True)
class TicketField:
    id: str
    prompt: str
    help: str = ""
    multiline: bool = False


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    outcome: Outcome
    summary: str
    steps: tuple[str, ...]
    faq: str = ""
    channel: str | None = None
    ticket: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Condition:
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


@dataclass(frozen=True)
class CheckBinding:
    """A live check the rules use, and the question whose answer it measures."""

    id: str
    input: str
    source: str = ""


@dataclass(frozen=True)
class Rule:
    id: str
    article: str
    rationale: str
    when: tuple[Condition, ...]
    advice: tuple[str, ...] = ()
    rank: int = 0  # position in the knowledge base: earlier rules win
    source: str = ""


@dataclass(frozen=True)
class KnowledgeBase:
    name: str
    fallback: str
    channels: tuple[Channel, ...]
    ticket_fields: tuple[TicketField, ...]
    questions: Mapping[str, Question]
    articles: Mapping[str, Article]
    checks: Mapping[str, CheckBinding]
    rules: tuple[Rule, ...]
    directory: Path = field(default=Path("."))

    def channel(self, channel_id: str) -> Channel:
        return next(channel for channel in self.channels if channel.id == channel_id)
