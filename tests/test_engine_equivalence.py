"""The optimized RETE matcher (diagnose.engine._Matcher) reaches exactly the facts that
experta's own matcher reaches, on the shipped knowledge base and on a generated one."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from diagnose.engine import Reasoner, compile_kb
from diagnose.kb.loader import load
from diagnose.kb.model import CHECK_STATUSES, UNKNOWN

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import kbgen


def random_facts(kb, rng: random.Random) -> list[tuple[str, str, str]]:
    """A random, partial set of answers and check results, in a random order."""
    facts = []
    for question in kb.questions.values():
        if rng.random() < 0.6:
            values = question.values or ("some text", UNKNOWN)
            facts.append(("question", question.id, rng.choice(values)))
    for check in kb.checks:
        if rng.random() < 0.5:
            facts.append(("check", check, rng.choice(sorted(CHECK_STATUSES))))
    rng.shuffle(facts)
    return facts


def trace(engine_class, facts) -> list:
    """What the engine concludes and needs after each fact, told one at a time; then
    all at once in a fresh consultation."""
    steps = []
    reasoner = Reasoner(engine_class)
    steps.append((reasoner.think(), sorted(reasoner.needs())))
    for kind, target, value in facts:
        if kind == "question":
            reasoner.tell_answer(target, value)
        else:
            reasoner.tell_check(target, value)
        steps.append((reasoner.think(), sorted(reasoner.needs())))
    at_once = Reasoner(engine_class)
    for kind, target, value in facts:
        (at_once.tell_answer if kind == "question" else at_once.tell_check)(target, value)
    steps.append((at_once.think(), sorted(at_once.needs())))
    # The answers known from the start (a replayed consultation), then the checks.
    answers = {target: value for kind, target, value in facts if kind == "question"}
    up_front = Reasoner(engine_class, answers)
    for kind, target, value in facts:
        if kind == "check":
            up_front.tell_check(target, value)
    steps.append((up_front.think(), sorted(up_front.needs())))
    return steps


@pytest.mark.parametrize("source", ["shipped", "generated"])
def test_same_conclusions_and_needs_as_experta(tmp_path, source):
    kb = load() if source == "shipped" else load(kbgen.write_kb(tmp_path / "kb", 60))
    fast, stock = compile_kb(kb), compile_kb(kb, stock=True)
    rng = random.Random(20261123)
    for _ in range(60):
        facts = random_facts(kb, rng)
        assert trace(fast, facts) == trace(stock, facts), facts


def test_a_pooled_engine_starts_fresh():
    kb = load()
    engine_class = compile_kb(kb)
    first = Reasoner(engine_class)
    first.tell_answer("goal", "sign-in")
    first.tell_answer("sign-in-problem", "lost-2fa")
    assert first.think()[0] == "lost-second-factor"
    del first  # back to the pool
    second = Reasoner(engine_class)
    best, pending = second.think()
    assert best == "no-matching-entry"
    assert [p.target for p in pending] == ["goal"] * len(pending)
