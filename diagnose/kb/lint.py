"""The deeper checks of ``diagnose kb check``: a knowledge base that loads can still be
wrong. These find what the loader cannot see item by item:

* a rule shadowed by an earlier one (whenever it would conclude, the earlier rule
  concludes first, so it never does: the earlier rule wins, see ``diagnose.engine``);
* a rule whose conditions contradict each other (no answers satisfy them all);
* a choice id that cannot be typed (the prompt lower-cases and strips what is typed),
  that is a number (numbers pick choices by position) or a word the prompt obeys itself
  (``back``, ``why``, ``help``, ``quit``, ``unknown``, ``explain``, ``edit``);
* choices no rule handles (they fall silently to the fallback article: a warning);
* articles that need more than four diagnostic questions (a warning);
* texts that lack one of the languages the knowledge base declares (the loader lists
  them; a consultation shows the fallback language instead, ``kb check`` fails).

Each finding is a frozen ``Finding``; errors make ``kb check`` exit 1, warnings only with
``--strict``. Only ``kb check`` runs these, never a consultation.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from diagnose.conversation.steps import COMMAND_WORDS
from diagnose.i18n import _, ngettext
from diagnose.kb.model import (
    CHECK_STATUSES,
    UNKNOWN,
    Choice,
    Condition,
    KnowledgeBase,
    Question,
    Rule,
    place,
)

#: More diagnostic questions than this before an article is reached is a warning: people
#: give up, and support's FAQ answers questions in two or three.
MAX_QUESTIONS = 4


class Level(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One defect: where it is (file and item) and a sentence saying what is wrong."""

    level: Level
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"level": str(self.level), "where": self.where, "message": self.message}


@dataclass(frozen=True)
class Accepted:
    """The values a rule's conditions accept for one question or check: ``values``, or
    with ``complement`` every value but those (an ``is_not`` on free text)."""

    values: frozenset[str]
    complement: bool = False

    def __and__(self, other: Accepted) -> Accepted:
        if not self.complement and not other.complement:
            return Accepted(self.values & other.values)
        if self.complement and other.complement:
            return Accepted(self.values | other.values, complement=True)
        finite, excluded = (other, self) if self.complement else (self, other)
        return Accepted(finite.values - excluded.values)

    def empty(self) -> bool:
        return not self.complement and not self.values

    def within(self, other: Accepted) -> bool:
        """Is every value accepted here also accepted by ``other``?"""
        if not self.complement:
            if other.complement:
                return not self.values & other.values
            return self.values <= other.values
        # An infinite set lies within another only if that one is infinite too and
        # excludes no more than this one does.
        return other.complement and other.values <= self.values


def _domain(kb: KnowledgeBase, kind: str, target: str) -> frozenset[str] | None:
    """Every value a question or check can take; None when any text can be typed."""
    if kind == "check":
        return CHECK_STATUSES
    values = kb.questions[target].values
    return frozenset(values) if values is not None else None


#: What a rule accepts, per question or check: ("question" or "check", id) -> values.
Found = dict[tuple[str, str], Accepted]


def accepted(kb: KnowledgeBase, rule: Rule) -> Found:
    """What ``rule`` accepts for each question and check its conditions name."""
    found: dict[tuple[str, str], Accepted] = {}
    for condition in rule.when:
        key = (condition.kind, condition.target)
        this = _accepting(kb, condition)
        found[key] = found[key] & this if key in found else this
    return found


def _accepting(kb: KnowledgeBase, condition: Condition) -> Accepted:
    domain = _domain(kb, condition.kind, condition.target)
    if not condition.negated:
        return Accepted(condition.values)
    if domain is None:
        return Accepted(condition.values, complement=True)
    return Accepted(domain - condition.values)


def _contradiction(kb: KnowledgeBase, found: Mapping[tuple[str, str], Accepted]) -> str | None:
    """Why no answers satisfy a rule that accepts ``found``, or None when some do."""
    for (kind, target), values in found.items():
        if values.empty():
            if kind == "question":
                return _("its conditions on the answer to '{target}' exclude each other").format(
                    target=target
                )
            return _("its conditions on the check '{target}' exclude each other").format(
                target=target
            )
    # A check whose input is answered "unknown" is skipped (never measured): a rule that
    # needs the input unknown and the check measured waits for what cannot happen.
    for (kind, target), statuses in found.items():
        binding = kb.checks.get(target) if kind == "check" else None
        if binding is None:
            continue
        answer = found.get(("question", binding.input))
        if answer == Accepted(frozenset({UNKNOWN})) and not Accepted(frozenset({"skip"})).within(
            statuses
        ):
            return _(
                "it needs the answer to '{question}' to be unknown, and then the check "
                "'{check}' is skipped, never {statuses}"
            ).format(
                question=binding.input,
                check=target,
                statuses=_(" or ").join(sorted(statuses.values)),
            )
    return None


def _everything(kb: KnowledgeBase, key: tuple[str, str]) -> Accepted:
    domain = _domain(kb, *key)
    return Accepted(domain) if domain is not None else Accepted(frozenset(), complement=True)


def _shadows(
    kb: KnowledgeBase,
    earlier: Mapping[tuple[str, str], Accepted],
    later: Mapping[tuple[str, str], Accepted],
) -> bool:
    """Does a rule accepting ``earlier`` conclude whenever one accepting ``later``
    would? (Then the later one never does: the earlier rule wins.)"""
    for key, theirs in earlier.items():
        own = later.get(key) or _everything(kb, key)  # no condition: anything
        if not own.within(theirs):
            return False
    return True


def dead_rules(kb: KnowledgeBase) -> dict[str, str]:
    """The rules that can never conclude, each with the reason in words.

    Rules are compared with every earlier live rule, but not one by one: the earlier
    rules are grouped by their first condition, and a group is looked into only when
    the later rule's answers fall within that condition (linear for knowledge bases
    whose rules begin with a few different conditions, as decision trees do).
    """
    dead: dict[str, str] = {}
    groups: dict[tuple[tuple[str, str], Accepted], list[tuple[Rule, Found]]] = {}
    unconditional: Rule | None = None
    for rule in kb.rules:
        found = accepted(kb, rule)
        why = _contradiction(kb, found)
        shadow = unconditional
        if why is None and shadow is None:
            for (key, values), members in groups.items():
                if not (found.get(key) or _everything(kb, key)).within(values):
                    continue
                shadow = next((e for e, theirs in members if _shadows(kb, theirs, found)), None)
                if shadow is not None:
                    break
        if why is None and shadow is not None:
            why = _(
                "the earlier rule '{rule}' concludes whenever it would (move it before "
                "that rule, or narrow it)"
            ).format(rule=shadow.id)
        if why is not None:
            dead[rule.id] = why
            continue
        if not found:
            unconditional = unconditional or rule
            continue
        first = next(iter(found.items()))
        groups.setdefault(first, []).append((rule, found))
    return dead


def _where(item: str, source: str) -> str:
    return f"{source}: {item}" if source else item


def _rule_findings(kb: KnowledgeBase) -> Iterator[Finding]:
    dead = dead_rules(kb)
    for rule in kb.rules:
        if rule.id in dead:
            where = _where(place("rule", rule.id), rule.source)
            yield Finding(
                Level.ERROR, where, _("it can never conclude: {why}.").format(why=dead[rule.id])
            )


def _choice_problem(choice: Choice) -> str | None:
    if choice.id != choice.id.strip().lower() or not choice.id.strip():
        return _(
            "the choice id '{id}' cannot be typed: what is typed is lower-cased and "
            "stripped (use lower-case letters, digits and hyphens)"
        ).format(id=choice.id)
    if choice.id.isdigit():
        return _(
            "the choice id '{id}' is a number: typed, it picks a choice by its position instead"
        ).format(id=choice.id)
    if choice.id in COMMAND_WORDS:
        return _("the choice id '{id}' is a word every prompt obeys itself").format(id=choice.id)
    return None


def _choice_findings(kb: KnowledgeBase) -> Iterator[Finding]:
    fields = [
        (_where(place("ticket_field", f.id), f.source), f.choices)
        for f in kb.all_ticket_fields().values()
    ]
    questions = [
        (_where(place("question", q.id), q.source), q.choices) for q in kb.questions.values()
    ]
    for where, choices in (*questions, *fields):
        for choice in choices:
            problem = _choice_problem(choice)
            if problem is not None:
                yield Finding(Level.ERROR, where, problem + ".")


def _unhandled(kb: KnowledgeBase, question: Question, conditions: list[Condition]) -> list[str]:
    """The choices of ``question`` that none of ``conditions`` (those on it) accepts."""
    finite: set[str] = set()
    excluded: list[frozenset[str]] = []  # an is_not: everything but these
    for condition in conditions:
        values = _accepting(kb, condition)
        if values.complement:
            excluded.append(values.values)
        else:
            finite |= values.values
    return [
        choice.id
        for choice in question.choices
        if choice.id not in finite and all(choice.id in ex for ex in excluded)
    ]


def _questions_needed(kb: KnowledgeBase, rule: Rule) -> int:
    """The questions ``rule`` needs answered: its own, and the inputs of its checks."""
    needed = {c.target for c in rule.when if c.kind == "question"}
    needed |= {kb.checks[c.target].input for c in rule.when if c.kind == "check"}
    return len(needed)


def _warnings(kb: KnowledgeBase) -> Iterator[Finding]:
    on: dict[str, list[Condition]] = {}
    for rule in kb.rules:
        for condition in rule.when:
            if condition.kind == "question":
                on.setdefault(condition.target, []).append(condition)
    for question in kb.questions.values():
        missing = _unhandled(kb, question, on.get(question.id, [])) if question.choices else []
        if missing:
            fallback = kb.fallback
            yield Finding(
                Level.WARNING,
                _where(place("question", question.id), question.source),
                ngettext(
                    "no rule handles the choice {choices}: it falls to the fallback article "
                    "'{fallback}'.",
                    "no rule handles the choices {choices}: they fall to the fallback article "
                    "'{fallback}'.",
                    len(missing),
                ).format(choices=", ".join(missing), fallback=fallback),
            )
    by_article: dict[str, list[Rule]] = {}
    for rule in kb.rules:
        by_article.setdefault(rule.article, []).append(rule)
    for article in kb.articles.values():
        rules = by_article.get(article.id, [])
        fewest = min((_questions_needed(kb, rule) for rule in rules), default=0)
        if fewest > MAX_QUESTIONS:
            yield Finding(
                Level.WARNING,
                _where(place("article", article.id), article.source),
                _(
                    "it needs {n} diagnostic questions to reach (more than {max}: people give "
                    "up; split the question or ask fewer)."
                ).format(n=fewest, max=MAX_QUESTIONS),
            )


def lint(kb: KnowledgeBase) -> tuple[Finding, ...]:
    """Every finding about ``kb``, errors first, each group in knowledge-base order."""
    translations = [Finding(Level.ERROR, where, what) for where, what in kb.missing]
    found = [*translations, *_rule_findings(kb), *_choice_findings(kb), *_warnings(kb)]
    return tuple(sorted(found, key=lambda f: f.level is not Level.ERROR))


def counts(findings: Iterable[Finding]) -> Mapping[Level, int]:
    tally = dict.fromkeys(Level, 0)
    for finding in findings:
        tally[finding.level] += 1
    return tally
