"""The steps of a consultation: what a front end shows or asks next.

``Conversation.next(state)`` returns exactly one of these. Each is a frozen value that
holds everything needed to render it (the question with its help and why, the article
to show before a ticket field, the draft to review), so the terminal, a web page and
an HTTP API render the same conversation without any flow logic of their own.
``to_dict`` is the JSON form an API returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from diagnose.i18n import N_

if TYPE_CHECKING:  # for the fields' types only: the first question needs neither
    from diagnose.conversation.reasoning import Recommendation
    from diagnose.kb.model import Question, Rule, TicketField

#: Words every prompt understands (a web page offers them as buttons).
HELP_WORDS = frozenset({"?", "help"})
WHY = "why"
BACK = "back"
QUIT = "quit"
UNKNOWN_WORD = "unknown"
EDIT = "edit"
EXPLAIN = "explain"
#: The same words in Russian: a person may type them in either language.
RUSSIAN_WORDS = {
    "помощь": "help",
    "справка": "help",
    "почему": "why",
    "зачем": "why",
    "назад": "back",
    "выход": "quit",
    "выйти": "quit",
    "не знаю": UNKNOWN_WORD,
    "редактор": EDIT,
    "объяснить": EXPLAIN,
    "объясни": EXPLAIN,
}

#: Every word some prompt obeys itself: an answer or a choice id must not be one.
COMMAND_WORDS = HELP_WORDS | {WHY, BACK, QUIT, UNKNOWN_WORD, EDIT, EXPLAIN} | set(RUSSIAN_WORDS)


def command_word(typed: str) -> str:
    """What was typed, as a prompt's word if it is one in either language (``назад`` is
    ``back``), else lower-cased and stripped."""
    word = " ".join(typed.split()).lower()
    return RUSSIAN_WORDS.get(word, word)


@dataclass(frozen=True)
class Ask:
    """A diagnostic question, numbered in this consultation."""

    question: Question
    number: int
    waiting: tuple[Rule, ...]  # the conclusions that wait on the answer (for "why")
    check: str | None = None  # the live check that will measure the answer
    can_go_back: bool = False

    kind = "question"

    def to_dict(self) -> dict[str, object]:
        q = self.question
        return {
            "step": self.kind,
            "id": q.id,
            "number": self.number,
            "prompt": q.prompt,
            "type": str(q.type),
            "choices": [{"id": c.id, "label": c.label} for c in q.choices],
            "help": q.help,
            "why": q.why,
            "check": self.check,
            "waiting": sorted({rule.article for rule in self.waiting}),
            "can_go_back": self.can_go_back,
        }


@dataclass(frozen=True)
class Measure:
    """A live check about to run on an answer; the front end shows progress, calls
    ``Conversation.measure`` and records the result with ``State.measured``."""

    check: str
    description: str
    value: str
    can_go_back: bool = False

    kind = "check"

    def to_dict(self) -> dict[str, object]:
        return {
            "step": self.kind,
            "check": self.check,
            "description": self.description,
            "value": self.value,
        }


@dataclass(frozen=True)
class Confirm:
    """After a resolution ("Did this solve it?") or an information article ("Did this
    answer your question?"). Yes ends it; no escalates to support naming the article.
    ``correctable``: the question whose answer a failed check measured (a mistyped
    address): typing a corrected answer here replaces it."""

    recommendation: Recommendation
    correctable: Question | None = None
    can_go_back: bool = True

    kind = "confirm"
    reply = "helped"

    @property
    def prompt(self) -> str:
        if str(self.recommendation.article.outcome) == "information":
            return N_("Did this answer your question?")
        return N_("Did this solve it?")

    def to_dict(self) -> dict[str, object]:
        return {
            "step": self.kind,
            "reply": self.reply,
            "prompt": self.prompt,
            "choices": ["yes", "no"],
            "correctable": self.correctable.id if self.correctable else None,
            "recommendation": self.recommendation.to_dict(),
        }


@dataclass(frozen=True)
class AskField:
    """A ticket field of an escalation. ``index`` counts from 0 over the fields this
    article asks; ``current`` is the value being changed at review; ``default`` is
    offered on Enter (the address given earlier, for the login)."""

    recommendation: Recommendation
    field: TicketField
    index: int
    total: int
    default: str | None = None
    current: str | None = None
    can_go_back: bool = True

    kind = "ticket-field"

    def to_dict(self) -> dict[str, object]:
        f = self.field
        return {
            "step": self.kind,
            "id": f.id,
            "label": f.title,
            "prompt": f.prompt,
            "help": f.help,
            "type": str(f.type),
            "multiline": f.multiline,
            "choices": [{"id": c.id, "label": c.label} for c in f.choices],
            "index": self.index,
            "total": self.total,
            "default": self.default,
            "current": self.current,
            "recommendation": self.recommendation.to_dict(),
        }


@dataclass(frozen=True)
class Review:
    """The ticket draft, to accept or to change one field (``edit:FIELD``)."""

    recommendation: Recommendation
    can_go_back: bool = True

    kind = "review"
    reply = "review"

    def to_dict(self) -> dict[str, object]:
        return {"step": self.kind, "reply": self.reply, **self.recommendation.to_dict()}


@dataclass(frozen=True)
class Done:
    """The end: the recommendation stands (with its ticket, for an escalation)."""

    recommendation: Recommendation
    can_go_back: bool = False

    kind = "done"

    def to_dict(self) -> dict[str, object]:
        return {"step": self.kind, "result": self.recommendation.to_dict()}


Step = Ask | Measure | Confirm | AskField | Review | Done
