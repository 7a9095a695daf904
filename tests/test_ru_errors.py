"""Errors and file messages in Russian, and the same in English as before.

Each runs the real thing: ``python -m diagnose --lang ru ...`` in a subprocess (what a
shell sees: the one stderr line and the exit code), a pseudo-terminal for a session
that cannot be saved where it belongs, and ``diagnose serve`` on 127.0.0.1 for the
web API's errors, whose language is known before the body is read.
"""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pexpect
import pytest
from conftest import edited_kb
from test_interactive import SCRIPT, finish, transcript
from webclient import Server

from diagnose import i18n
from diagnose.fileio import _REASONS, reason

RUN = ["run", "--no-input", "-a", "goal=contact-support", "-a", "support-need=channels"]


def diagnose(
    *args: str, env: dict[str, str] | None = None, **popen: object
) -> subprocess.CompletedProcess[str]:
    """``python -m diagnose ARGS`` with no language in the environment but ``env``'s."""
    base = {k: v for k, v in os.environ.items() if k not in i18n.VARIABLES}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "diagnose", *args],
        env={**base, **(env or {})},
        stderr=subprocess.PIPE,
        stdout=popen.pop("stdout", subprocess.PIPE),
        text=True,
        timeout=60,
        check=False,
        **popen,
    )


def error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


# --- answers files ------------------------------------------------------------------------
def test_an_answers_file_that_is_not_json(tmp_path):
    bad = tmp_path / "answers.json"
    bad.write_text('{"goal": ', encoding="utf-8")
    russian = diagnose("--lang", "ru", *RUN, "--answers", str(bad))
    assert russian.returncode == 2
    assert error_line(russian).startswith(
        f"diagnose: ошибка: Файл ответов {bad} — некорректный JSON: Expecting value"
    )
    english = diagnose(*RUN, "--answers", str(bad))
    assert english.returncode == 2
    assert error_line(english).startswith(
        f"diagnose: error: The answers file {bad} is not valid JSON: Expecting value"
    )


def test_an_answers_file_that_holds_no_object_and_one_whose_value_is_no_text(tmp_path):
    listed = tmp_path / "list.json"
    listed.write_text('["goal"]', encoding="utf-8")
    done = diagnose("--lang", "ru", *RUN, "--answers", str(listed))
    assert done.returncode == 2
    assert error_line(done) == (
        f"diagnose: ошибка: Файл ответов {listed} должен содержать объект: "
        "идентификаторы вопросов и ответы на них."
    )
    nested = tmp_path / "nested.toml"
    nested.write_text("goal = [1]\n", encoding="utf-8")
    done = diagnose("--lang", "ru", *RUN, "--answers", str(nested))
    assert done.returncode == 2
    assert error_line(done) == (
        f"diagnose: ошибка: В файле ответов {nested} у «goal» значение не текстовое: [1]."
    )


def test_an_answers_file_too_big_missing_or_a_fifo(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * ((1 << 20) + 1))
    done = diagnose("--lang", "ru", *RUN, "--answers", str(big))
    assert done.returncode == 2
    assert error_line(done) == (
        f"diagnose: ошибка: Не удалось прочитать файл ответов {big}: файл больше 1 МиБ."
    )
    english = diagnose(*RUN, "--answers", str(big))
    assert error_line(english) == (
        f"diagnose: error: Cannot read the answers file {big}: it is larger than 1 MiB."
    )
    missing = tmp_path / "missing.json"
    done = diagnose("--lang", "ru", *RUN, "--answers", str(missing))
    assert done.returncode == 2
    assert error_line(done) == (
        f"diagnose: ошибка: Не удалось прочитать файл ответов {missing}: "
        "нет такого файла или каталога."
    )
    english = diagnose(*RUN, "--answers", str(missing))
    assert error_line(english) == (
        f"diagnose: error: Cannot read the answers file {missing}: No such file or directory."
    )
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    done = diagnose("--lang", "ru", *RUN, "--answers", str(fifo))
    assert done.returncode == 2
    assert error_line(done) == (
        f"diagnose: ошибка: Не удалось прочитать файл ответов {fifo}: это FIFO, а не обычный файл."
    )


def test_a_bad_answer_option_and_a_bad_timeout():
    done = diagnose("--lang", "ru", "run", "--no-input", "--answer", "goal")
    assert done.returncode == 2
    assert error_line(done) == (
        "diagnose: ошибка: «goal» — не в форме ID=ЗНАЧЕНИЕ (например, goal=sign-in)."
    )
    done = diagnose("--lang", "ru", "mail", "--timeout", "nan", "good.lab")
    assert done.returncode == 2
    assert error_line(done) == (
        "diagnose: ошибка: --timeout принимает число секунд больше 0 и не больше 600, а не «nan»."
    )
    english = diagnose("mail", "--timeout", "nan", "good.lab")
    assert error_line(english) == (
        "diagnose: error: --timeout must be a number of seconds above 0 and at most 600, not 'nan'."
    )


# --- sessions -----------------------------------------------------------------------------
def test_resuming_a_file_that_is_no_session(tmp_path):
    newer = tmp_path / "newer.json"
    newer.write_text('{"diagnose_session": 99}', encoding="utf-8")
    done = diagnose("--lang", "ru", "run", "--resume", str(newer))
    assert done.returncode == 2
    assert error_line(done) == (
        f"diagnose: ошибка: Файл {newer} — не сохранённая сессия: его версия ('99') "
        "не поддерживается этой версией diagnose (поддерживаются 1 и 2); возможно, его "
        "записала более новая версия diagnose."
    )
    english = diagnose("run", "--resume", str(newer))
    assert error_line(english) == (
        f"diagnose: error: The file {newer} is not a saved session: its version ('99') is "
        "not one this diagnose reads (1 and 2); a newer diagnose may have written it."
    )


def test_answers_saved_in_the_fallback_say_so_in_russian(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    (tmp_path / "tmp").mkdir()
    wanted = blocker / "answers.json"
    env = {"TMPDIR": str(tmp_path / "tmp"), "DIAGNOSE_CACHE_DIR": str(tmp_path / "cache")}
    done = diagnose("--lang", "ru", *RUN, "--save", str(wanted), env=env)
    assert done.returncode == 0, done.stderr
    instead = tmp_path / "tmp" / f"diagnose-{os.geteuid()}" / "answers.json"
    assert json.loads(instead.read_text())["given"] == {
        "goal": "contact-support",
        "support-need": "channels",
    }
    assert done.stderr.splitlines()[0] == (
        f"diagnose: не удалось записать ответы в {wanted} ({blocker} — не каталог); "
        f"вместо этого они записаны в {instead}."
    )
    english = diagnose(*RUN, "--save", str(wanted), env=env)
    assert english.stderr.splitlines()[0] == (
        f"diagnose: the answers could not be written to {wanted} ({blocker} is not a "
        f"directory); written to {instead} instead."
    )


def test_a_session_directory_that_cannot_be_made_saves_in_the_fallback(tmp_path):
    """Ctrl-C at the second question, in Russian, with the state directory under a
    regular file: the session goes to the fallback, and the line says why."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    (tmp_path / "tmp").mkdir()
    child = pexpect.spawn(
        str(SCRIPT),
        ["--lang", "ru", "run"],
        env={
            "PATH": str(SCRIPT.parent) + ":/usr/bin:/bin",
            "NO_COLOR": "1",
            "TERM": "xterm",
            "LANG": "C.UTF-8",
            "TMPDIR": str(tmp_path / "tmp"),
            "DIAGNOSE_CACHE_DIR": str(tmp_path / "cache"),
            "DIAGNOSE_STATE_DIR": str(blocker / "state"),
        },
        encoding="utf-8",
        timeout=20,
        dimensions=(50, 200),
        cwd=str(tmp_path),
    )
    child.logfile_read = io.StringIO()
    child.expect_exact("> ")
    child.sendline("3")  # manage-account
    child.expect_exact("Что вы хотите сделать с аккаунтом?")
    child.expect_exact("> ")
    child.sendintr()
    assert finish(child) == 130
    text = " ".join(transcript(child).split())
    fallback = tmp_path / "tmp" / f"diagnose-{os.geteuid()}"
    [saved] = fallback.glob("session-*.json")
    assert json.loads(saved.read_text())["entries"] == [["answer", "goal", "manage-account"]]
    assert (
        f"diagnose: Остановлено до конца консультации. Ваши ответы сохранены в {saved} "
        f"(сохранить в {blocker / 'state' / saved.name} не удалось: {blocker} — не каталог); "
        f"продолжить: diagnose run --resume {saved}"
    ) in text
    assert "Traceback" not in text


# --- the knowledge base -------------------------------------------------------------------
def test_a_broken_knowledge_base_in_russian(tmp_path):
    directory = edited_kb(
        tmp_path, "rules.toml", 'article = "quota-increase"', 'article = "quota-nothing"'
    )
    done = diagnose("--lang", "ru", *RUN, "--rules", str(directory))
    assert done.returncode == 2
    line = error_line(done)
    assert line.startswith(f"diagnose: ошибка: {directory / 'rules.toml'}: правило «")
    assert "неизвестная статья «quota-nothing»." in line
    english = diagnose(*RUN, "--rules", str(directory))
    assert english.returncode == 2
    assert error_line(english).startswith(f"diagnose: error: {directory / 'rules.toml'}: rule '")
    assert "unknown article 'quota-nothing'." in english.stderr


def test_every_problem_of_a_knowledge_base_is_counted_in_russian(tmp_path):
    directory = tmp_path / "kb"
    directory.mkdir()
    (directory / "a.toml").write_text('[wrong]\nx = 1\n[[rule]]\nid = "r"\n', encoding="utf-8")
    (directory / "b.toml").write_text("not = [toml\n", encoding="utf-8")
    done = diagnose("--lang", "ru", *RUN, "--rules", str(directory))
    assert done.returncode == 2
    assert error_line(done).startswith(
        f"diagnose: ошибка: {directory / 'a.toml'}: неизвестная таблица «wrong» (ожидается "
        "одна из: support, channel, ticket_field, question, article, check, rule). "
        "(и ещё 1 ошибка)"
    )
    checked = diagnose("--lang", "ru", "kb", "check", "--rules", str(directory))
    assert checked.returncode == 1  # kb check: a defect found
    assert f"{directory / 'b.toml'}: некорректный TOML: " in checked.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    done = diagnose("--lang", "ru", *RUN, "--rules", str(empty))
    assert error_line(done) == (
        f"diagnose: ошибка: {empty}: не содержит файлов базы знаний (*.toml)."
    )


def test_a_text_missing_a_language_in_russian(tmp_path):
    directory = edited_kb(
        tmp_path,
        "questions.toml",
        'prompt = { en = "What are you trying to do?", ru = "Что вы хотите сделать?" }',
        'prompt = "What are you trying to do?"',
    )
    done = diagnose("--lang", "ru", "kb", "check", "--rules", str(directory))
    assert done.returncode == 1
    assert (
        f"{directory / 'questions.toml'}: вопрос «goal»: поле «prompt» задано только на "
        "одном языке, а база знаний объявляет 2 языка: запишите его как "
        "{ en = ..., ru = ... }."
    ) in done.stderr


# --- output that cannot be written --------------------------------------------------------
def test_a_full_disk_and_a_closed_stdout_in_russian():
    with open("/dev/full", "w") as full:
        done = diagnose("--lang", "ru", "articles", stdout=full)
    assert done.returncode == 2
    assert error_line(done) == (
        "diagnose: ошибка: не удалось вывести результат: на устройстве не осталось места."
    )
    # Closed before the command line is read: the language comes from the environment.
    closed = diagnose(
        "articles", env={"LANG": "ru_RU.UTF-8"}, stdout=None, preexec_fn=lambda: os.close(1)
    )
    assert closed.returncode == 2
    assert error_line(closed) == (
        "diagnose: ошибка: стандартный вывод закрыт; вывести ничего не удалось."
    )
    english = diagnose("articles", stdout=None, preexec_fn=lambda: os.close(1))
    assert error_line(english) == (
        "diagnose: error: standard output is closed; nothing could be written."
    )


def test_each_reason_translated_is_the_c_librarys_english():
    # Only a reason worded exactly as strerror words it is translated; a wording that
    # drifted would silently stay English.
    for code, english in _REASONS.items():
        assert os.strerror(code) == english
    with i18n.speaking("ru"):
        assert reason(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))) == (
            "на устройстве не осталось места"
        )
        assert reason(OSError(errno.EXDEV, "Invalid cross-device link")) == (
            "Invalid cross-device link"
        )
    assert reason(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))) == "No space left on device"


# --- the web API --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(dns_server) -> Iterator[Server]:
    web = Server("--nameserver", dns_server.address, "--timeout", "2", "--rate-limit", "1")
    yield web
    web.stop()


RUSSIAN = {"accept-language": "ru-RU,ru;q=0.9,en;q=0.5"}


def test_api_413_in_russian(server):
    big = json.dumps({"answers": {"goal": "x" * 70_000}}).encode()
    russian = server.post_json("/api/v1/consultation", big, RUSSIAN)
    assert russian.status == 413
    assert russian.json() == {"error": "Размер запроса превышает 64 КБ."}
    chosen = server.post_json("/api/v1/consultation?lang=ru", big)
    assert chosen.status == 413 and chosen.json() == {"error": "Размер запроса превышает 64 КБ."}
    english = server.post_json("/api/v1/consultation", big)
    assert english.status == 413
    assert english.json() == {"error": "The request is larger than 64 KB."}


def test_api_bad_json_in_russian(server):
    russian = server.post_json("/api/v1/consultation", b"{not json", RUSSIAN)
    assert russian.status == 400
    assert russian.json() == {"error": "Тело запроса — некорректный JSON."}
    by_cookie = server.post_json("/api/v1/mail", b"[1]", {"cookie": "lang=ru"})
    assert by_cookie.status == 400
    assert by_cookie.json() == {"error": "Тело запроса должно быть объектом JSON."}
    no_domain = server.post_json("/api/v1/mail", {}, RUSSIAN)
    assert no_domain.status == 400
    assert no_domain.json() == {
        "error": 'Укажите домен для проверки в виде {"domain": "example.com"}.'
    }
    bad_lang = server.post_json("/api/v1/consultation", {"lang": "de"}, RUSSIAN)
    assert bad_lang.status == 400
    assert bad_lang.json() == {"error": "Значение «lang» должно быть одним из: en, ru."}
    # The body's own "lang" decides what follows it.
    answers = server.post_json("/api/v1/consultation", {"lang": "ru", "answers": []})
    assert answers.status == 400
    assert answers.json()["error"].startswith("Поле «answers» должно быть объектом")
    missing = server.get("/api/v1/nothing", RUSSIAN)
    assert missing.status == 404 and missing.json() == {"error": "Такой страницы нет."}
    english = server.post_json("/api/v1/consultation", b"{not json")
    assert english.status == 400
    assert english.json() == {"error": "The request body is not valid JSON."}


def test_api_429_in_russian(server):
    first = server.post_json("/api/v1/mail", {"domain": "good.lab"}, RUSSIAN)
    second = server.post_json("/api/v1/mail", {"domain": "good.lab"}, RUSSIAN)
    assert (first.status, second.status) == (200, 429)
    error = second.json()["error"]
    assert error == (
        "Слишком много автоматических проверок с вашего адреса: не больше 1 в минуту. "
        "Подождите минуту и повторите попытку."
    )
