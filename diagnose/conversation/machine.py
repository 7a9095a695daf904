"""The consultation as a step machine: state in, next step out.

``Conversation.next(state)`` replays the state through the engine (a few milliseconds:
the compiled engine is pooled) and returns the one step that comes next: a question, a
live check to run, the confirmation after an article, a ticket field, the draft to
review, or the end. ``Conversation.answer(state, step, text)`` turns what the person
typed at that step into the next state, or raises AnswerError with a sentence to show.
Nothing here prints, reads a terminal or keeps state between calls, so the terminal, a
web page and an HTTP API drive the same conversation.

With ``converse=False`` (scripted runs: ``--no-input``, an API) nothing is confirmed or
reviewed: the recommendation is the end, and ticket fields not given are left empty.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from diagnose.checks.registry import CHECKS_BY_ID
from diagnose.checks.results import CheckResult, Status
from diagnose.checks.settings import DnsSettings
from diagnose.conversation.answers import parse_answer, parse_field, parse_yes_no
from diagnose.conversation.state import State
from diagnose.conversation.steps import Ask, AskField, Confirm, Done, Measure, Review, Step
from diagnose.exceptions import AnswerError
from diagnose.i18n import _
from diagnose.kb.model import (
    UNKNOWN,
    KnowledgeBase,
    Outcome,
    Question,
    QuestionType,
    Rule,
    TicketField,
)

if TYPE_CHECKING:
    # The recommendation's and the ticket's modules are imported when a consultation
    # reaches them, not before its first question.
    from diagnose.conversation.reasoning import Recommendation
    from diagnose.conversation.ticket import Ticket
    from diagnose.engine import Reasoner

#: Question types whose answer a live check measures and a person can mistype.
_CORRECTABLE = frozenset({QuestionType.EMAIL, QuestionType.PHONE, QuestionType.DOMAIN})

#: What keeps the draft at its review, in either language ("Is the draft right?" is
#: answered «да» as naturally as "yes").
_DRAFT_IS_RIGHT = frozenset(
    {"", "ok", "yes", "y", "send", "done", "да", "д", "ок", "верно", "всё верно", "все верно"}
    | {"готово", "отправить"}
)

#: How many reasoners a conversation keeps for the next step (each holds an engine).
_KEPT = 8


class _Told(NamedTuple):
    """A reasoner kept after a step, with everything it was told."""

    answers: dict[str, str]
    statuses: dict[str, Status]
    reasoner: Reasoner


class Conversation:
    """One knowledge base's consultations (stateless: many states may share it)."""

    def __init__(
        self,
        kb: KnowledgeBase,
        engine_class: type,  # engine.engine_for(kb): a compiled experta engine class
        *,
        dns: DnsSettings | None = None,
        converse: bool = True,
    ) -> None:
        self.kb = kb
        self.engine_class = engine_class
        self.dns = dns or DnsSettings()
        self.converse = converse
        self._rules, self._by_article = _indexes(kb)
        self._kept: list[_Told] = []
        self._lock = threading.Lock()

    # --- the next step -------------------------------------------------------------
    def next(self, state: State) -> Step:
        with _collector_paused(self.engine_class):
            diagnosis = self._diagnose(state)
        if isinstance(diagnosis, Ask | Measure):
            return diagnosis
        return self._after(state, diagnosis)

    def _diagnose(self, state: State) -> Ask | Measure | Recommendation:
        answers = state.answers(self.kb.questions)
        told = self._resume(state, answers)
        checks: dict[str, CheckResult] = {}
        for check in told.statuses:  # measured before: _resume made sure they still hold
            known = self._known_check(state, answers, check)
            assert known is not None
            checks[check] = known
        try:
            while True:
                best, pending = told.reasoner.think()
                if not pending:
                    break
                need = pending[0]
                waiting = tuple(
                    self._rules[p.rule]
                    for p in pending
                    if (p.kind, p.target) == (need.kind, need.target)
                )
                ask = Ask(
                    self.kb.questions[need.target]
                    if need.kind == "question"
                    else self.kb.questions[self.kb.checks[need.target].input],
                    number=state.typed_answers() + 1,
                    waiting=waiting,
                    check=None if need.kind == "question" else need.target,
                    can_go_back=state.can_go_back,
                )
                if need.kind == "question" or ask.question.id not in answers:
                    return ask
                value = answers[ask.question.id]
                result = self._known_check(state, answers, need.target)
                if result is None:
                    spec = CHECKS_BY_ID[need.target]
                    return Measure(need.target, spec.description, value, state.can_go_back)
                checks[need.target] = result
                told.statuses[need.target] = result.status
                told.reasoner.tell_check(need.target, str(result.status))
        finally:
            self._keep(told)
        from diagnose.conversation import reasoning
        from diagnose.conversation.reasoning import Recommendation

        rule = self._rules[best] if best is not None else self._fallback_rule()
        article = self.kb.articles[rule.article]
        return Recommendation(
            article=article,
            rule=rule,
            steps=reasoning.advice_steps(rule, article, answers, checks),
            answers=dict(answers),
            checks=tuple(checks.values()),
            evidence=reasoning.evidence(rule, answers, checks),
            why_not=lambda: reasoning.considered(
                self.kb, self._by_article, article, rule, answers, checks
            ),
        )

    # --- replaying a state, or going on from the last step's reasoner ---------------
    def _resume(self, state: State, answers: dict[str, str]) -> _Told:
        """A reasoner that knows ``answers`` and the checks measured for them.

        Replaying the state into a fresh reasoner is always right; but a consultation
        asked one question at a time would replay k answers k times, and each replay
        resets an engine whose size grows with the knowledge base. So the reasoner of
        an earlier step is taken instead when all it was told still holds in ``state``
        (the state only grew since): it is told the new answers and goes on. What it
        concludes and needs is the same either way, because the rules are monotonic
        (facts are only ever added, and a need is dropped once its target is known);
        tests/test_engine_equivalence.py checks exactly that, fact by fact against a
        replay. Taken out under a lock, a reasoner serves one caller at a time.
        """
        from diagnose.engine import Reasoner

        with self._lock:
            for index, told in enumerate(self._kept):
                if self._still_holds(told, state, answers):
                    del self._kept[index]
                    break
            else:
                told = None
        if told is None:
            return _Told(dict(answers), {}, Reasoner(self.engine_class, answers))
        for question, value in answers.items():
            if question not in told.answers:
                told.answers[question] = value
                told.reasoner.tell_answer(question, value)
        return told

    def _still_holds(self, told: _Told, state: State, answers: dict[str, str]) -> bool:
        if any(answers.get(question) != value for question, value in told.answers.items()):
            return False
        for check, status in told.statuses.items():
            result = self._known_check(state, answers, check)
            if result is None or result.status is not status:
                return False
        return True

    def _keep(self, told: _Told) -> None:
        with self._lock:
            self._kept.insert(0, told)
            del self._kept[_KEPT:]

    def _known_check(self, state: State, answers: dict[str, str], check: str) -> CheckResult | None:
        """The result of ``check`` for the answer it measures, if known without a lookup:
        measured earlier in this state, or skipped because the answer is unknown."""
        value = answers.get(self.kb.checks[check].input)
        if value is None:
            return None
        if value == UNKNOWN:
            spec = CHECKS_BY_ID[check]
            return CheckResult(
                check,
                Status.SKIP,
                _("Not checked: {what} is unknown.").format(what=_(spec.description)),
            )
        return state.check_result(check, value)

    def _after(self, state: State, rec: Recommendation) -> Step:
        """What follows a diagnosis: the confirmation, the ticket, the review, the end."""
        if rec.article.outcome is not Outcome.ESCALATION:
            helped = state.reply(Confirm.reply)
            if helped is None:
                if not self.converse:
                    return Done(rec)
                return Confirm(rec, self._correctable(rec), state.can_go_back)
            if helped == "yes":
                return Done(rec)
            rec = self.unsolved(rec)
        fields = self.kb.ticket_fields_for(rec.article)
        values: dict[str, str | None] = {
            f.id: state.given[f.id] for f in fields if f.id in state.given
        }
        values.update(state.ticket_values())
        for index, field in enumerate(fields):
            if field.id not in values and self.converse:
                return AskField(rec, field, index, len(fields), self._default(field, rec))
        rec = rec.with_ticket(self._ticket(rec, fields, values))
        if not self.converse:
            return Done(rec)
        last = state.entries[-1] if state.entries else None
        if last is not None and last.kind == "reply" and last.id == Review.reply:
            if last.value and last.value.startswith("edit:"):
                field_id = last.value.removeprefix("edit:")
                for index, field in enumerate(fields):
                    if field.id == field_id:
                        return AskField(
                            rec, field, index, len(fields), current=values.get(field_id)
                        )
            if last.value == "ok":
                return Done(rec)
        return Review(rec)

    # --- measuring ----------------------------------------------------------------
    def measure(self, step: Measure) -> CheckResult:
        """Run the live check of ``step`` (blocking, bounded by the DNS settings)."""
        return CHECKS_BY_ID[step.check].load().run(step.value, self.dns)

    # --- what the person typed --------------------------------------------------------
    def answer(self, state: State, step: Step, text: str) -> State:
        """The state after ``text`` was typed at ``step``; AnswerError when it is not an
        answer there. Front ends handle the words help, why, back and quit themselves
        (``back`` is ``state.back()``)."""
        if isinstance(step, Ask):
            return state.add("answer", step.question.id, parse_answer(step.question, text))
        if isinstance(step, Confirm):
            try:
                return state.add("reply", Confirm.reply, parse_yes_no(text))
            except AnswerError:
                question = step.correctable
                if question is None or not text.strip():
                    raise
                try:
                    corrected = parse_answer(question, text)
                except AnswerError:
                    corrected = UNKNOWN
                if corrected == UNKNOWN or not _looks_like(question.type, corrected):
                    raise
                return state.reanswer(question.id, corrected)
        if isinstance(step, AskField):
            stripped = text.strip()
            if not stripped and step.default:
                stripped = step.default
            if not stripped or stripped.lower() == UNKNOWN:
                return state.add("ticket", step.field.id, None)
            return state.add("ticket", step.field.id, parse_field(step.field, stripped))
        if isinstance(step, Review):
            choice = text.strip().lower()
            if " ".join(choice.split()) in _DRAFT_IS_RIGHT:
                return state.add("reply", Review.reply, "ok")
            fields = step.recommendation.ticket.values if step.recommendation.ticket else ()
            for number, item in enumerate(fields, start=1):
                if choice in {str(number), item.field.id}:
                    return state.add("reply", Review.reply, f"edit:{item.field.id}")
            from diagnose.secrets import refuse_secret

            refuse_secret(Review.reply, text, bare_codes=False)  # never quoted back
            raise AnswerError(
                _(
                    "'{text}' is not a field of the draft: type its number (1-{n}) to change "
                    "it, or press Enter to keep the draft."
                ).format(text=text.strip(), n=len(fields))
            )
        raise AnswerError(_("Nothing is asked at this step."))

    # --- escalations ------------------------------------------------------------------
    def unsolved(self, previous: Recommendation) -> Recommendation:
        """The person says an article did not help: escalate to support naming it. They
        never read "no FAQ entry matches" after one did."""
        from diagnose.conversation.reasoning import Evidence, Recommendation

        fallback = self.kb.articles[self.kb.fallback]
        title = (
            _("{title}: the answer did not help")
            if previous.article.outcome is Outcome.INFORMATION
            else _("{title}: the steps did not help")
        )
        article = fallback._replace(
            title=title.format(title=previous.article.title),
            summary=_(
                "You tried “{title}” and it did not solve the problem, so support should "
                "look at your case."
            ).format(title=previous.article.title),
        )
        rule = Rule(
            "resolution-did-not-help",
            fallback.id,
            _(
                "The article '{article}' did not solve the problem, so support should look at it."
            ).format(article=previous.article.id),
            (),
        )
        return Recommendation(
            article=article,
            rule=rule,
            steps=fallback.steps,
            answers=previous.answers,
            checks=previous.checks,
            evidence=(
                *previous.evidence,
                Evidence(
                    _("the article {article} was tried").format(article=previous.article.id),
                    _("you said it did not solve the problem"),
                ),
            ),
            why_not=lambda: previous.considered,
            tried=previous.article,
        )

    def _ticket(
        self, rec: Recommendation, fields: tuple[TicketField, ...], values: dict[str, str | None]
    ) -> Ticket:
        from diagnose.conversation.ticket import Ticket, TicketValue

        article = rec.article
        channel = self.kb.channel(article.channel) if article.channel else self.kb.channels[0]
        return Ticket(
            subject=article.title,
            channel=channel,
            channels=self.kb.channels,
            values=tuple(TicketValue(f, values.get(f.id)) for f in fields),
            article=article.id,
            answers=tuple(rec.answers.items()),
            checks=rec.checks,
            tried=rec.tried.id if rec.tried else None,
        )

    def _default(self, field: TicketField, rec: Recommendation) -> str | None:
        if not field.default_from:
            return None
        value = rec.answers.get(field.default_from)
        if value is None or value == UNKNOWN:
            return None
        try:
            return parse_field(field, value)
        except AnswerError:
            return None

    def _correctable(self, rec: Recommendation) -> Question | None:
        for result in rec.checks:
            binding = self.kb.checks.get(result.id)
            if result.status is Status.FAIL and binding is not None:
                question = self.kb.questions[binding.input]
                if question.type in _CORRECTABLE:
                    return question
        return None

    def _fallback_rule(self) -> Rule:
        # Only reached when no rule concludes (a knowledge base without a rule whose
        # conditions are empty): recommend the fallback article all the same.
        return Rule("fallback", self.kb.fallback, _("No rule applies to what is known."), ())

    # --- driving it without a person ----------------------------------------------------
    def run(
        self, state: State, answer: Callable[[Ask], str] | None = None
    ) -> tuple[State, Recommendation]:
        """Step to the end, measuring live checks and asking ``answer`` for questions
        (MissingAnswerError without it). For scripted runs, tests and benchmarks."""
        from diagnose.conversation.answers import missing_answer

        while True:
            step = self.next(state)
            if isinstance(step, Done):
                return state, step.recommendation
            if isinstance(step, Measure):
                state = state.measured(step.check, step.value, self.measure(step))
            elif isinstance(step, Ask):
                if answer is None:
                    raise missing_answer(step.question)
                state = self.answer(state, step, answer(step))
            else:  # pragma: no cover - a scripted conversation confirms nothing
                raise AssertionError(f"a scripted consultation reached {step.kind}")


_INDEXES: dict[int, tuple[KnowledgeBase, dict[str, Rule], dict[str, list[Rule]]]] = {}


def _indexes(kb: KnowledgeBase) -> tuple[dict[str, Rule], dict[str, list[Rule]]]:
    """The rules by id and by article, built once per knowledge base (a front end or
    ``kb test`` makes a conversation per consultation; the knowledge base is shared)."""
    entry = _INDEXES.get(id(kb))
    if entry is None or entry[0] is not kb:
        by_article: dict[str, list[Rule]] = {}
        for rule in kb.rules:
            by_article.setdefault(rule.article, []).append(rule)
        entry = _INDEXES[id(kb)] = (kb, {rule.id: rule for rule in kb.rules}, by_article)
    return entry[1], entry[2]


#: Engine classes whose network has been frozen out of the collector's sight (once each).
_FROZEN: set[int] = set()


@contextlib.contextmanager
def _collector_paused(engine_class: type) -> Iterator[None]:
    """The cyclic garbage collector paused while the engine works.

    A replay allocates many objects and frees them by reference counting, but each
    allocation burst triggers collections, and every full collection walks the pooled
    engine's whole network: with 10,000 rules that made a consultation's cost grow
    faster than the rules (issue 9; bench/run.py, "large"). After the first step of an
    engine class, what is alive (the knowledge base, the compiled network, the pooled
    engine: alive for the whole process by design) is frozen out of later collections
    (``gc.freeze``), which would otherwise walk it all again at the next burst. Once
    per class, not at every step: a long-running server would otherwise freeze each
    request's cyclic garbage for good.
    """
    if not gc.isenabled():  # a caller (a benchmark, a test, another thread) already chose
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if id(engine_class) not in _FROZEN:
            _FROZEN.add(id(engine_class))
            gc.freeze()
        gc.enable()


def _looks_like(qtype: QuestionType, value: str) -> bool:
    """Is a reply at "Did this solve it?" a corrected answer rather than a typo of no?"""
    if qtype is QuestionType.EMAIL:
        return "@" in value
    if qtype is QuestionType.DOMAIN:
        return "." in value
    return True  # a phone number: parse_answer already checked it is one
