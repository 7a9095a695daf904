"""Russian and English: the language chosen, the catalogs in step with the code, click's
own words translated, Russian plurals, answers understood in either language."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diagnose import i18n
from diagnose.conversation.answers import parse_answer, parse_yes_no
from diagnose.kb.loader import load

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import catalog  # noqa: E402


def test_the_catalogs_are_in_step_with_the_code():
    # A new or changed message in the code, a help text, an untranslated entry or a
    # .mo not compiled from its .po: each is one line here.
    assert catalog.problems() == []


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LC_ALL": "C", "LANG": "ru_RU.UTF-8"}, "en"),  # the first variable set decides
        ({"LC_MESSAGES": "ru_RU", "LANG": "en_US.UTF-8"}, "ru"),
        ({"LANGUAGE": "de:ru:en", "LANG": "en_US.UTF-8"}, "ru"),
        ({"LANGUAGE": "", "LANG": "ru_RU.UTF-8"}, "ru"),  # empty: not set
        ({"DIAGNOSE_LANG": "en", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"DIAGNOSE_LANG": "ru", "LC_ALL": "C"}, "ru"),
        ({"DIAGNOSE_LANG": "xx", "LANG": "ru_RU.UTF-8"}, "ru"),  # not spoken: ignored
    ],
)
def test_the_language_comes_from_the_environment(environ, expected):
    assert i18n.from_environment(environ) == expected


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in i18n.VARIABLES}
    return subprocess.run(
        [sys.executable, "-m", "diagnose", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=60,
        check=False,
    )


def test_help_in_russian_click_words_included():
    done = run("--lang", "ru", "--help")
    assert done.returncode == 0
    out = done.stdout
    assert out.startswith("Использование: diagnose")
    assert "Параметры:" in out and "Команды:" in out
    assert "Показать эту справку и выйти." in out and "Показать версию и выйти." in out
    assert "Разобраться с проблемой облачного аккаунта" in out
    assert "Usage:" not in out and "Show this message" not in out
    english = run("--help", env={"LANG": "en_US.UTF-8"}).stdout
    assert english.startswith("Usage: diagnose") and "Show this message and exit." in english


def test_the_locale_chooses_russian_and_lang_overrides_it():
    russian = run("kb", "--help", env={"LANG": "ru_RU.UTF-8"}).stdout
    assert "Проверить базу знаний." in russian
    english = run("--lang", "en", "kb", "--help", env={"LANG": "ru_RU.UTF-8"}).stdout
    assert "Validate a knowledge base." in english


def test_click_errors_come_in_the_chosen_language_and_a_bad_lang_is_exit_2():
    done = run("--lang", "ru", "run", "--nope")
    assert done.returncode == 2
    # One line, as every error (README.md, "Exit codes"), in Russian.
    assert done.stderr.startswith("diagnose: ошибка: Нет параметра '--nope'.")
    assert len(done.stderr.splitlines()) == 1
    bad = run("--lang", "xx", "--help")
    assert bad.returncode == 2 and "'xx' is not one of 'en', 'ru'" in bad.stderr


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "1 правило"),
        (2, "2 правила"),
        (5, "5 правил"),
        (11, "11 правил"),
        (21, "21 правило"),
        (22, "22 правила"),
    ],
)
def test_russian_plural_forms(n, expected):
    i18n.activate("ru")
    assert i18n.ngettext("{n} rule", "{n} rules", n).format(n=n) == expected


def test_kb_check_counts_in_russian():
    done = run("--lang", "ru", "kb", "check")
    assert done.returncode == 0
    assert done.stdout.rstrip().endswith("11 статей, 8 вопросов, 25 правил: в порядке")


def test_yes_no_and_unknown_in_either_language():
    assert [parse_yes_no(word) for word in ("да", "Да", "Д", "нет", "НЕТ", "yes", "n")] == [
        "yes",
        "yes",
        "yes",
        "no",
        "no",
        "yes",
        "no",
    ]
    question = load().questions["goal"]
    assert parse_answer(question, "не знаю") == "unknown"


def test_a_choice_is_understood_by_its_label(tmp_path):
    question = load().questions["goal"]
    assert parse_answer(question, "  sign in TO my   account ") == "sign-in"
    labelled = question.choices[0]._replace(labels=("Войти в аккаунт",))
    russian = question._replace(choices=(labelled, *question.choices[1:]))
    assert parse_answer(russian, "войти в аккаунт") == "sign-in"


def test_scripted_json_in_both_languages_keeps_the_ids():
    args = ["run", "--no-input", "--format", "json", "-a", "goal=resources"]
    args += ["-a", "resources-problem=quota"]
    english = json.loads(run(*args).stdout)
    russian = json.loads(run("--lang", "ru", *args).stdout)
    assert english["lang"] == "en" and russian["lang"] == "ru"
    for key in ("article", "rule", "answers", "outcome"):
        assert english[key] == russian[key]
    assert english["title"] == "Raising resource quotas"
    assert russian["title"] == "Расширение квот ресурсов"
    assert russian["evidence"]["conditions"][0]["fact"].startswith("ваш ответ: goal = resources")


def test_listings_in_both_languages():
    russian = run("--lang", "ru", "questions").stdout
    assert "goal (выбор варианта): Что вы хотите сделать?" in russian and "Не знаю" in russian
    english = run("questions").stdout
    assert "goal (choice): What are you trying to do?" in english and "I don't know" in english
    assert "Расширение квот ресурсов" in run("--lang", "ru", "articles").stdout


def test_kb_check_names_every_text_missing_a_language(tmp_path):
    from conftest import edited_kb

    directory = edited_kb(
        tmp_path,
        "questions.toml",
        'prompt = { en = "What are you trying to do?", ru = "Что вы хотите сделать?" }',
        'prompt = "What are you trying to do?"',
    )
    path = directory / "questions.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            'help.ru = "Выберите, что вы пытались сделать, когда возникла проблема."\n', ""
        ),
        encoding="utf-8",
    )
    done = run("kb", "check", "--rules", str(directory))
    assert done.returncode == 1
    assert (
        f"{path}: question 'goal': the field 'prompt' is in one language only; the "
        "knowledge base declares 2: write it as { en = ..., ru = ... }."
    ) in done.stderr
    assert f"{path}: question 'goal': the field 'help' has no Russian (ru) text." in done.stderr
    # Meanwhile a consultation in Russian shows the fallback's text, and goes on.
    russian = run("--lang", "ru", "questions", "--rules", str(directory))
    assert (
        russian.returncode == 0
        and "goal (выбор варианта): What are you trying to do?" in russian.stdout
    )


def test_the_authors_tools_speak_russian():
    done = run("--lang", "ru", "kb", "test")
    assert done.returncode == 0 and done.stdout.rstrip().endswith("пройдено: 25, не пройдено: 0.")
    explained = run("--lang", "ru", "kb", "explain", "lost-2fa").stdout
    assert "Сюда ведёт 1 путь." in explained and "По правилу «lost-second-factor»" in explained


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.json", "{not json", "— некорректный JSON"),
        ("a.toml", "goal = ", "— некорректный TOML"),
        ("a.json", "[1, 2]", "должен содержать объект"),
        ("a.json", '{"goal": ["sign-in"]}', "у «goal» значение не текстовое"),
        ("a.json", "[" * 5000 + "]" * 5000, "слишком глубокая вложенность"),
        ("a.toml", "goal = " + "9" * 5000, "в нём есть число длиннее 4300 цифр"),
    ],
)
def test_a_broken_answers_file_is_named_in_russian(cli, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    result = cli("--lang", "ru", "run", "--answers", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith("diagnose: ошибка: ")
    assert "файле ответов " + str(path) in result.stderr.replace("Файл ", "файле ")
    assert message in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ("482913", "Похоже на одноразовый код."),
        ("мой пароль qwerty123", "Похоже, в тексте есть пароль (после «пароль») — удалите его."),
        ("код из смс 4821", "Похоже, в тексте есть одноразовый код (после «код»)"),
    ],
)
def test_a_secret_is_refused_in_russian(cli, description, message):
    result = cli(
        "--lang", "ru", "run", "--no-input", "-a", "goal=other", "-a", f"description={description}"
    )
    assert result.exit_code == 2
    assert message in result.stderr and description not in result.stdout


def test_a_failed_article_is_explained_in_russian():
    from conftest import walk

    from diagnose.conversation.steps import AskField, Confirm

    i18n.activate("ru")
    script = {"goal": "sign-in", "sign-in-problem": "forgot-password"}
    conversation, state, step = walk(script, lang="ru")
    assert isinstance(step, Confirm)
    state = conversation.answer(state, step, "нет")
    step = conversation.next(state)
    assert isinstance(step, AskField)
    evidence = [tuple(e) for e in step.recommendation.evidence]
    assert ("статья forgot-password уже была предложена", "вы ответили, что она не помогла") in (
        evidence
    )


def test_a_wrong_reply_at_the_draft_review_is_answered_in_russian():
    from conftest import walk

    from diagnose.conversation.steps import Review
    from diagnose.exceptions import AnswerError

    i18n.activate("ru")
    conversation, state, step = walk({"goal": "resources", "resources-problem": "quota"}, "ru")
    assert isinstance(step, Review)
    with pytest.raises(AnswerError) as raised:
        conversation.answer(state, step, "абв")
    assert str(raised.value).startswith("«абв» — не поле черновика: введите номер поля (1–6)")


def test_the_lazy_catalog_reads_every_entry_as_gettext_does():
    import gettext

    from babel.messages.pofile import read_po

    path = i18n.catalog_path("ru")
    with open(path, "rb") as handle:
        data = handle.read()
    ours = i18n.MoCatalog(data)
    with open(path, "rb") as handle:
        stdlib = gettext.GNUTranslations(handle)
    with open(path.replace(".mo", ".po"), "rb") as handle:
        entries = [m for m in read_po(handle) if m.id]
    assert len(entries) > 500
    for message in entries:
        if isinstance(message.id, tuple):
            singular, plural = message.id
            for n in (*range(0, 130), 1001, 1011, 1021):
                assert ours.ngettext(singular, plural, n) == stdlib.ngettext(singular, plural, n)
        else:
            assert ours.gettext(message.id) == stdlib.gettext(message.id) == message.string


def _shipped_russian() -> dict[str, str]:
    from babel.messages.pofile import read_po

    with open(i18n.catalog_path("ru").replace(".mo", ".po"), "rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id and isinstance(m.id, str)}


SHIPPED = _shipped_russian()


@given(st.one_of(st.sampled_from(sorted(SHIPPED)), st.text(max_size=80)))
def test_the_lazy_catalog_finds_each_message_and_returns_others_unchanged(text):
    catalog = i18n.MoCatalog(Path(i18n.catalog_path("ru")).read_bytes())
    assert catalog.gettext(text) == SHIPPED.get(text, text)


def test_a_broken_catalog_speaks_english_without_a_traceback(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="not a gettext catalog"):
        i18n.MoCatalog(b"garbage, not a catalog")
    broken = tmp_path / "ru" / "LC_MESSAGES"
    broken.mkdir(parents=True)
    (broken / "diagnose.mo").write_bytes(b"garbage, not a catalog")
    monkeypatch.setattr(i18n, "LOCALE_DIR", str(tmp_path))
    monkeypatch.setattr(i18n, "_catalogs", {})
    with i18n.speaking("ru"):
        assert i18n._("Commands") == "Commands"
        assert i18n.ngettext("{n} day", "{n} days", 5) == "{n} days"
