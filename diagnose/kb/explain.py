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
from diagnose.kb.lint import dead_rules
from diagnose.kb.model import UNKNOWN, Article, Condition, KnowledgeBase, Rule

_STATUS_WORDS = {
    "pass": "passes",
    "warn": "passes with a warning",
    "fail": "finds a problem",
    "error": "cannot be completed (undetermined)",
    "skip": "is skipped (its input is unknown)",
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
    labels.update({"yes": "yes", "no": "no", UNKNOWN: "I don't know"})
    shown = " or ".join(f"“{labels.get(v, v)}”" for v in sorted(condition.values))
    return f"anything but {shown}" if condition.negated else shown


def _step(kb: KnowledgeBase, condition: Condition) -> Step:
    if condition.kind == "question":
        question = kb.questions[condition.target]
        text = f"{question.prompt} → {_answer_words(kb, condition)}"
    else:
        binding = kb.checks[condition.target]
        spec = CHECKS_BY_ID.get(condition.target)
        what = spec.description if spec is not None else condition.target
        statuses = " or ".join(_STATUS_WORDS.get(s, s) for s in sorted(condition.values))
        verb = "anything but: " if condition.negated else ""
        text = f"the live check of {what} (the answer to '{binding.input}') {verb}{statuses}"
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
        raise UsageError(f"There is no article '{article_id}'; the articles are: {known}.")
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
        f"{article.title} ({article.id}, {article.outcome}): "
        f"{count} path{'s' if count != 1 else ''} lead{'s' if count == 1 else ''} here."
    ]
    for number, path in enumerate(explanation.paths, start=1):
        lines.append("")
        lines.append(f"{number}. By the rule '{path.rule.id}': {path.rule.rationale}")
        if path.dead is not None:
            lines.append(f"   Never taken: {path.dead}")
        if not path.steps:
            lines.append("   - whatever the answers, when no earlier rule concludes")
        for step in path.steps:
            lines.append(f"   - {step.text}")
    return "\n".join(lines) + "\n"
