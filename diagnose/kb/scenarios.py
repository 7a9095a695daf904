"""``diagnose kb test``: expected behaviour of a knowledge base, pinned down in scenarios.

A knowledge base directory may hold ``scenarios/*.toml``, each with ``[[scenario]]``
tables::

    [[scenario]]
    name = "letters to a domain that cannot receive mail"
    answers = { goal = "contact-support", support-need = "letters-missing" }
    checks = { email-address = "pass", mail-domain = "fail" }   # given, never measured
    expect = "support-mail-not-received"                         # the article
    rule = "letters-to-broken-domain"                            # optional

Each scenario runs the real consultation (the step machine over the compiled engine)
with its answers; live checks are not measured but take the statuses given, so
scenarios need no network. A check given without the answer it measures gets a
placeholder answer. The report says what each failing scenario reached instead and by
which path, and which rules no scenario reaches.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from diagnose.checks.results import CheckResult, Status
from diagnose.conversation.machine import Conversation
from diagnose.conversation.state import State
from diagnose.conversation.steps import Ask, Measure
from diagnose.engine import engine_for
from diagnose.exceptions import AnswerError, KnowledgeBaseError, MissingAnswerError
from diagnose.i18n import _
from diagnose.kb.model import CHECK_STATUSES, KnowledgeBase, place

#: A scenario file larger than this is refused (it is hand-written text).
MAX_BYTES = 1 << 20

#: The answer a scenario's check gets when the scenario gives its status only.
PLACEHOLDER = "(given by the scenario)"


@dataclass(frozen=True)
class Scenario:
    name: str
    source: str
    answers: Mapping[str, str]
    checks: Mapping[str, str]
    expect: str
    rule: str | None = None


@dataclass(frozen=True)
class Result:
    """One scenario's run: what it reached (article, rule, the path) and whether that
    is what it expects; ``problem`` when the consultation could not finish."""

    scenario: Scenario
    article: str | None
    rule: str | None
    path: tuple[str, ...]
    problem: str | None = None

    @property
    def passed(self) -> bool:
        expected_rule = self.scenario.rule
        return (
            self.problem is None
            and self.article == self.scenario.expect
            and (expected_rule is None or self.rule == expected_rule)
        )

    def explanation(self) -> str:
        """What was reached instead, and by which path (empty when it passed)."""
        if self.passed:
            return ""
        if self.problem is not None:
            return self.problem
        wanted = f"'{self.scenario.expect}'"
        if self.scenario.rule:
            wanted = _("{article} by rule '{rule}'").format(article=wanted, rule=self.scenario.rule)
        path = ", ".join(self.path) if self.path else _("no condition")
        return _("expected {wanted}, reached '{article}' by rule '{rule}' ({path}).").format(
            wanted=wanted, article=self.article, rule=self.rule, path=path
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.scenario.name,
            "file": self.scenario.source,
            "expect": self.scenario.expect,
            "expect_rule": self.scenario.rule,
            "reached": self.article,
            "rule": self.rule,
            "path": list(self.path),
            "message": self.explanation(),
        }


@dataclass(frozen=True)
class Report:
    results: tuple[Result, ...]
    uncovered: tuple[str, ...]  # rule ids no scenario reaches, in knowledge-base order

    @property
    def failed(self) -> tuple[Result, ...]:
        return tuple(result for result in self.results if not result.passed)

    def to_dict(self) -> dict[str, object]:
        return {
            "passed": [r.scenario.name for r in self.results if r.passed],
            "failed": [r.to_dict() for r in self.failed],
            "uncovered": list(self.uncovered),
        }


# --- reading ------------------------------------------------------------------------


def scenario_files(kb: KnowledgeBase) -> list[Path]:
    return sorted((kb.directory / "scenarios").glob("*.toml"))


def load(kb: KnowledgeBase) -> tuple[Scenario, ...]:
    """Every scenario of ``kb``'s directory, validated against ``kb``.

    Raises KnowledgeBaseError listing every defect (a bad file, an unknown question,
    answer, check, status, article or rule, a duplicate name).
    """
    files = scenario_files(kb)
    if not files:
        raise KnowledgeBaseError(
            [f"{kb.directory / 'scenarios'}: " + _("holds no scenario (*.toml) files.")]
        )
    problems: list[str] = []
    scenarios: list[Scenario] = []
    names: dict[str, str] = {}
    for path in files:
        data = _read(path, problems)
        if data is None:
            continue
        unknown = set(data) - {"scenario"}
        if unknown:
            problems.append(
                f"{path}: "
                + _("unknown table '{table}' (expected [[scenario]]).").format(
                    table=sorted(unknown)[0]
                )
            )
        tables = data.get("scenario", [])
        if not isinstance(tables, list):
            problems.append(
                f"{path}: " + _("'scenario' must be an array of tables: write [[scenario]].")
            )
            continue
        for index, table in enumerate(tables):
            scenario = _scenario(kb, path, index, table, problems)
            if scenario is None:
                continue
            if scenario.name in names:
                problems.append(
                    f"{path}: "
                    + place("scenario", scenario.name)
                    + ": "
                    + _("duplicate name (first in {file}).").format(file=names[scenario.name])
                )
                continue
            names[scenario.name] = str(path)
            scenarios.append(scenario)
    if problems:
        raise KnowledgeBaseError(problems)
    return tuple(scenarios)


def _read(path: Path, problems: list[str]) -> dict[str, Any] | None:
    # Only regular files, and bounded: a FIFO or a device named *.toml must not hang
    # or exhaust memory (opened without blocking: diagnose.fileio.read_bounded_bytes).
    from diagnose.fileio import InputFileError, malformed_reason, read_bounded_bytes, too_deep

    try:
        raw = read_bounded_bytes(path, MAX_BYTES)
    except OSError as error:
        problems.append(
            f"{path}: " + _("cannot be read ({error}).").format(error=error.strerror or error)
        )
        return None
    except InputFileError as error:  # a FIFO, a device, too large
        problems.append(f"{path}: " + _("cannot be read ({error}).").format(error=error))
        return None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        problems.append(f"{path}: " + _("is not UTF-8 text."))
        return None
    except (RecursionError, ValueError) as error:  # TOMLDecodeError, or 5,000 digits
        reason = malformed_reason(error)
    else:
        if not too_deep(data):
            return data
        reason = malformed_reason(RecursionError())
    problems.append(f"{path}: " + _("is not valid TOML: {error}.").format(error=reason))
    return None


def _texts(value: object) -> dict[str, str] | None:
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    return None


def _scenario(
    kb: KnowledgeBase, path: Path, index: int, table: object, problems: list[str]
) -> Scenario | None:
    from diagnose.conversation.answers import validate

    name = table.get("name") if isinstance(table, dict) else None
    if not isinstance(table, dict) or not isinstance(name, str) or not name.strip():
        problems.append(
            f"{path}: "
            + place("scenario", number=index + 1)
            + ": "
            + _("needs a 'name' (a non-empty string).")
        )
        return None
    where = f"{path}: " + place("scenario", name)
    before = len(problems)
    for key in sorted(set(table) - {"name", "answers", "checks", "expect", "rule"}):
        problems.append(f"{where}: " + _("unknown field '{key}'.").format(key=key))
    answers = _texts(table.get("answers", {}))
    checks = _texts(table.get("checks", {}))
    if answers is None:
        problems.append(f"{where}: " + _("'answers' must be a table of question ids to text."))
    else:
        fields = kb.all_ticket_fields()
        for question_id in [q for q in answers if q in fields]:
            problems.append(
                f"{where}: " + _("'{id}' is a ticket field, not a question.").format(id=question_id)
            )
        try:
            answers = validate(kb, {q: v for q, v in answers.items() if q not in fields})
        except AnswerError as error:
            problems.append(f"{where}: {error}")
    if checks is None:
        problems.append(f"{where}: " + _("'checks' must be a table of check ids to statuses."))
    else:
        for check, status in checks.items():
            if check not in kb.checks:
                known = ", ".join(kb.checks) or "none"
                problems.append(
                    f"{where}: "
                    + _("unknown check '{check}' (this knowledge base has {known}).").format(
                        check=check, known=known
                    )
                )
            elif status not in CHECK_STATUSES:
                legal = ", ".join(sorted(CHECK_STATUSES))
                problems.append(
                    f"{where}: "
                    + _("'{status}' is not a check status (legal: {legal}).").format(
                        status=status, legal=legal
                    )
                )
    expect, rule = table.get("expect"), table.get("rule")
    if not isinstance(expect, str) or expect not in kb.articles:
        problems.append(f"{where}: " + _("'expect' must name an article of the knowledge base."))
    if rule is not None:
        rules = {r.id: r for r in kb.rules}
        if not isinstance(rule, str) or rule not in rules:
            problems.append(f"{where}: " + _("'rule' must name a rule of the knowledge base."))
        elif isinstance(expect, str) and rules[rule].article != expect:
            problems.append(
                f"{where}: "
                + _("the rule '{rule}' leads to '{article}', not '{expect}'.").format(
                    rule=rule, article=rules[rule].article, expect=expect
                )
            )
    if len(problems) > before or answers is None or checks is None:
        return None
    assert isinstance(expect, str) and (rule is None or isinstance(rule, str))
    return Scenario(
        name=name,
        source=str(path),
        answers=MappingProxyType(answers),
        checks=MappingProxyType(checks),
        expect=expect,
        rule=rule,
    )


# --- running ----------------------------------------------------------------------------


class _NotGiven(Exception):
    pass


class _Given(Conversation):
    """The consultation of one scenario: live checks take its statuses, and a question
    it does not answer stops the run, saying so."""

    def __init__(self, kb: KnowledgeBase, scenario: Scenario) -> None:
        super().__init__(kb, engine_for(kb), converse=False)
        self.scenario = scenario

    def measure(self, step: Measure) -> CheckResult:
        status = self.scenario.checks.get(step.check)
        if status is None:
            raise _NotGiven(
                _(
                    "the consultation needs the check '{check}', and the scenario gives no "
                    "status for it (scenarios never measure: add it to 'checks')."
                ).format(check=step.check)
            )
        return CheckResult(
            step.check, Status(status), _("Given by the scenario: {status}.").format(status=status)
        )

    def unanswered(self, step: Ask) -> str:
        question = step.question.id
        if step.check:
            raise _NotGiven(
                _(
                    "the consultation asks '{question}' for the check '{check}', and the "
                    "scenario answers neither (give '{check}' in 'checks', or '{question}' "
                    "in 'answers')."
                ).format(question=question, check=step.check)
            )
        given = self.scenario.answers.items()
        asked = ", ".join(f"{q} = {v}" for q, v in given) or _("nothing")
        raise _NotGiven(
            _(
                "the consultation asks '{question}', which the scenario does not answer "
                "(it answers {answered})."
            ).format(question=question, answered=asked)
        )


def run(kb: KnowledgeBase, scenarios: tuple[Scenario, ...]) -> Report:
    """Run every scenario through the real consultation; never measures anything."""
    results: list[Result] = []
    for scenario in scenarios:
        given = dict(scenario.answers)
        for check in scenario.checks:
            given.setdefault(kb.checks[check].input, PLACEHOLDER)
        conversation = _Given(kb, scenario)
        try:
            _, rec = conversation.run(State(given=given), answer=conversation.unanswered)
        except (_NotGiven, MissingAnswerError) as stopped:
            results.append(Result(scenario, None, None, (), problem=f"{stopped}"))
            continue
        facts = {**rec.answers, **{c.id: str(c.status) for c in rec.checks}}
        path = tuple(
            f"{c.target} = {facts.get(c.target, '?')}"
            if c.kind == "question"
            else f"{c.target}: {facts.get(c.target, '?')}"
            for c in rec.rule.when
        )
        results.append(Result(scenario, rec.article.id, rec.rule.id, path))
    reached = {result.rule for result in results if result.rule is not None}
    uncovered = tuple(rule.id for rule in kb.rules if rule.id not in reached)
    return Report(tuple(results), uncovered)
