"""What a recommendation says and why: the frozen result, its evidence (how) and the
other articles with the first condition that ruled each out (why not)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from diagnose.checks.results import CheckResult, exit_code_for
from diagnose.conversation.ticket import Ticket
from diagnose.i18n import _
from diagnose.kb.model import Article, KnowledgeBase, Rule

_FIELD = re.compile(r"\{([^{}]*)\}")


class Evidence(NamedTuple):
    """How: one condition of the concluding rule and the fact that satisfied it."""

    condition: str
    fact: str

    def to_dict(self) -> dict[str, str]:
        return {"condition": self.condition, "fact": self.fact}


class Considered(NamedTuple):
    """Why not: another article, and the first condition that ruled it out."""

    article: str
    rule: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"article": self.article, "rule": self.rule, "reason": self.reason}


@dataclass(frozen=True)
class Recommendation:
    article: Article
    rule: Rule
    steps: tuple[str, ...]
    answers: Mapping[str, str]
    checks: tuple[CheckResult, ...]
    evidence: tuple[Evidence, ...]
    # Why not the other articles: computed when first read (a line per article, so it
    # is the costliest part of a recommendation, and scripted checks never read it).
    why_not: Callable[[], tuple[Considered, ...]] = field(compare=False, repr=False)
    ticket: Ticket | None = None
    tried: Article | None = None  # the article whose steps the person said did not help

    @functools.cached_property
    def considered(self) -> tuple[Considered, ...]:
        """Why not: each other article, and the first condition that ruled it out."""
        return self.why_not()

    @property
    def exit_code(self) -> int:
        """0, or 1 when a live check found a problem, or 3 when one was undetermined."""
        return exit_code_for(result.status for result in self.checks)

    @property
    def key(self) -> tuple[str, str, str]:
        """Tells two recommendations apart for a front end (show an article once)."""
        return (self.article.id, self.rule.id, self.tried.id if self.tried else "")

    def with_ticket(self, ticket: Ticket) -> Recommendation:
        return replace(self, ticket=ticket)

    def to_dict(self) -> dict[str, object]:
        from diagnose import i18n

        data: dict[str, object] = {
            "article": self.article.id,
            "outcome": str(self.article.outcome),
            "title": self.article.title,
            "summary": self.article.summary,
            "steps": list(self.steps),
            "rule": self.rule.id,
            "answers": dict(self.answers),
            "checks": [result.to_dict() for result in self.checks],
            "evidence": {
                "rule": self.rule.id,
                "rationale": self.rule.rationale,
                "conditions": [item.to_dict() for item in self.evidence],
            },
            "considered": [item.to_dict() for item in self.considered],
        }
        if self.tried is not None:
            data["tried"] = self.tried.id
        data["lang"] = i18n.current()  # the language of the texts above; ids are neutral
        if self.ticket is not None:
            data["ticket"] = self.ticket.to_dict()
        return data


def fill(template: str, facts: Mapping[str, str]) -> str:
    """An advice line with {ID} replaced by that answer or check finding; unknown ids
    stay as written (a regex, not str.format: no string module at start-up)."""
    return _FIELD.sub(lambda m: facts.get(m.group(1), m.group(0)), template)


def advice_steps(
    rule: Rule, article: Article, answers: Mapping[str, str], checks: Mapping[str, CheckResult]
) -> tuple[str, ...]:
    facts = dict(answers)
    facts.update({check_id: result.message for check_id, result in checks.items()})
    # "{{" and "}}" are literal braces, as in the knowledge base's documentation.
    advice = tuple(
        fill(line.replace("{{", "\0").replace("}}", "\1"), facts)
        .replace("\0", "{")
        .replace("\1", "}")
        for line in rule.advice
    )
    return advice + article.steps


def _fact(
    kind: str, target: str, answers: Mapping[str, str], checks: Mapping[str, CheckResult]
) -> str | None:
    if kind == "question":
        return answers.get(target)
    result = checks.get(target)
    return None if result is None else str(result.status)


def evidence(
    rule: Rule, answers: Mapping[str, str], checks: Mapping[str, CheckResult]
) -> tuple[Evidence, ...]:
    items = []
    for condition in rule.when:
        value = _fact(condition.kind, condition.target, answers, checks)
        if condition.kind == "question":
            fact = _("you answered {question} = {value}").format(
                question=condition.target, value=value
            )
        else:
            fact = _("the live check {check} gave {status}: {message}").format(
                check=condition.target, status=value, message=checks[condition.target].message
            )
        items.append(Evidence(condition.describe(), fact))
    if not rule.when:
        items.append(Evidence(_("(none)"), rule.rationale))
    return tuple(items)


def considered(
    kb: KnowledgeBase,
    rules_by_article: Mapping[str, list[Rule]],
    chosen: Article,
    chosen_rule: Rule,
    answers: Mapping[str, str],
    checks: Mapping[str, CheckResult],
) -> tuple[Considered, ...]:
    result = []
    for article in kb.articles.values():
        if article.id == chosen.id:
            continue
        # The rule that came closest (most conditions held, then the earliest); its
        # reason is written once, for it alone (a knowledge base of 1,000 rules would
        # otherwise describe 1,000 conditions per consultation).
        best: tuple[int, int, Rule, str | None] | None = None
        for rule in rules_by_article.get(article.id, ()):
            progress, value = len(rule.when), None
            for index, condition in enumerate(rule.when):
                value = _fact(condition.kind, condition.target, answers, checks)
                if value is None or not condition.matches(value):
                    progress = index
                    break
            if best is None or (progress, -rule.rank) > best[:2]:
                best = (progress, -rule.rank, rule, value)
        if best is None:
            continue
        progress, _rank, rule, value = best
        if progress == len(rule.when):
            reason = _("its conditions hold, but rule {rule} ranks before it").format(
                rule=chosen_rule.id
            )
        elif value is None:
            reason = _(
                "not reached: {condition} was never needed, because rule {rule} applied first"
            ).format(condition=rule.when[progress].describe(), rule=chosen_rule.id)
        else:
            reason = _("ruled out: needs {condition}, but it is {value}").format(
                condition=rule.when[progress].describe(), value=value
            )
        result.append(Considered(article.id, rule.id, reason))
    return tuple(result)
