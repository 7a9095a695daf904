"""The knowledge-base authors' tools: ``kb check``'s deeper findings, ``kb graph`` and
``kb test``, driven through the CLI as a support engineer runs them."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from click.testing import CliRunner
from conftest import edited_kb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnose.cli import cli as diagnose_cli
from diagnose.kb.loader import default_rules_dir, load

ROOT = Path(__file__).resolve().parents[1]

CATCH_ALL = """[[rule]]
id = "catch-all"
article = "not-found"
rationale = "Anything."
when = []

"""


def small_kb(tmp_path: Path, questions: str, rules: str) -> Path:
    """A knowledge base of its own: yes/no questions q1..qn, articles a and fallback."""
    directory = tmp_path / "small"
    directory.mkdir(parents=True)
    (directory / "kb.toml").write_text(
        """[support]
name = "t"
fallback = "fallback"

[[channel]]
id = "portal"
name = "Portal"
address = "https://example.com"
hours = "always"

[[article]]
id = "a"
title = "Article A"
outcome = "information"
summary = "s"
steps = ["x"]

[[article]]
id = "fallback"
title = "Ask support"
outcome = "escalation"
channel = "portal"
summary = "s"
steps = ["y"]
"""
        + questions
        + rules
        + """
[[rule]]
id = "rest"
article = "fallback"
rationale = "Anything else."
when = []
""",
        encoding="utf-8",
    )
    return directory


def yesno(*ids: str) -> str:
    return "".join(f'\n[[question]]\nid = "{q}"\ntype = "yesno"\nprompt = "{q}?"\n' for q in ids)


# --- kb check --------------------------------------------------------------------------


def test_the_shipped_knowledge_base_passes_strict_checks(cli):
    result = cli("kb", "check", "--strict")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith("25 rules: OK\n") and result.stderr == ""


def test_a_catch_all_moved_to_the_top_hides_every_other_rule(cli, tmp_path):
    anchor = '[[rule]]\nid = "forgotten-password"'
    directory = edited_kb(tmp_path, "rules.toml", anchor, CATCH_ALL + anchor)
    result = cli("kb", "check", "--rules", str(directory))
    assert result.exit_code == 1
    assert (
        "rule 'forgotten-password': it can never conclude: the earlier rule 'catch-all' "
        "concludes whenever it would" in result.stderr
    )
    assert result.stderr.count("can never conclude") == 25  # every rule after it
    assert "Traceback" not in result.stderr


def test_a_rule_narrowed_by_an_earlier_one_is_shadowed_and_the_reverse_is_not(cli, tmp_path):
    rules = """
[[rule]]
id = "broad"
article = "a"
rationale = "q1 yes."
when = [{ question = "q1", is = "yes" }]

[[rule]]
id = "narrow"
article = "a"
rationale = "q1 yes and q2 no."
when = [{ question = "q1", is = "yes" }, { question = "q2", is_not = ["yes", "unknown"] }]
"""
    result = cli("kb", "check", "--rules", str(small_kb(tmp_path, yesno("q1", "q2"), rules)))
    assert result.exit_code == 1
    assert "rule 'narrow': it can never conclude: the earlier rule 'broad'" in result.stderr
    assert "rule 'broad'" not in result.stderr.replace("earlier rule 'broad'", "")
    swapped = tmp_path / "swapped"
    swapped.mkdir()
    reordered = rules.split("\n[[rule]]")
    rules_swapped = "\n[[rule]]" + reordered[2] + "\n[[rule]]" + reordered[1]
    fine = cli("kb", "check", "--rules", str(small_kb(swapped, yesno("q1", "q2"), rules_swapped)))
    assert fine.exit_code == 0, fine.stderr


def test_contradicting_conditions_are_an_error(cli, tmp_path):
    rules = """
[[rule]]
id = "impossible"
article = "a"
rationale = "q1 both yes and no."
when = [{ question = "q1", is = "yes" }, { question = "q1", is = "no" }]
"""
    result = cli("kb", "check", "--rules", str(small_kb(tmp_path, yesno("q1"), rules)))
    assert result.exit_code == 1
    assert (
        "rule 'impossible': it can never conclude: its conditions on the answer to 'q1' "
        "exclude each other." in result.stderr
    )


def test_a_check_of_an_unknown_answer_is_never_measured(cli, tmp_path):
    anchor = '  { check = "email-address", is = "skip" },'
    directory = edited_kb(
        tmp_path,
        "rules.toml",
        anchor,
        '  { question = "support-email", is = "unknown" },\n  { check = "email-address", is = "pass" },',
    )
    result = cli("kb", "check", "--rules", str(directory))
    assert result.exit_code == 1
    assert (
        "it needs the answer to 'support-email' to be unknown, and then the check "
        "'email-address' is skipped, never pass" in result.stderr
    )


def test_choice_ids_that_cannot_be_typed_or_clash_with_the_prompt(cli, tmp_path):
    anchor = (
        """  { id = "forgot-password", """
        """label = { en = "I don't remember my password", ru = "Не помню пароль" } },"""
    )
    extra = [
        '  { id = "Yes-Please", label = { en = "Yes please", ru = "Да, пожалуйста" } },',
        '  { id = "back", label = { en = "Go back", ru = "Назад" } },',
        '  { id = "2", label = { en = "Two", ru = "Два" } },',
        '  { id = "explain", label = { en = "Explain", ru = "Объяснить" } },',
    ]
    directory = edited_kb(tmp_path, "questions.toml", anchor, "\n".join([anchor, *extra]))
    result = cli("kb", "check", "--rules", str(directory))
    assert result.exit_code == 1
    err = result.stderr
    assert "the choice id 'Yes-Please' cannot be typed" in err
    assert "the choice id 'back' is a word every prompt obeys itself" in err
    assert "the choice id '2' is a number" in err
    assert "the choice id 'explain' is a word every prompt obeys itself" in err


def test_a_choice_no_rule_handles_is_a_warning_and_strict_fails_on_it(cli, tmp_path):
    anchor = (
        """  { id = "forgot-password", """
        """label = { en = "I don't remember my password", ru = "Не помню пароль" } },"""
    )
    directory = edited_kb(
        tmp_path,
        "questions.toml",
        anchor,
        anchor
        + '\n  { id = "locked", label = { en = "My account is locked", ru = "Аккаунт заблокирован" } },',
    )
    relaxed = cli("kb", "check", "--rules", str(directory))
    assert relaxed.exit_code == 0
    warning = (
        "diagnose: warning: "
        f"{directory / 'questions.toml'}: question 'sign-in-problem': no rule handles the "
        "choice locked: it falls to the fallback article 'not-found'."
    )
    assert warning in relaxed.stderr and "0 errors, 1 warning" in relaxed.stdout
    strict = cli("kb", "check", "--strict", "--rules", str(directory))
    assert strict.exit_code == 1
    data = json.loads(cli("kb", "check", "--format", "json", "--rules", str(directory)).stdout)
    assert data["ok"] is True and data["errors"] == []
    assert [w["level"] for w in data["warnings"]] == ["warning"]


def test_an_article_behind_five_questions_is_a_warning(cli, tmp_path):
    questions = yesno("q1", "q2", "q3", "q4", "q5")
    conditions = ", ".join(f'{{ question = "q{n}", is = "yes" }}' for n in range(1, 6))
    rules = f"""
[[rule]]
id = "deep"
article = "a"
rationale = "All five."
when = [{conditions}]
"""
    result = cli("kb", "check", "--strict", "--rules", str(small_kb(tmp_path, questions, rules)))
    assert result.exit_code == 1
    assert "article 'a': it needs 5 diagnostic questions to reach" in result.stderr
    shallow = rules.replace(', { question = "q5", is = "yes" }', "")
    fine = small_kb(tmp_path / "x", yesno("q1", "q2", "q3", "q4"), shallow)
    result = cli("kb", "check", "--strict", "--rules", str(fine))
    assert result.exit_code == 0, result.stderr


# --- kb graph --------------------------------------------------------------------------


def test_the_graph_names_every_question_check_rule_and_article(cli):
    kb = load()
    mermaid = cli("kb", "graph").stdout
    dot = cli("kb", "graph", "--format", "dot").stdout
    assert mermaid.startswith("flowchart LR\n") and dot.startswith("digraph knowledge_base {")
    for text in (mermaid, dot):
        for rule in kb.rules:
            assert f"{rule.id}" in text
        for article in kb.articles.values():
            assert f"({article.id})" in text
        for check in kb.checks:
            assert f"live check {check}" in text
        for question in kb.questions.values():
            if question.id not in {b.input for b in kb.checks.values()}:
                assert f"({question.id})" in text
    # The decision tree: the first question once, one edge per answer out of it.
    assert mermaid.count("What are you trying to do? (goal)") == 1
    assert '-->|"sign-in"|' in mermaid and '-->|"pass / warn"|' in mermaid


def test_the_graph_escapes_what_an_author_wrote(cli, tmp_path):
    questions = (
        '\n[[question]]\nid = "q1"\ntype = "yesno"\nprompt = "Is it \\"quoted\\" <b>#1</b> | x?"\n'
    )
    rules = '\n[[rule]]\nid = "r"\narticle = "a"\nrationale = "x"\nwhen = [{ question = "q1", is = "yes" }]\n'
    directory = small_kb(tmp_path, questions, rules)
    mermaid = cli("kb", "graph", "--rules", str(directory)).stdout
    assert "Is it #quot;quoted#quot; #lt;b#gt;#35;1#lt;/b#gt; #124; x?" in mermaid
    dot = cli("kb", "graph", "--format", "dot", "--rules", str(directory)).stdout
    assert 'label="Is it \\"quoted\\" <b>#1</b> | x? (q1)"' in dot


def test_readme_shows_the_shipped_graph(cli):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "```mermaid\n" + cli("kb", "graph").stdout + "```" in readme


# --- kb test -----------------------------------------------------------------------------


def test_the_shipped_scenarios_pass_and_reach_every_rule(cli):
    result = cli("kb", "test", "--format", "json")
    assert result.exit_code == 0, result.stdout
    data = json.loads(result.stdout)
    assert data["failed"] == [] and data["uncovered"] == []
    assert len(data["passed"]) >= len(load().rules)
    text = cli("kb", "test")
    assert text.stdout.endswith(f"{len(data['passed'])} passed, 0 failed.\n")


def scenario_kb(tmp_path: Path, scenario: str) -> Path:
    directory = tmp_path / "kb"
    shutil.copytree(default_rules_dir(), directory, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.rmtree(directory / "scenarios")
    (directory / "scenarios").mkdir()
    (directory / "scenarios" / "mine.toml").write_text(scenario, encoding="utf-8")
    return directory


def test_a_failing_scenario_says_what_was_reached_and_by_which_path(cli, tmp_path):
    directory = scenario_kb(
        tmp_path,
        """[[scenario]]
name = "wrong"
answers = { goal = "sign-in", sign-in-problem = "forgot-password" }
expect = "lost-2fa"
""",
    )
    result = cli("kb", "test", "--rules", str(directory))
    assert result.exit_code == 1
    assert (
        "FAIL  wrong: expected 'lost-2fa', reached 'forgot-password' by rule "
        "'forgotten-password' (goal = sign-in, sign-in-problem = forgot-password)."
    ) in result.stdout
    assert "Rules no scenario reaches: lost-second-factor," in result.stdout
    data = json.loads(cli("kb", "test", "--format", "json", "--rules", str(directory)).stdout)
    assert data["passed"] == [] and data["failed"][0]["reached"] == "forgot-password"
    assert (
        "forgotten-password" not in data["uncovered"] and "lost-second-factor" in data["uncovered"]
    )


def test_scenarios_that_stop_short_say_why(cli, tmp_path):
    directory = scenario_kb(
        tmp_path,
        """[[scenario]]
name = "half"
answers = { goal = "sign-in" }
expect = "lost-2fa"

[[scenario]]
name = "no check given"
answers = { goal = "contact-support", support-need = "letters-missing" }
expect = "support-mail-not-received"

[[scenario]]
name = "right rule"
answers = { goal = "contact-support", support-need = "letters-missing" }
checks = { email-address = "pass", mail-domain = "fail" }
expect = "support-mail-not-received"
rule = "letters-to-broken-domain"
""",
    )
    result = cli("kb", "test", "--rules", str(directory))
    assert result.exit_code == 1
    out = result.stdout
    assert (
        "FAIL  half: the consultation asks 'sign-in-problem', which the scenario does not answer (it answers goal = sign-in)."
        in out
    )
    assert (
        "FAIL  no check given: the consultation asks 'support-email' for the check 'email-address'"
        in out
    )
    assert "PASS  right rule" in out and "1 passed, 2 failed." in out


def test_broken_scenario_files_are_listed_with_exit_1(cli, tmp_path):
    directory = scenario_kb(
        tmp_path,
        """[[scenario]]
name = "bad"
answers = { goal = "nowhere" }
checks = { dns = "pass", mail-domain = "great" }
expect = "nope"
rule = "forgotten-password"
colour = "blue"
""",
    )
    result = cli("kb", "test", "--rules", str(directory))
    assert result.exit_code == 1 and result.stdout == ""
    err = result.stderr
    assert "scenario 'bad': unknown field 'colour'." in err
    assert "'nowhere' is not an answer to 'goal'" in err
    assert "unknown check 'dns'" in err and "'great' is not a check status" in err
    assert "'expect' must name an article" in err
    assert "Traceback" not in err
    (directory / "scenarios" / "mine.toml").unlink()
    empty = cli("kb", "test", "--rules", str(directory))
    assert empty.exit_code == 1 and "holds no scenario (*.toml) files." in empty.stderr


def as_toml(table: dict) -> str:
    """A [[scenario]] table in TOML (JSON strings and numbers are TOML ones too)."""
    lines = ["[[scenario]]"]
    for key, value in table.items():
        if isinstance(value, dict):
            pairs = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in value.items())
            lines.append(f"{json.dumps(key)} = {{ {pairs} }}")
        else:
            lines.append(f"{json.dumps(key)} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


KEYS = ["name", "answers", "checks", "expect", "rule", "x"]
KNOWN = ["goal", "sign-in", "forgot-password", "mail-domain", "pass", "not-found", "unknown"]
WORDS = st.one_of(st.sampled_from(KNOWN), st.text(max_size=12))
VALUES = st.one_of(WORDS, st.integers(), st.dictionaries(WORDS, WORDS, max_size=3))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(st.text(max_size=300), st.dictionaries(st.sampled_from(KEYS), VALUES).map(as_toml))
)
def test_any_scenario_file_passes_fails_or_is_listed_never_a_traceback(text):
    with tempfile.TemporaryDirectory() as tmp:
        directory = scenario_kb(Path(tmp), text)
        result = CliRunner().invoke(diagnose_cli, ["kb", "test", "--rules", str(directory)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- kb explain ----------------------------------------------------------------------------


def test_explain_lists_every_path_to_an_article_in_words(cli):
    result = cli("kb", "explain", "support-mail-not-received")
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("Letters from support do not arrive (support-mail-not-received")
    assert "5 paths lead here." in out
    assert "2. By the rule 'letters-to-broken-domain':" in out
    assert "What do you need from the support team? → “I don't receive support's letters”" in out
    assert "(the answer to 'support-email') finds a problem" in out
    data = json.loads(cli("kb", "explain", "support-mail-not-received", "--format", "json").stdout)
    rules = [path["rule"] for path in data["paths"]]
    assert rules == [r.id for r in load().rules if r.article == "support-mail-not-received"]
    assert all(path["reachable"] for path in data["paths"])
    assert data["paths"][1]["steps"][3] == {
        "kind": "check",
        "id": "mail-domain",
        "values": ["fail"],
        "negated": False,
        "text": data["paths"][1]["steps"][3]["text"],
    }


def test_explain_says_when_a_path_is_never_taken(cli, tmp_path):
    anchor = '[[rule]]\nid = "forgotten-password"'
    directory = edited_kb(tmp_path, "rules.toml", anchor, CATCH_ALL + anchor)
    result = cli("kb", "explain", "forgot-password", "--rules", str(directory))
    assert result.exit_code == 0
    assert "Never taken: the earlier rule 'catch-all' concludes whenever it would" in result.stdout


def test_explain_an_unknown_article_is_one_line_and_exit_2(cli):
    result = cli("kb", "explain", "nope")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        "diagnose: error: There is no article 'nope'; the articles are:"
    )


def test_graph_as_json_names_its_nodes_and_edges(cli):
    data = json.loads(cli("kb", "graph", "--format", "json").stdout)
    ids = {node["id"] for node in data["nodes"]}
    assert all(edge["from"] in ids and edge["to"] in ids for edge in data["edges"])
    kinds = {node["kind"] for node in data["nodes"]}
    assert kinds == {"start", "question", "check", "rule", "article"}
    assert sum(node["kind"] == "rule" for node in data["nodes"]) == len(load().rules)
