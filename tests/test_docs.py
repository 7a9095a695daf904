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


def _shape(text: str) -> tuple[list[int], list[str]]:
    """Heading levels in order, and the code blocks verbatim (code is not translated,
    bar comments inside, which are dropped here)."""
    import re

    levels, blocks, inside, block = [], [], False, []
    for line in text.splitlines():
        if line.startswith("```"):
            if inside:
                blocks.append("\n".join(block))
            inside, block = not inside, []
            continue
        if inside:
            block.append(re.sub(r"\s+#.*$", "", line).rstrip())
        elif line.startswith("#"):
            levels.append(len(line) - len(line.lstrip("#")))
    return levels, blocks


def test_readme_ru_is_the_twin_of_readme():
    # README.ru.md has the same sections in the same order and the same code (commands,
    # TOML, JSON, the graph): a section added to one and not the other fails here.
    russian = (Path(__file__).parent.parent / "README.ru.md").read_text(encoding="utf-8")
    assert "README.ru.md" in README and "README.md" in russian
    english_levels, english_blocks = _shape(README)
    russian_levels, russian_blocks = _shape(russian)
    assert russian_levels == english_levels
    assert len(russian_blocks) == len(english_blocks)
    assert "личный кабинет" in russian and "техническ" in russian
