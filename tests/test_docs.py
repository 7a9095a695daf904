"""README.md documents what scripted users key on; keep it in step with the knowledge base."""

from __future__ import annotations

from pathlib import Path

from diagnose.kb.loader import load

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_question_value_and_article():
    kb = load()
    for question in kb.questions.values():
        assert f"`{question.id}`" in README, question.id
        for choice in question.choices:
            assert f"`{choice.id}`" in README, f"{question.id}={choice.id}"
    for article in kb.articles.values():
        assert f"| `{article.id}` | {article.outcome} |" in README, article.id
    for field in kb.ticket_fields:
        assert f"`{field.id}`" in README


def test_readme_gives_the_two_setup_commands_that_ci_runs():
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 -m pip install '.[test]' && python3 -m pytest" in README
    assert "pip install --quiet '.[test]'" in ci and "python -m pytest" in ci


def test_readme_and_ci_install_the_browser_the_tests_drive():
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "apt-get install -y chromium chromium-driver" in README
    assert "apt-get install -y -qq chromium chromium-driver" in ci
    assert ci.index("chromium-driver") < ci.index("python -m pytest")
