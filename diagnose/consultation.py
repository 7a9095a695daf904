"""A consultation: the engine asks, live checks measure, a recommendation comes out.

The core never prints and never reads argv: answers come from what was given up front
and, where allowed, from an ``Asker`` (the terminal); the result is a frozen
``Recommendation`` that the CLI renders as text or JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from diagnose.answers import legal_values
from diagnose.checks.registry import CHECKS_BY_ID
from diagnose.checks.results import CheckResult, Status, exit_code_for
from diagnose.checks.settings import DnsSettings
from diagnose.exceptions import MissingAnswerError
from diagnose.kb.model import UNKNOWN, Article, KnowledgeBase, Outcome, Question, Rule, TicketField


class AskContext(NamedTuple):
    """Why a question is asked now: the rules that wait on it (for ``why``)."""

    rules: tuple[Rule, ...]
    check: str | None = None  # set when the answer is the input of this live check
    can_go_back: bool = False  # an earlier answer given in this session can be changed
    number: int = 1  # the question's number in this consultation


class Interrupted(Exception):
    """Raised by an Asker on Ctrl-C (``eof=False``), end of input, or ``quit``.

    ``partial`` holds what was being typed (the lines of a description); with
    ``Consultation.collected()`` it is everything to save, so nothing is lost.
    """

    def __init__(self, *, eof: bool) -> None:
        super().__init__("interrupted")
        self.eof = eof
        self.partial: dict[str, str] = {}


class GoBack(Exception):
    """Raised by an Asker when the user wants to change the previous answer."""


class Asker(Protocol):
    """Where answers come from when they were not given up front (the terminal)."""

    def ask(self, question: Question, context: AskContext) -> str:
        """Return a legal, normalized answer (``unknown`` allowed)."""
        ...

    def ask_ticket(self, field: TicketField) -> str | None:
        """Return the field's value, or None when the user skips it."""
        ...

    def checking(self, description: str, value: str) -> Callable[[CheckResult], None]:
        """Called before a live check runs; the returned callable receives its result."""
        ...


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
    considered: tuple[Considered, ...]
    ticket: Mapping[str, Any] | None = None

    @property
    def exit_code(self) -> int:
        """0, or 1 when a live check found a problem, or 3 when one was undetermined."""
        return exit_code_for(result.status for result in self.checks)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
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
        if self.ticket is not None:
            data["ticket"] = dict(self.ticket)
        return data


class _Facts(dict):
    """Answers and check findings by id, for advice templates; unknown ids stay as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Consultation:
    """Runs one consultation over a compiled knowledge base."""

    def __init__(
        self,
        kb: KnowledgeBase,
        engine_class: type,
        *,
        dns: DnsSettings | None = None,
        asker: Asker | None = None,
    ) -> None:
        self.kb = kb
        self.engine_class = engine_class
        self.dns = dns or DnsSettings()
        self.asker = asker
        self._check_cache: dict[tuple[str, str], CheckResult] = {}
        self._given: dict[str, str] = {}
        self._asked: list[tuple[str, str]] = []
        self._ticket_values: dict[str, str] = {}
        self._by_id: dict[str, Rule] | None = None
        self._by_article: dict[str, list[Rule]] | None = None

    # --- the reasoning loop ------------------------------------------------------
    def run(
        self, given: Mapping[str, str], history: Mapping[str, str] | None = None
    ) -> Recommendation:
        """Reason from ``given`` (validated answers, ticket fields too), asking the
        ``asker`` for what else is needed; raises MissingAnswerError without one.

        ``history`` holds answers given earlier in this same consultation (a resumed
        session), in order: like answers typed now, ``back`` can change them.
        """
        history = history or {}
        asked = [(k, v) for k, v in history.items() if k in self.kb.questions]
        given = {**{k: v for k, v in history.items() if k not in self.kb.questions}, **given}
        self._ticket_values = {}
        while True:
            try:
                return self._consult(given, asked)
            except GoBack:
                # Forget the last answer given here and replay the rest from scratch:
                # everything derived from it is recomputed, as if it had never been given.
                if asked:
                    asked.pop()
            finally:
                self._given, self._asked = dict(given), list(asked)

    def collected(self) -> dict[str, str]:
        """Everything given, answered and typed for the ticket so far, in order: what a
        saved session holds."""
        return {**self._given, **dict(self._asked), **self._ticket_values}

    def _consult(self, given: Mapping[str, str], asked: list[tuple[str, str]]) -> Recommendation:
        from diagnose.engine import Reasoner

        field_ids = {f.id for f in self.kb.ticket_fields}
        answers = {k: v for k, v in given.items() if k in self.kb.questions}
        answers.update(asked)
        checks: dict[str, CheckResult] = {}
        reasoner = Reasoner(self.engine_class)
        for question_id, value in answers.items():
            reasoner.tell_answer(question_id, value)

        def obtain(question_id: str, context: AskContext) -> None:
            value = self._obtain(question_id, context._replace(number=len(asked) + 1), bool(asked))
            answers[question_id] = value
            asked.append((question_id, value))
            reasoner.tell_answer(question_id, value)

        while True:
            best, pending = reasoner.think()
            if not pending:
                break
            need = pending[0]
            waiting = tuple(
                self._rule(p.rule)
                for p in pending
                if (p.kind, p.target) == (need.kind, need.target)
            )
            if need.kind == "question":
                obtain(need.target, AskContext(waiting))
                continue
            binding = self.kb.checks[need.target]
            if binding.input not in answers:
                obtain(binding.input, AskContext(waiting, check=need.target))
            result = self._measure(need.target, answers[binding.input])
            checks[need.target] = result
            reasoner.tell_check(need.target, str(result.status))

        rule = self._rule(best) if best is not None else self._fallback_rule()
        article = self.kb.articles[rule.article]
        ticket = None
        if article.outcome is Outcome.ESCALATION:
            values = {f: given[f] for f in field_ids if f in given}
            ticket = self._ticket(article, values, answers, checks)
        return Recommendation(
            article=article,
            rule=rule,
            steps=self._steps(rule, article, answers, checks),
            answers=dict(answers),
            checks=tuple(checks.values()),
            evidence=self._evidence(rule, answers, checks),
            considered=self._considered(article, rule, answers, checks),
            ticket=ticket,
        )

    def unsolved(self, previous: Recommendation, given: Mapping[str, str]) -> Recommendation:
        """The user says a resolution did not solve it: escalate to support with what is
        known, the tried resolution included."""
        article = self.kb.articles[self.kb.fallback]
        rule = Rule(
            "resolution-did-not-help",
            article.id,
            f"The steps of '{previous.article.id}' did not solve the problem, so support should look at it.",
            (),
        )
        checks = {result.id: result for result in previous.checks}
        values = {f.id: given[f.id] for f in self.kb.ticket_fields if f.id in given}
        ticket = self._ticket(article, values, previous.answers, checks)
        ticket["diagnostics"]["tried"] = previous.article.id
        return Recommendation(
            article=article,
            rule=rule,
            steps=article.steps,
            answers=previous.answers,
            checks=previous.checks,
            evidence=(
                *previous.evidence,
                Evidence(
                    f"the steps of {previous.article.id} were tried",
                    "you said they did not solve it",
                ),
            ),
            considered=previous.considered,
            ticket=ticket,
        )

    def _rule(self, rule_id: str) -> Rule:
        return self._rules_by_id()[rule_id]

    def _rules_by_id(self) -> dict[str, Rule]:
        # Indexed once per consultation: a linear search per waiting rule made the
        # reasoning loop quadratic in the number of rules.
        if self._by_id is None:
            self._by_id = {rule.id: rule for rule in self.kb.rules}
        return self._by_id

    def _rules_by_article(self) -> dict[str, list[Rule]]:
        if self._by_article is None:
            self._by_article = {}
            for rule in self.kb.rules:
                self._by_article.setdefault(rule.article, []).append(rule)
        return self._by_article

    def _fallback_rule(self) -> Rule:
        # Only reached when no rule concludes (a knowledge base without a rule whose
        # conditions are empty): recommend the fallback article all the same.
        return Rule("fallback", self.kb.fallback, "No rule applies to what is known.", ())

    def _obtain(self, question_id: str, context: AskContext, can_go_back: bool) -> str:
        question = self.kb.questions[question_id]
        if self.asker is None:
            raise MissingAnswerError(
                f"The question '{question_id}' needs an answer: give --answer "
                f"{question_id}=VALUE ({legal_values(question)}).",
                question_id,
            )
        return self.asker.ask(question, context._replace(can_go_back=can_go_back))

    def _measure(self, check_id: str, value: str) -> CheckResult:
        spec = CHECKS_BY_ID[check_id]
        if value == UNKNOWN:
            return CheckResult(
                check_id, Status.SKIP, f"Not checked: {spec.description} is unknown."
            )
        key = (check_id, value)
        if key not in self._check_cache:
            report = self.asker.checking(spec.description, value) if self.asker else None
            result = spec.load().run(value, self.dns)
            if report is not None:
                report(result)
            self._check_cache[key] = result
        return self._check_cache[key]

    # --- what the recommendation says ----------------------------------------------
    def _steps(
        self,
        rule: Rule,
        article: Article,
        answers: Mapping[str, str],
        checks: Mapping[str, CheckResult],
    ) -> tuple[str, ...]:
        facts = _Facts(answers)
        facts.update({check_id: result.message for check_id, result in checks.items()})
        advice = tuple(line.format_map(facts) for line in rule.advice)
        return advice + article.steps

    @staticmethod
    def _fact(condition_kind: str, target: str, answers, checks) -> str | None:
        if condition_kind == "question":
            return answers.get(target)
        result = checks.get(target)
        return None if result is None else str(result.status)

    def _evidence(self, rule: Rule, answers, checks) -> tuple[Evidence, ...]:
        items = []
        for condition in rule.when:
            value = self._fact(condition.kind, condition.target, answers, checks)
            if condition.kind == "question":
                fact = f"you answered {condition.target} = {value}"
            else:
                fact = f"the live check {condition.target} gave {value}: {checks[condition.target].message}"
            items.append(Evidence(condition.describe(), fact))
        if not rule.when:
            items.append(Evidence("(none)", rule.rationale))
        return tuple(items)

    def _considered(
        self, chosen: Article, chosen_rule: Rule, answers, checks
    ) -> tuple[Considered, ...]:
        result = []
        for article in self.kb.articles.values():
            if article.id == chosen.id:
                continue
            best: tuple[int, int, Considered] | None = None
            for rule in self._rules_by_article().get(article.id, ()):
                progress, reason = 0, ""
                for progress, condition in enumerate(rule.when):  # noqa: B007
                    value = self._fact(condition.kind, condition.target, answers, checks)
                    if value is None:
                        reason = (
                            f"not reached: {condition.describe()} was never needed, "
                            f"because rule {chosen_rule.id} applied first"
                        )
                        break
                    if not condition.matches(value):
                        reason = f"ruled out: needs {condition.describe()}, but it is {value}"
                        break
                else:
                    progress = len(rule.when)
                    reason = f"its conditions hold, but rule {chosen_rule.id} ranks before it"
                candidate = (progress, -rule.rank, Considered(article.id, rule.id, reason))
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
            if best is not None:
                result.append(best[2])
        return tuple(result)

    def _ticket(self, article: Article, values: dict[str, str], answers, checks) -> dict[str, Any]:
        for field_id in article.ticket:
            if field_id in values:
                continue
            ticket_field = next(f for f in self.kb.ticket_fields if f.id == field_id)
            if self.asker is not None:
                value = self.asker.ask_ticket(ticket_field)
                if value:
                    values[field_id] = value
                    self._ticket_values[field_id] = value
        channel = self.kb.channel(article.channel) if article.channel else self.kb.channels[0]
        return {
            "subject": article.title,
            "channel": _channel_dict(channel),
            "channels": [_channel_dict(c) for c in self.kb.channels],
            **{field_id: values.get(field_id) for field_id in article.ticket},
            "diagnostics": {
                "article": article.id,
                "answers": dict(answers),
                "checks": [result.to_dict() for result in checks.values()],
            },
        }


def _channel_dict(channel) -> dict[str, str]:
    return {
        "id": channel.id,
        "name": channel.name,
        "address": channel.address,
        "hours": channel.hours,
    }
