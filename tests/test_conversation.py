"""The step machine, driven as a web page or an API would: state in, next step out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import edited_kb
from hypothesis import given
from hypothesis import strategies as st

from diagnose.conversation import ticket as tickets
from diagnose.conversation.machine import Conversation
from diagnose.conversation.state import State, StateError
from diagnose.conversation.steps import Ask, AskField, Confirm, Done, Review
from diagnose.engine import engine_for
from diagnose.exceptions import AnswerError
from diagnose.kb.loader import load

KB = load()


def conversation() -> Conversation:
    return Conversation(KB, engine_for(KB))


def through_json(state: State) -> State:
    """What a stateless front end does between two requests."""
    return State.from_json(json.loads(json.dumps(state.to_json())))


def test_a_whole_escalation_driven_statelessly():
    c = conversation()
    state = State()
    script = {"goal": "resources", "resources-problem": "quota"}
    step = c.next(state)
    while isinstance(step, Ask):
        state = through_json(c.answer(state, step, script[step.question.id]))
        step = c.next(state)
    assert isinstance(step, AskField) and step.field.id == "login"
    assert step.recommendation.article.id == "quota-increase"  # shown before the fields
    values = ["ann@example.com", "", "vCPU", "64", "ru-msk", "We need more."]
    for value in values:
        assert isinstance(step, AskField)
        state = through_json(c.answer(state, step, value))
        step = c.next(state)
    assert isinstance(step, Review)
    state = c.answer(state, step, "5")  # change the region
    step = c.next(state)
    assert isinstance(step, AskField) and step.field.id == "quota-region"
    assert step.current == "ru-msk"
    state = c.answer(state, step, "Moscow")
    assert isinstance(c.next(state), Review)
    state = c.answer(state, c.next(state), "")
    done = c.next(state)
    assert isinstance(done, Done)
    ticket = done.recommendation.ticket
    assert ticket is not None
    data = done.recommendation.to_dict()["ticket"]
    assert data["quota-region"] == "Moscow" and data["project"] is None
    assert [f["id"] for f in data["fields"]] == [
        "login",
        "project",
        "quota-resource",
        "quota-amount",
        "quota-region",
        "description",
    ]
    # Every field reaches every form: Markdown, the mailto body.
    markdown = tickets.to_markdown(ticket)
    assert "**Region:** Moscow" in markdown and "**Quota needed:** 64" in markdown
    assert "Region%3A%2A%2A%20Moscow" in (tickets.mailto(ticket) or "")
    json.dumps(done.to_dict())  # every step has a JSON form


def test_back_steps_the_state_back_at_every_kind_of_step():
    c = conversation()
    state = State(given={"goal": "sign-in"})
    state = c.answer(state, c.next(state), "forgot-password")
    confirm = c.next(state)
    assert isinstance(confirm, Confirm) and confirm.prompt == "Did this solve it?"
    with pytest.raises(AnswerError):
        c.answer(state, confirm, "")  # no silent default
    state = c.answer(state, confirm, "no")
    field = c.next(state)
    assert isinstance(field, AskField)
    assert field.recommendation.article.title.endswith(": the steps did not help")
    assert isinstance(c.next(state.back()), Confirm)
    assert isinstance(c.next(state.back().back()), Ask)
    assert State(given={"goal": "sign-in"}).back().can_go_back is False


def test_scripted_runs_confirm_nothing():
    c = Conversation(KB, engine_for(KB), converse=False)
    _, rec = c.run(State(given={"goal": "resources", "resources-problem": "quota"}))
    assert rec.ticket is not None and rec.ticket.value("login") is None


def test_a_field_id_the_ticket_uses_itself_is_refused_by_kb_check(tmp_path, cli):
    target = edited_kb(tmp_path, "support.toml", 'id = "project"', 'id = "channel"')
    result = cli("kb", "check", "--rules", str(target))
    assert result.exit_code == 1
    assert "the id 'channel' is one of the ticket's own keys" in result.stdout + result.stderr


def test_a_version_one_session_still_resumes(tmp_path):
    old = {"diagnose_session": 1, "answers": {"goal": "register"}, "ticket": {"login": "a@b.c"}}
    state = State.from_json(old)
    assert state.answers(KB.questions) == {"goal": "register"}
    assert state.ticket_values() == {"login": "a@b.c"}


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_any_json_is_a_state_or_one_clear_error(data):
    for candidate in (
        data,
        {"diagnose_session": 2, "entries": data},
        {"diagnose_session": 2, "given": data},
    ):
        try:
            State.from_json(candidate)
        except StateError as error:
            assert str(error).endswith(".")


def test_a_resumed_session_keeps_its_file(tmp_path, monkeypatch):
    from diagnose.conversation import sessions

    monkeypatch.setenv("DIAGNOSE_STATE_DIR", str(tmp_path))
    path = sessions.new_path()
    sessions.save(State(given={"goal": "other"}).add("ticket", "project", None), path)
    assert sessions.load(path).ticket_values() == {"project": None}
    old = tmp_path / "session-20200101-000000-1.json"
    old.write_text("{}")
    import os

    os.utime(old, (0, 0))
    sessions.save(sessions.load(path), path)  # updated in place; the month-old one pruned
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == [path.name]
    sessions.finished(path)
    assert not path.exists()


def walk(c: Conversation, fresh, answers: dict[str, str], moves: list[str]):
    """Every step of a consultation asked one by one, with ``back`` where ``moves``
    says so; each step also computed by a fresh Conversation (a replay), for comparison."""
    state, seen = State(), []
    for move in moves:
        step = c.next(state)
        seen.append((step.to_dict(), fresh().next(state).to_dict()))
        if isinstance(step, Done) or not isinstance(step, Ask):
            break
        if move == "back" and state.can_go_back:
            state = state.back()
        else:
            state = c.answer(state, step, answers.get(step.question.id, "unknown"))
    return seen


def test_going_on_from_the_last_step_is_the_same_as_a_replay(tmp_path):
    # A conversation keeps the reasoner of its last steps and tells it only the new
    # answers; every step must be exactly what a replay of the state gives, backs included.
    import random
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import kbgen
    from test_engine import TRUTH_TABLE

    kbgen.write_kb(tmp_path, 100)
    generated = load(tmp_path)
    rng = random.Random(7)
    cases = [(KB, answers) for answers, _, _ in TRUTH_TABLE]
    cases += [(generated, answers) for answers in kbgen.paths(100)[:10]]
    compared = 0
    for kb, answers in cases:
        c = Conversation(kb, engine_for(kb), converse=False)
        moves = [rng.choice(["answer", "answer", "back"]) for _ in range(12)]

        def fresh(kb=kb):
            return Conversation(kb, engine_for(kb), converse=False)

        for kept, replayed in walk(c, fresh, answers, moves):
            assert kept == replayed
            compared += 1
    assert compared > 2 * len(cases)
