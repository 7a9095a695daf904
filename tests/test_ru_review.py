"""What a Russian-speaking customer or knowledge-base author found still English (or
English in Russian words), now Russian; English unchanged.

Each runs the real command line in-process (``diagnose --lang ru ...``, as a shell
would type it): the ``--help`` placeholders, click's missing-argument error, the
places ``kb check``/``kb test`` name in a broken knowledge base, ``kb graph``'s own
words, and the other support channels under a ticket draft.
"""

from __future__ import annotations

import re
from pathlib import Path

import pexpect
import test_interactive
from conftest import edited_kb
from test_interactive import ask, transcript

#: The pseudo-terminal fixture of tests/test_interactive.py (a real pty, no colour).
terminal = test_interactive.terminal


def test_help_placeholders_are_russian(cli) -> None:
    top = cli("--lang", "ru", "--help")
    assert top.exit_code == 0
    assert "Использование: diagnose [ПАРАМЕТРЫ] КОМАНДА [АРГУМЕНТЫ]..." in top.stdout

    mail = cli("--lang", "ru", "mail", "--help")
    assert mail.exit_code == 0
    assert "Использование: diagnose mail [ПАРАМЕТРЫ] ДОМЕН..." in mail.stdout
    for option in (
        "--nameserver АДРЕС[:ПОРТ]",
        "--timeout СЕКУНДЫ",
        "--from-file ФАЙЛ",
        "--dkim-selector S",  # the DKIM tag's own letter (s=), as the help says
    ):
        assert option in mail.stdout
    email = cli("--lang", "ru", "email", "--help")
    assert "Использование: diagnose email [ПАРАМЕТРЫ] АДРЕС..." in email.stdout
    run = cli("--lang", "ru", "run", "--help")
    assert "-a, --answer ID=ЗНАЧЕНИЕ" in run.stdout
    explain = cli("--lang", "ru", "kb", "explain", "--help")
    assert "Использование: diagnose kb explain [ПАРАМЕТРЫ] СТАТЬЯ" in explain.stdout
    assert "ведущие к статье СТАТЬЯ" in explain.stdout
    serve = cli("--lang", "ru", "serve", "--help")
    assert "--host АДРЕС " in serve.stdout
    assert "--port ПОРТ " in serve.stdout
    assert "--workers N " in serve.stdout
    # No English placeholder is left on any of these pages.
    for page in (top, mail, email, run, explain, serve):
        leftover = re.findall(
            r"\b(OPTIONS|COMMAND|ARGS|FILE|SECONDS|HOST|PORT|DOMAIN|ADDRESS|ARTICLE|VALUE"
            r"|TEXT|INTEGER|RANGE)\b",
            page.stdout,
        )
        assert leftover == [], page.stdout


def test_help_placeholders_in_english_unchanged(cli) -> None:
    mail = cli("--lang", "en", "mail", "--help")
    assert "Usage: diagnose mail [OPTIONS] DOMAIN..." in mail.stdout
    assert "--timeout SECONDS" in mail.stdout
    assert "--nameserver HOST[:PORT]" in mail.stdout
    assert "--from-file FILE" in mail.stdout
    top = cli("--lang", "en", "--help")
    assert "Usage: diagnose [OPTIONS] COMMAND [ARGS]..." in top.stdout
    serve = cli("--lang", "en", "serve", "--help")
    # Named now in both languages (click wrote "TEXT" and "INTEGER RANGE").
    assert "--host HOST " in serve.stdout
    assert "--port PORT " in serve.stdout
    assert "INTEGER RANGE" not in serve.stdout


def test_errors_name_placeholders_in_russian(cli) -> None:
    missing = cli("--lang", "ru", "kb", "explain")
    assert missing.exit_code == 2
    assert missing.stderr.startswith("diagnose: ошибка: Не хватает аргумента 'СТАТЬЯ'.")
    nothing = cli("--lang", "ru", "mail")
    assert nothing.exit_code == 2
    assert "--from-file ФАЙЛ (- — стандартный ввод)" in nothing.stderr
    server = cli("--lang", "ru", "mail", "--nameserver", "dns.example", "a.example")
    assert "укажите его в виде АДРЕС[:ПОРТ]" in server.stderr
    english = cli("--lang", "en", "kb", "explain")
    assert "Missing argument 'ARTICLE'." in english.stderr


def test_kb_check_names_the_item_in_russian(cli, tmp_path: Path) -> None:
    kb = edited_kb(
        tmp_path,
        "articles.toml",
        'label = { en = "New phone number", ru = "Новый номер телефона" }',
        'label = { en = "New phone number" }',
    )
    russian = cli("--lang", "ru", "kb", "check", "--rules", str(kb))
    assert russian.exit_code == 1
    assert (
        "articles.toml: статья «change-phone», поле обращения «new-phone»: у поля «label» нет "
        "текста на языке ru (русский)." in russian.stdout + russian.stderr
    )
    assert "article '" not in russian.stdout + russian.stderr
    english = cli("--lang", "en", "kb", "check", "--rules", str(kb))
    assert "articles.toml: article 'change-phone', ticket field 'new-phone': " in (
        english.stdout + english.stderr
    )


def test_kb_check_numbers_a_choice_in_russian(cli, tmp_path: Path) -> None:
    kb = edited_kb(
        tmp_path,
        "questions.toml",
        '{ id = "other", label = { en = "Something else", ru = "Другое" } },\n]',
        '{ id = "other", label = { en = "Something else", ru = "Другое" } },\n  { label = "x" },\n]',
    )
    russian = cli("--lang", "ru", "kb", "check", "--rules", str(kb))
    assert russian.exit_code != 0
    said = russian.stdout + russian.stderr
    assert "questions.toml: вопрос «goal», вариант ответа № 7: нет поля «id»." in said, said
    assert "choice #" not in said


def test_kb_test_names_the_scenario_in_russian(cli, tmp_path: Path) -> None:
    kb = edited_kb(
        tmp_path,
        "scenarios/account.toml",
        'name = "deleting the account"\n',
        'name = "deleting the account"\nwhatever = 1\n',
    )
    russian = cli("--lang", "ru", "kb", "test", "--rules", str(kb))
    said = russian.stdout + russian.stderr
    assert "account.toml: сценарий «deleting the account»: " in said, said
    assert "scenario '" not in said
    english = cli("--lang", "en", "kb", "test", "--rules", str(kb))
    assert "account.toml: scenario 'deleting the account': " in english.stdout + english.stderr


def test_kb_graph_words_are_russian(cli) -> None:
    russian = cli("--lang", "ru", "kb", "graph")
    assert russian.exit_code == 0
    assert '(("начало"))' in russian.stdout
    assert "автоматическая проверка phone-country (проверяет ответ registration-phone)" in (
        russian.stdout
    )
    assert "live check" not in russian.stdout
    assert '"start"' not in russian.stdout
    english = cli("--lang", "en", "kb", "graph")
    assert '(("start"))' in english.stdout
    assert "live check phone-country (measures registration-phone)" in english.stdout


def test_other_support_channels_read_as_russian(cli) -> None:
    result = cli(
        "--lang",
        "ru",
        "run",
        "--no-input",
        "-a",
        "goal=other",
        "-a",
        "login=name@example.com",
    )
    assert result.exit_code == 0
    out = " ".join(result.stdout.split())
    # Not «или Электронная почта: ...» (an English list's "or" before a capital).
    assert "Другой способ — Электронная почта: support@mcs.mail.ru (круглосуточно)" in out
    assert "или Электронная" not in out
    english = cli("--lang", "en", "run", "--no-input", "-a", "goal=other")
    assert "or Email: support@mcs.mail.ru" in " ".join(english.stdout.split())


def test_version_in_russian(cli) -> None:
    # click reads its version message when the command is defined, before --lang.
    assert cli("--lang", "ru", "--version").stdout.startswith("diagnose, версия ")
    assert cli("--version", env={"DIAGNOSE_LANG": "ru"}).stdout.startswith("diagnose, версия ")
    assert cli("--lang", "en", "--version").stdout.startswith("diagnose, version ")


def test_listings_say_outcomes_and_types_in_russian(cli) -> None:
    articles = cli("--lang", "ru", "articles")
    assert articles.exit_code == 0
    rows = {line.split()[0]: line for line in articles.stdout.splitlines()}
    assert "  обращение в поддержку  Смена номера телефона аккаунта" in rows["change-phone"]
    assert "  информация " in rows["contact-support"]
    assert "  решение " in rows["forgot-password"]
    assert not re.search(r"\b(escalation|information|resolution)\b", articles.stdout)
    questions = cli("--lang", "ru", "questions")
    assert "goal (выбор варианта): Что вы хотите сделать?" in questions.stdout
    assert "support-email (адрес электронной почты): " in questions.stdout
    assert "login (поле обращения): " in questions.stdout
    assert not re.search(r"\((choice|email|ticket|phone|text|yesno)\)", questions.stdout)
    # The JSON keeps the ids; English is as before.
    assert {r["outcome"] for r in cli("--lang", "ru", "articles", "--format", "json").json()} == {
        "resolution",
        "information",
        "escalation",
    }
    english = cli("--lang", "en", "articles").stdout
    assert (
        "change-phone               escalation   Changing the phone number on an account" in english
    )
    assert "goal (choice): " in cli("--lang", "en", "questions").stdout


def test_an_article_that_did_not_help_reads_as_russian(terminal) -> None:
    # On a real terminal: «нет» to "Did this solve it?" escalates, naming the article.
    child = terminal(
        "--lang", "ru", "run", "-a", "goal=sign-in", "-a", "sign-in-problem=forgot-password"
    )
    child.expect_exact("Это помогло решить проблему?")
    ask(child, "нет")
    child.expect_exact("Укажите логин")
    text = " ".join(transcript(child).split())
    assert (
        "Статья «Восстановление забытого пароля» не помогла решить проблему, поэтому вашим "
        "случаем займётся техническая поддержка." in text
    ), text
    assert "Вы попробовали" not in text
    child.sendcontrol("c")
    child.expect(pexpect.EOF)


def test_the_draft_review_takes_da_and_the_editor_word_is_russian(terminal, tmp_path) -> None:
    child = terminal("--lang", "ru", "run", "-a", "goal=other")
    ask(child, "", expect="Укажите логин")
    ask(child, "", expect="Как называется проект")
    child.expect_exact("Опишите проблему")
    ask(child, "Не открывается консоль")
    child.sendline(".")  # the description's next lines have no "> "
    assert "чтобы писать в редакторе, введите «редактор»." in " ".join(transcript(child).split())
    # «Всё верно в черновике?» — «да» keeps the draft, as "yes" does in English.
    ask(child, "да", expect="Всё верно в черновике?")
    child.expect_exact("Сохранить черновик обращения в файл?")
    text = " ".join(transcript(child).split())
    assert "не поле черновика" not in text
    assert "введите edit" not in text
    child.sendline("")
    child.expect_exact("чтобы закончить")
    child.sendline("")
    child.expect(pexpect.EOF)


def test_kb_test_says_passed_and_failed_as_a_russian_runner_does(cli, tmp_path: Path) -> None:
    kb = edited_kb(
        tmp_path,
        "scenarios/account.toml",
        'expect = "delete-account"\nrule = "account-deletion"',
        'expect = "change-phone"\nrule = "phone-change"',
    )
    russian = cli("--lang", "ru", "kb", "test", "--rules", str(kb))
    assert russian.exit_code == 1, russian.stderr
    lines = russian.stdout.splitlines()
    assert any(line.startswith("НЕ ПРОЙДЕН  deleting the account: ") for line in lines)
    assert any(line.startswith("ПРОЙДЕН  a new phone number on the account") for line in lines)
    assert lines[-1] == "пройдено: 24, не пройдено: 1."


def test_a_field_named_for_a_secret_is_refused_in_russian() -> None:
    # The loader refuses such a field first; this is the last guard, for any caller.
    import pytest

    from diagnose import i18n
    from diagnose.exceptions import SecretRefused
    from diagnose.secrets import refuse_secret

    with i18n.speaking("ru"), pytest.raises(SecretRefused) as refused:
        refuse_secret("password", "anything")
    assert str(refused.value) == (
        "diagnose не сохраняет поле «password»: технической поддержке никогда не нужны ни "
        "пароль, ни одноразовый код."
    )
    with i18n.speaking("en"), pytest.raises(SecretRefused) as refused:
        refuse_secret("password", "anything")
    assert str(refused.value).startswith("diagnose does not store the field 'password', ")


def test_mail_remarks_follow_a_full_stop(cli, dns_server) -> None:
    # The remarks are whole sentences: «…, но есть замечания. У домена …», not «…: У домена».
    result = cli("--lang", "ru", "mail", "--nameserver", dns_server.address, "implicit.lab")
    summary = next(line for line in result.stdout.splitlines() if "Итог:" in line)
    assert "implicit.lab может принимать почту, но есть замечания. У домена implicit.lab" in (
        summary
    )
    assert "замечания: " not in result.stdout
