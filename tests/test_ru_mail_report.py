"""The mail report in Russian: `diagnose --lang ru mail` and `email` against the local
DNS server (tests/zones), as text and as JSON, and English left as it was.

What is asserted is this report's own text: the frame (column words, "Итог:", the
input as given, the implicit MX, the summary and its plural forms), the verdicts, the
messages of the name and existence rounds, the address's syntax, and the usage errors.
The individual checks' findings (MX, SPF, DMARC, ...) are quoted inside verdicts and
are matched loosely here: their own tests cover their wording.
"""

from __future__ import annotations

import json
import re

import pytest

from diagnose import i18n
from diagnose.checks.mail import MailDomainCheck
from diagnose.checks.settings import DnsSettings


def mail(cli, server, *args: str, lang: str = "ru", command: str = "mail"):
    base = ["--lang", lang, command, "--nameserver", server.address, "--timeout", "1"]
    result = cli(*base, *args)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def verdicts(stdout: str) -> dict[str, str]:
    """Each report's title (its first line) -> the text after its verdict word."""
    found = {}
    for block in stdout.strip().split("\n\n"):
        lines = block.splitlines()
        for line in lines[1:]:
            word, _sep, text = line.strip().partition(" ")
            if word in ("Итог:", "Verdict:"):
                found[lines[0]] = text
    return found


def test_a_batch_in_russian_frame_verdicts_and_summary(cli, dns_server):
    result = mail(cli, dns_server, "good.lab", "implicit.lab", "missing.lab", "noaddr.lab")
    assert result.exit_code == 1
    out = result.stdout
    said = verdicts(out)
    assert said["good.lab"] == "good.lab может принимать почту, записи SPF и DMARC в порядке."
    # A warning: the findings, then one sentence listing what to fix, joined the Russian way.
    assert said["implicit.lab"].startswith(
        "implicit.lab может принимать почту, но есть замечания. "
    )
    assert said["implicit.lab"].endswith(
        " Исправьте MX-записи домена implicit.lab, SPF-запись (TXT для implicit.lab) и "
        "DMARC-запись (TXT для _dmarc.implicit.lab)."
    )
    assert said["missing.lab"] == (
        "missing.lab не может принимать почту: такого домена не существует. Проверьте, "
        "правильно ли написано имя, или зарегистрируйте домен."
    )
    assert re.fullmatch(
        r"noaddr\.lab не может принимать почту: .+ Что сделать: опубликуйте для noaddr\.lab "
        r"MX-запись с именем вашего почтового сервера\.",
        said["noaddr.lab"],
    )
    # The column words are the status words, padded to the longest ("не определено").
    assert "\n  в порядке      domain-syntax       good.lab — корректное имя домена.\n" in out
    assert "\n  в порядке      domain-exists       Домен good.lab есть в DNS.\n" in out
    assert "\n  внимание       mx-present  " in out
    assert (
        "\n  ошибка         domain-exists       Домена missing.lab нет в DNS (NXDOMAIN).\n" in out
    )
    assert "\n  пропущено      mx-present          Пропущено: домен не существует.\n" in out
    assert "\n  неявный MX implicit.lab: 1.2.3.5\n" in out
    assert "\n  MX 10 mx1.good.lab: 1.2.3.4, 2a00:1450::1\n" in out
    for english in ("PASS", "WARN", "FAIL", "skip ", "Verdict:", "\n  implicit MX", "checked"):
        assert english not in out
    # The summary, worst first, in the status words.
    assert out.endswith("\n\nПроверено 4 домена: ошибка — 2, внимание — 1, в порядке — 1.\n")


def test_undetermined_in_russian(cli, dns_server):
    result = mail(cli, dns_server, "allfail.lab", "dmarcerr.lab")
    assert result.exit_code == 3
    said = verdicts(result.stdout)
    assert re.fullmatch(
        r"Неизвестно, может ли allfail\.lab принимать почту: не удалось определить, "
        r"существует ли домен allfail\.lab: .+ Повторите проверку позже или проверьте "
        r"DNS-сервер\.",
        said["allfail.lab"],
    )
    assert re.fullmatch(
        r"dmarcerr\.lab может принимать почту, но есть замечания\. Результат проверки DMARC "
        r"не определён: .+",
        said["dmarcerr.lab"],
    )
    assert "\n  не определено  domain-exists       Не удалось определить, существует ли " in (
        result.stdout
    )
    assert result.stdout.endswith("\n\nПроверено 2 домена: не определено — 2.\n")


def test_the_input_as_given_in_russian(cli, dns_server):
    result = mail(cli, dns_server, "GOOD.lab")
    assert result.stdout.startswith("good.lab (введено: 'GOOD.lab')\n")
    assert "Проверено" not in result.stdout  # one domain: no summary


@pytest.mark.parametrize(
    ("n", "russian", "english"),
    [
        (2, "Проверено 2 домена", "2 domains checked"),
        (5, "Проверено 5 доменов", "5 domains checked"),
        (11, "Проверено 11 доменов", "11 domains checked"),
        (21, "Проверен 21 домен", "21 domains checked"),
        (22, "Проверено 22 домена", "22 domains checked"),
    ],
)
def test_the_summary_counts_with_russian_plural_forms(cli, dns_server, n, russian, english):
    domains = ["good.lab"] * n
    ru = mail(cli, dns_server, *domains)
    assert ru.stdout.endswith(f"\n\n{russian}: в порядке — {n}.\n")
    en = mail(cli, dns_server, *domains, lang="en")
    assert en.stdout.endswith(f"\n\n{english}: {n} pass.\n")
    assert ru.exit_code == en.exit_code == 0


def test_json_in_russian_keeps_ids_and_says_its_language(cli, dns_server):
    args = ("--format", "json", "missing.lab", "nullmx.lab", "good.lab")
    russian = [json.loads(line) for line in mail(cli, dns_server, *args).stdout.splitlines()]
    english = [
        json.loads(line) for line in mail(cli, dns_server, *args, lang="en").stdout.splitlines()
    ]
    assert [r["lang"] for r in russian] == ["ru"] * 3
    assert [r["lang"] for r in english] == ["en"] * 3
    for ru, en in zip(russian, english, strict=True):
        # ids, statuses, groups and the data stay; only the words change
        assert (ru["domain"], ru["input"], ru["status"], ru["mx"]) == (
            en["domain"],
            en["input"],
            en["status"],
            en["mx"],
        )
        assert [(c["id"], c["status"], c["group"]) for c in ru["checks"]] == [
            (c["id"], c["status"], c["group"]) for c in en["checks"]
        ]
    missing, nullmx, good = russian
    assert missing["verdict"].startswith("missing.lab не может принимать почту: такого домена")
    messages = {c["id"]: c["message"] for c in missing["checks"]}
    assert messages["domain-syntax"] == "missing.lab — корректное имя домена."
    assert messages["domain-exists"] == "Домена missing.lab нет в DNS (NXDOMAIN)."
    assert messages["smtp"] == "Пропущено: домен не существует."
    assert nullmx["verdict"] == (
        "nullmx.lab не может принимать почту: его MX-запись — null MX (MX 0 .). Если домен "
        "должен принимать почту, замените её MX-записями с именами ваших почтовых серверов."
    )
    assert good["verdict"] == "good.lab может принимать почту, записи SPF и DMARC в порядке."
    assert english[2]["verdict"] == (
        "good.lab can receive mail, and its SPF and DMARC records are in order."
    )


def test_email_in_russian(cli, dns_server):
    result = mail(
        cli,
        dns_server,
        "Someone@good.lab",
        "nobody",
        "x@missing.lab",
        "ann@allfail.lab",
        command="email",
    )
    assert result.exit_code == 1
    out = result.stdout
    said = verdicts(out)
    # The address stands for its domain where a sentence is about the domain...
    assert said["Someone@good.lab"] == (
        "Домен адреса Someone@good.lab может принимать почту, записи SPF и DMARC в порядке."
    )
    assert said["x@missing.lab"].startswith(
        "Домен адреса x@missing.lab не может принимать почту: такого домена не существует."
    )
    # ... and prefixes a sentence that is not.
    assert said["ann@allfail.lab"].startswith(
        "ann@allfail.lab: Неизвестно, может ли allfail.lab принимать почту: "
    )
    assert said["nobody"] == "Адрес «nobody» некорректен. В адресе должен быть знак @."
    assert "\n  ошибка         email-syntax  Адрес «nobody» некорректен. " in out
    assert "  email-syntax        Someone@good.lab — корректный адрес электронной почты.\n" in out
    assert out.endswith("\n\nПроверено 4 адреса: ошибка — 2, не определено — 1, в порядке — 1.\n")
    json_out = mail(cli, dns_server, "--format", "json", "x@missing.lab", command="email")
    report = json.loads(json_out.stdout)
    assert report["lang"] == "ru" and report["email"] == "x@missing.lab"
    assert report["checks"][0]["id"] == "email-syntax"
    assert report["verdict"] == said["x@missing.lab"]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("a..b@good.lab", "В адресе не может быть двух точек подряд."),
        ("@good.lab", "Перед знаком @ ничего нет."),
        ("a@", "После знака @ ничего нет."),
        ("a@localhost", "Часть адреса после знака @ некорректна: в ней должна быть точка."),
        ("a b@good.lab", "Перед знаком @ есть недопустимые символы: SPACE."),
        # email-validator's counts, with the Russian plural forms
        ("a@" + "b" * 64 + ".lab", "на 1 символ больше допустимого."),
        ("a@" + "b" * 65 + ".lab", "на 2 символа больше допустимого."),
        ("a@" + "b" * 84 + ".lab", "на 21 символ больше допустимого."),
        ("a@" + "b" * 68 + ".lab", "на 5 символов больше допустимого."),
        # RFC 5321's 64 octets before the @ (email-validator lets 65 through)
        ("a" * 65 + "@good.lab", "занимает 65 октетов, а RFC 5321 допускает не больше 64."),
        ("a" * 71 + "@good.lab", "занимает 71 октет, а RFC 5321 допускает не больше 64."),
        ("a" * 72 + "@good.lab", "занимает 72 октета, а RFC 5321 допускает не больше 64."),
    ],
)
def test_address_syntax_in_russian(cli, dns_server, address, reason):
    result = mail(cli, dns_server, "--format", "json", address, command="email")
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert report["status"] == "fail" and report["lang"] == "ru"
    assert report["verdict"].startswith(f"Адрес «{address}» некорректен. ")
    assert report["verdict"].endswith(reason)
    english = json.loads(
        mail(cli, dns_server, "--format", "json", address, command="email", lang="en").stdout
    )
    assert english["verdict"].startswith(f"'{address}' is not valid: ")
    assert not re.search("[а-яё]", english["verdict"], re.IGNORECASE)


def test_what_a_person_typed_stays_escaped_in_russian(cli, dns_server):
    result = mail(cli, dns_server, "x\x1b[2Jy@good.lab", command="email")
    assert "\x1b" not in result.stdout
    assert "Адрес «x\\x1b[2Jy@good.lab» некорректен." in result.stdout


def test_usage_errors_in_russian(cli, dns_server, tmp_path):
    none = mail(cli, dns_server)
    assert none.exit_code == 2
    assert "Укажите хотя бы один домен или файл со списком: --from-file ФАЙЛ" in none.stderr
    no_address = mail(cli, dns_server, command="email")
    assert "Укажите хотя бы один адрес электронной почты" in no_address.stderr
    missing = mail(cli, dns_server, "--from-file", str(tmp_path / "nothing.txt"))
    assert missing.exit_code == 2
    assert f"Не удалось прочитать файл {tmp_path / 'nothing.txt'}: такого файла нет." in (
        missing.stderr
    )
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("good.lab\nпочта.рф\n".encode("cp1251"))
    undecodable = mail(cli, dns_server, "--from-file", str(latin1))
    assert undecodable.exit_code == 2
    assert f"Файл {latin1} — не текст в кодировке UTF-8." in undecodable.stderr
    device = mail(cli, dns_server, "--from-file", "/dev/null")  # a device is refused
    assert device.exit_code == 2
    assert "Не удалось прочитать файл /dev/null: " in device.stderr
    assert "is a device" not in device.stderr
    for result in (none, no_address, missing, undecodable, device):
        assert result.stdout == ""
        assert "Give at least" not in result.stderr and "Cannot read" not in result.stderr


def test_english_is_unchanged(cli, dns_server):
    result = mail(cli, dns_server, "good.lab", "implicit.lab", "missing.lab", lang="en")
    said = verdicts(result.stdout)
    assert said["good.lab"] == (
        "good.lab can receive mail, and its SPF and DMARC records are in order."
    )
    assert said["implicit.lab"].startswith("implicit.lab can receive mail, but: ")
    assert said["implicit.lab"].endswith(
        " Fix the MX records of implicit.lab and the SPF record (TXT at implicit.lab) and "
        "the DMARC record (TXT at _dmarc.implicit.lab)."
    )
    assert said["missing.lab"] == (
        "missing.lab cannot receive mail: the domain does not exist; check the spelling or "
        "register the domain."
    )
    assert "\n  PASS  domain-syntax       good.lab is a valid domain name.\n" in result.stdout
    assert "\n  FAIL  domain-exists       missing.lab does not exist in the DNS (NXDOMAIN).\n" in (
        result.stdout
    )
    assert "\n  implicit MX implicit.lab: 1.2.3.5\n" in result.stdout
    assert result.stdout.endswith("\n\n3 domains checked: 1 fail, 1 warn, 1 pass.\n")
    email = mail(cli, dns_server, "x@missing.lab", "ann@allfail.lab", command="email", lang="en")
    said = verdicts(email.stdout)
    assert said["x@missing.lab"] == (
        "The domain of x@missing.lab cannot receive mail: the domain does not exist; check "
        "the spelling or register the domain."
    )
    assert said["ann@allfail.lab"].startswith(
        "ann@allfail.lab: Could not determine whether allfail.lab can receive mail: could "
        "not tell whether allfail.lab exists: "
    )
    assert email.stdout.endswith("\n\n2 addresses checked: 1 fail, 1 undetermined.\n")
    assert not re.search("[а-яё]", result.stdout + email.stdout, re.IGNORECASE)


def test_the_consultations_live_check_speaks_the_contexts_language(dns_server):
    # The web runs checks under i18n.speaking; the verdict and its note come in Russian.
    settings = DnsSettings(((dns_server.host, dns_server.port),), 2.0)
    with i18n.speaking("ru"):
        result = MailDomainCheck().run("bob@implicit.lab", settings)
    assert str(result.status) == "warn"
    assert re.fullmatch(
        r"implicit\.lab может принимать почту, но есть замечания\. .+ Исправьте MX-записи "
        r"домена implicit\.lab\. Примечание: письма, отправленные с вашего домена "
        r"\(implicit\.lab\), могут отклоняться: .+ Исправьте SPF-запись \(TXT для "
        r"implicit\.lab\) и DMARC-запись \(TXT для _dmarc\.implicit\.lab\)\.",
        result.message,
    )
    english = MailDomainCheck().run("bob@implicit.lab", settings)
    assert english.message.startswith("implicit.lab can receive mail, but: ")
    assert " Note: mail sent from your domain (implicit.lab) may be rejected: " in english.message
