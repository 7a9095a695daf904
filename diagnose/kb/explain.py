"""``diagnose kb explain ARTICLE``: every path of answers and check results that leads
to an article, in words, and by which rule.

A path is one rule's conditions, in the order they are asked: the question's prompt
with the answers (their labels) that take this path, or a live check with the
statuses that do. Rules that can never conclude (``kb check`` calls them shadowed or
contradictory) are listed as such, so an author sees why an expected path is dead.
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnose.checks.registry import CHECKS_BY_ID
from diagnose.exceptions import UsageError
from diagnose.i18n import N_, _, ngettext
from diagnose.kb.lint import dead_rules
from diagnose.kb.model import UNKNOWN, Article, Condition, KnowledgeBase, Outcome, Rule

_STATUS_WORDS = {
    "pass": N_("passes"),
    "warn": N_("passes with a warning"),
    "fail": N_("finds a problem"),
    "error": N_("cannot be completed (undetermined)"),
    "skip": N_("is skipped (its input is unknown)"),
}


_OUTCOMES = {
    Outcome.RESOLUTION: N_("resolution"),
    Outcome.INFORMATION: N_("information"),
    Outcome.ESCALATION: N_("escalation"),
}


@dataclass(frozen=True)
class Step:
    """One condition of a path, in words."""

    kind: str  # question or check
    target: str
    values: tuple[str, ...]
    negated: bool
    text: str

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "id": self.target,
            "values": list(self.values),
            "negated": self.negated,
            "text": self.text,
        }


@dataclass(frozen=True)
class Path:
    rule: Rule
    steps: tuple[Step, ...]
    dead: str | None = None  # why the rule never concludes, when it does not

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule.id,
            "rationale": self.rule.rationale,
            "steps": [step.to_dict() for step in self.steps],
            "reachable": self.dead is None,
            "why_not": self.dead,
        }


@dataclass(frozen=True)
class Explanation:
    article: Article
    paths: tuple[Path, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "article": self.article.id,
            "title": self.article.title,
            "outcome": str(self.article.outcome),
            "paths": [path.to_dict() for path in self.paths],
        }


def _answer_words(kb: KnowledgeBase, condition: Condition) -> str:
    question = kb.questions[condition.target]
    labels = {choice.id: choice.label for choice in question.choices}
    labels.update({"yes": _("yes"), "no": _("no"), UNKNOWN: _("I don't know")})
    quoted = _("“{label}”")
    shown = _(" or ").join(quoted.format(label=labels.get(v, v)) for v in sorted(condition.values))
    return _("anything but {values}").format(values=shown) if condition.negated else shown


def _step(kb: KnowledgeBase, condition: Condition) -> Step:
    if condition.kind == "question":
        question = kb.questions[condition.target]
        text = f"{question.prompt} → {_answer_words(kb, condition)}"
    else:
        binding = kb.checks[condition.target]
        spec = CHECKS_BY_ID.get(condition.target)
        what = spec.description if spec is not None else condition.target
        statuses = _(" or ").join(_(_STATUS_WORDS.get(s, s)) for s in sorted(condition.values))
        if condition.negated:
            statuses = _("anything but: {statuses}").format(statuses=statuses)
        text = _("the live check of {what} (the answer to '{question}') {statuses}").format(
            what=_(what), question=binding.input, statuses=statuses
        )
    return Step(
        condition.kind,
        condition.target,
        tuple(sorted(condition.values)),
        condition.negated,
        text,
    )


def explain(kb: KnowledgeBase, article_id: str) -> Explanation:
    """The paths to ``article_id``; UsageError naming the known articles if none."""
    article = kb.articles.get(article_id)
    if article is None:
        known = ", ".join(kb.articles)
        raise UsageError(
            _("There is no article '{article}'; the articles are: {known}.").format(
                article=article_id, known=known
            )
        )
    dead = dead_rules(kb)
    paths = tuple(
        Path(rule, tuple(_step(kb, c) for c in rule.when), dead.get(rule.id))
        for rule in kb.rules
        if rule.article == article_id
    )
    return Explanation(article, paths)


def to_text(explanation: Explanation) -> str:
    article = explanation.article
    count = len(explanation.paths)
    lines = [
        f"{article.title} ({article.id}, {_(_OUTCOMES[article.outcome])}): "
        + ngettext("{n} path leads here.", "{n} paths lead here.", count).format(n=count)
    ]
    for number, path in enumerate(explanation.paths, start=1):
        lines.append("")
        lines.append(
            f"{number}. "
            + _("By the rule '{rule}': {rationale}").format(
                rule=path.rule.id, rationale=path.rule.rationale
            )
        )
        if path.dead is not None:
            lines.append("   " + _("Never taken: {why}").format(why=path.dead))
        if not path.steps:
            lines.append("   - " + _("whatever the answers, when no earlier rule concludes"))
        for step in path.steps:
            lines.append(f"   - {step.text}")
    return "\n".join(lines) + "\n"
