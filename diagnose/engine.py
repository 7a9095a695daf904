"""The rules engine: the only module that imports experta.

A knowledge base is compiled once into a ``KnowledgeEngine`` subclass; every
consultation gets its own instance (experta has no locking: one engine per session).

How the engine reasons (goal-driven, in the style of CLIPS "need" facts): for each
knowledge-base rule with conditions c1..cn, experta gets
  * one conclusion rule: c1 & ... & cn            => Conclusion(rule, rank)
  * n need rules:        c1 & ... & c(i-1) & no fact for ci yet => Need(ci's question or check)
so a question (or a live check) is needed only while some rule whose earlier conditions
all hold waits on it. The consultation asks the best-ranked need whose rule ranks
before the best conclusion so far; when none is left, that conclusion stands.

experta 1.9.4 and Python 3.10+: its pinned frozendict 1.2 subclasses
``collections.Mapping``, which Python 3.10 removed (experta issue #34). The alias below
restores it before experta is imported. Its agenda has a bug: with four or more
activations of equal salience, a cancelled activation can stay and fire, so a rule
fires after its NOT(...) became false. Every compiled rule therefore gets its own
salience (tests/test_engine.py keeps a regression test).
"""

from __future__ import annotations

import collections
import collections.abc
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from diagnose.kb.model import Condition, KnowledgeBase

if not hasattr(collections, "Mapping"):  # pragma: no branch - Python >= 3.10
    collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]

_root_handlers = list(logging.getLogger().handlers)
from experta import AND, NOT, Fact, KnowledgeEngine, P, Rule  # noqa: E402

# Importing experta calls logging.basicConfig(), which adds a stderr handler to the
# root logger; diagnose configures its own output, so undo that side effect.
logging.getLogger().handlers[:] = _root_handlers


class Answer(Fact):
    """question=<id>, value=<answer>"""


class Measured(Fact):
    """check=<id>, status=<pass|warn|fail|error|skip>"""


class Need(Fact):
    """kind=<question|check>, target=<id>, rank=<rule rank>, step=<condition index>"""


class Conclusion(Fact):
    """rule=<id>, rank=<rule rank>"""


@dataclass(frozen=True, order=True)
class Pending:
    """A question or check some rule waits on; orders by the rule's rank, then step."""

    rank: int
    step: int
    kind: str
    target: str
    rule: str


def _matching(condition: Condition):
    values, negated = condition.values, condition.negated

    def test(value: str) -> bool:
        return (value in values) != negated

    if condition.kind == "question":
        return Answer(question=condition.target, value=P(test))
    return Measured(check=condition.target, status=P(test))


def _absent(condition: Condition):
    if condition.kind == "question":
        return NOT(Answer(question=condition.target))
    return NOT(Measured(check=condition.target))


def compile_kb(kb: KnowledgeBase, *, distinct_salience: bool = True) -> type[KnowledgeEngine]:
    """Compile ``kb`` into a KnowledgeEngine subclass (do this once per knowledge base).

    ``distinct_salience=False`` exists only so the tests can show experta's agenda bug.
    """
    attributes: dict[str, object] = {}
    salience = iter(range(0, -1_000_000, -1))

    def add(name: str, patterns: list, action) -> None:
        action.__name__ = name
        weight = next(salience) if distinct_salience else 0
        attributes[name] = Rule(AND(*patterns) if patterns else AND(), salience=weight)(action)

    for rule in kb.rules:
        matched = [_matching(condition) for condition in rule.when]
        for step, condition in enumerate(rule.when):

            def need(self, _c=condition, _rank=rule.rank, _step=step, _rule=rule.id):
                self.declare(
                    Need(kind=_c.kind, target=_c.target, rank=_rank, step=_step, rule=_rule)
                )

            add(f"need__{rule.id}__{step}", [*matched[:step], _absent(condition)], need)

        def conclude(self, _rule=rule.id, _rank=rule.rank):
            self.declare(Conclusion(rule=_rule, rank=_rank))

        add(f"conclude__{rule.id}", matched, conclude)

    return type(f"Engine_{abs(hash(kb.directory)) & 0xFFFF:x}", (KnowledgeEngine,), attributes)


class Reasoner:
    """One consultation's working memory over a compiled engine class."""

    def __init__(self, engine_class: type[KnowledgeEngine]) -> None:
        self._engine = engine_class()
        self._engine.reset()

    def tell_answer(self, question: str, value: str) -> None:
        self._engine.declare(Answer(question=question, value=value))

    def tell_check(self, check: str, status: str) -> None:
        self._engine.declare(Measured(check=check, status=status))

    def think(self) -> tuple[str | None, list[Pending]]:
        """Run to quiescence. Returns the best conclusion's rule id (or None) and the
        pending needs that rank before it, best first."""
        self._engine.run()
        facts = list(self._engine.facts.values())
        known = {("question", f["question"]) for f in facts if isinstance(f, Answer)}
        known |= {("check", f["check"]) for f in facts if isinstance(f, Measured)}
        conclusions = sorted((f["rank"], f["rule"]) for f in facts if isinstance(f, Conclusion))
        best_rank, best_rule = conclusions[0] if conclusions else (None, None)
        pending = sorted(
            Pending(f["rank"], f["step"], f["kind"], f["target"], f["rule"])
            for f in facts
            if isinstance(f, Need)
            and (f["kind"], f["target"]) not in known
            and (best_rank is None or f["rank"] < best_rank)
        )
        return best_rule, pending

    def needs(self) -> Iterable[Pending]:
        """Every need fact in working memory (answered or not); for tests."""
        for fact in self._engine.facts.values():
            if isinstance(fact, Need):
                yield Pending(
                    fact["rank"], fact["step"], fact["kind"], fact["target"], fact["rule"]
                )


_COMPILED: dict[int, tuple[KnowledgeBase, type[KnowledgeEngine]]] = {}


def engine_for(kb: KnowledgeBase) -> type[KnowledgeEngine]:
    """The compiled engine class of ``kb``, compiled once per process."""
    entry = _COMPILED.get(id(kb))
    if entry is None or entry[0] is not kb:
        entry = _COMPILED[id(kb)] = (kb, compile_kb(kb))
    return entry[1]
