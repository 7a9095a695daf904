"""The receiving mail checks and the DNS plumbing in Russian, end to end.

`diagnose --lang ru mail` against the test DNS server (tests/zones) and, for MTA-STS,
TLS-RPT and the SMTP probe, against the loopback HTTPS and SMTP servers of
tests/test_mail_transport.py (its fixtures, imported): what a Russian reader sees
(a Russian sentence, the right plural form, the placeholders filled, the DNS text
still escaped), with the ids and statuses unchanged, and English as it was.
"""

from __future__ import annotations

import asyncio
import json
import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

# The loopback servers of the MTA-STS/SMTP tests, shared rather than copied.
from test_mail_transport import (  # noqa: F401  (pytest fixtures)
    ca,
    policy_servers,
    smtp_port,
    transport_dns,
)

from diagnose import i18n
from diagnose.checks.mail import check_domain_async
from diagnose.checks.mail.mta_sts import parse_policy, parse_sts_record
from diagnose.checks.mail.tls_rpt import parse_tlsrpt
from diagnose.checks.names import DomainSyntaxError, normalize_domain
from diagnose.checks.nameservers import parse_nameserver
from diagnose.checks.settings import DnsSettings
from diagnose.exceptions import UsageError


def by_id(report: dict) -> dict[str, dict]:
    return {check["id"]: check for check in report["checks"]}


@pytest.fixture
def mail(cli, dns_server):
    """`diagnose --lang LANG mail --format json DOMAIN` against tests/zones."""

    def run(domain: str, lang: str = "ru", timeout: str = "2") -> tuple[int, dict]:
        result = cli(
            "--lang",
            lang,
            "mail",
            "--nameserver",
            dns_server.address,
            "--timeout",
            timeout,
            "--format",
            "json",
            domain,
        )
        assert "Traceback" not in result.stdout + result.stderr
        return result.exit_code, json.loads(result.stdout)

    return run


@pytest.fixture
def transport(cli, transport_dns, policy_servers, smtp_port):  # noqa: F811
    """The same against tests/zones/transport and the loopback HTTPS/SMTP servers."""

    def run(*args: str, lang: str = "ru", timeout: str = "3") -> dict:
        result = cli(
            "--lang",
            lang,
            "mail",
            "--nameserver",
            transport_dns.address,
            "--timeout",
            timeout,
            "--format",
            "json",
            "--mta-sts-port",
            str(policy_servers[0]),
            "--smtp-port",
            str(smtp_port),
            *args,
        )
        # stdout only: the loopback policy server's own thread may print a traceback of
        # its own (a client that hung up on the oversized stsbig policy) on stderr
        # while this runs; diagnose's exceptions are raised by the cli fixture.
        assert "Traceback" not in result.stdout
        [report] = [json.loads(line) for line in result.stdout.splitlines()]
        return report

    return run


# -- MX: none, null, implicit, the targets ------------------------------------------


def test_null_mx_in_russian(mail):
    code, report = mail("nullmx.lab")
    checks = by_id(report)
    assert code == 1
    assert checks["null-mx"]["status"] == "fail"
    assert checks["null-mx"]["message"] == (
        "Домен nullmx.lab публикует null MX (MX 0 .): он не принимает почту (RFC 7505)."
    )
    assert checks["mx-target-resolves"]["status"] == "skip"
    assert checks["mx-target-resolves"]["message"] == (
        "Пропущено: у домена нет MX-серверов (только null MX) или нет MX-записи."
    )


def test_malformed_null_mx_quotes_the_record_in_guillemets(mail):
    _, report = mail("nullmixed.lab")
    message = by_id(report)["null-mx"]["message"]
    assert message.startswith("У домена nullmixed.lab неверный null MX: «MX 0 .» стоит рядом")
    assert message.endswith("(RFC 7505 §3).")


@pytest.mark.parametrize(
    ("domain", "status", "message"),
    [
        (
            "implicit.lab",
            "warn",
            "У домена implicit.lab нет MX-записи; почта идёт на его собственный адрес "
            "(1.2.3.5) как на неявный MX (RFC 5321 §5.1).",
        ),
        ("noaddr.lab", "fail", "У домена noaddr.lab нет ни MX-записи, ни адреса."),
        (
            "privimplicit.lab",
            "fail",
            "У домена privimplicit.lab нет MX-записи, а его собственные адреса (10.1.2.3) "
            "не публичные.",
        ),
    ],
)
def test_no_mx_in_russian(mail, domain, status, message):
    _, report = mail(domain)
    checks = by_id(report)
    assert (checks["mx-present"]["status"], checks["mx-present"]["message"]) == (status, message)
    assert checks["mx-target-syntax"]["message"] == (
        "Пропущено: у домена нет MX-записи; его собственный адрес оценён в проверке mx-present."
    )


def test_mx_targets_in_russian(mail):
    _, report = mail("doubled.lab")
    checks = by_id(report)
    assert checks["mx-target-resolves"]["status"] == "fail"
    assert checks["mx-target-resolves"]["message"].startswith(
        "Ни у одного MX-сервера нет адреса: mail.doubled.lab.doubled.lab. Подсказка: MX-сервер "
        "mail.doubled.lab.doubled.lab дважды оканчивается на doubled.lab"
    )
    assert "(напишите «MX 10 mail.doubled.lab.»)" in checks["mx-target-syntax"]["message"]
    _, report = mail("iptarget.lab")
    assert by_id(report)["mx-target-syntax"]["message"] == (
        "«192.0.2.25» — это IP-адрес, а MX-запись должна указывать имя хоста (RFC 5321 §5.1)."
    )


# -- undetermined: SERVFAIL and a timeout -----------------------------------------------


@pytest.mark.parametrize(
    ("domain", "reason"),
    [
        ("allfail.lab", "DNS-сервер ответил SERVFAIL, поэтому результат не определён."),
        ("mxtimeout.lab", "DNS-сервер не ответил вовремя."),
    ],
)
def test_undetermined_lookups_say_why_in_russian(mail, domain, reason):
    code, report = mail(domain, timeout="1")
    checks = by_id(report)
    assert code == 3  # undetermined, never "no MX"
    assert checks["mx-present"]["status"] == "error"
    assert checks["mx-present"]["message"] == (
        f"Не удалось получить MX-записи домена {domain}: {reason}"
    )
    assert checks["null-mx"]["message"] == "Пропущено: не удалось получить MX-записи."


def test_the_time_budget_running_out_is_said_in_russian(mail):
    _, report = mail("targettimeout.lab", timeout="1")
    resolves = by_id(report)["mx-target-resolves"]
    assert resolves["status"] == "error"
    assert resolves["message"].startswith(
        "Не определён результат запроса адреса: slow.targettimeout.lab: "
    )
    assert re.search(
        r"(DNS-сервер не ответил вовремя|Отведённое время истекло)\.$", resolves["message"]
    )


async def _both_languages(dns_server) -> tuple[str, str]:
    settings = DnsSettings(((dns_server.host, dns_server.port),), 2.0)

    async def speaking(lang: str) -> str:
        with i18n.speaking(lang):
            report = await check_domain_async("nullmx.lab", settings)
        return report.check("null-mx").message

    russian, english = await asyncio.gather(speaking("ru"), speaking("en"))
    return russian, english


def test_two_checks_at_once_each_speak_their_own_language(dns_server):
    """The web checks domains for several requests at once: each message is in its
    request's language, none leaks into the other (nothing is translated at import)."""
    russian, english = asyncio.run(_both_languages(dns_server))
    assert russian.startswith("Домен nullmx.lab публикует null MX")
    assert english == "nullmx.lab publishes a null MX (MX 0 .): it accepts no mail (RFC 7505)."


# -- MTA-STS and TLS-RPT --------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "status", "words"),
    [
        (
            "stsmiss.lab",
            "fail",
            "Политика MTA-STS домена stsmiss.lab в режиме enforce, но ни один шаблон mx "
            "(mx.stsmiss.lab) не подходит к backup.stsok.lab, поэтому отправители, "
            "соблюдающие MTA-STS, не будут доставлять туда почту (RFC 8461 §4.1, §5).",
        ),
        (
            "stsok.lab",
            "pass",
            "Политика MTA-STS домена stsok.lab: режим enforce, max_age 1209600 с (14 дней); "
            "все MX-серверы подходят под её шаблоны mx.",
        ),
        ("stsmulti.lab", "warn", "Для _mta-sts.stsmulti.lab опубликованы 2 записи MTA-STS"),
        ("sts404.lab", "warn", "сервер отвечает HTTP 404, а не 200."),
        ("stsbig.lab", "warn", "политика больше 65536 байт."),
        ("ststype.lab", "warn", "политика отдаётся как «text/html», а не как text/plain"),
        ("stsbadpolicy.lab", "warn", "Режим политики — «maybe», а должен быть enforce"),
        ("stscert.lab", "warn", "сертификат сервера недействителен для mta-sts.stscert.lab"),
        ("stsdown.lab", "error", "сервер недоступен отсюда ("),
        (
            "stsnone.lab",
            "pass",
            "Домен stsnone.lab не публикует политику MTA-STS (это необязательно",
        ),
    ],
)
def test_mta_sts_findings_in_russian(transport, domain, status, words):
    sts = by_id(transport(domain))["mta-sts"]
    assert sts["status"] == status and words in sts["message"], sts


@pytest.mark.parametrize(
    ("domain", "status", "message"),
    [
        (
            "tlsok.lab",
            "pass",
            "Домен tlsok.lab просит присылать отчёты о TLS на "
            "mailto:tls@tlsok.lab, https://reports.tlsok.lab/tls.",
        ),
        (
            "tlsbad.lab",
            "warn",
            "Запись TLS-RPT в _smtp._tls.tlsbad.lab недействительна, поэтому отправители не "
            "присылают отчёты: Адрес для отчётов «ftp://reports.tlsbad.lab» — не URI вида "
            "mailto: или https:.",
        ),
        (
            "tlsmulti.lab",
            "warn",
            "Для _smtp._tls.tlsmulti.lab опубликованы 2 записи TLS-RPT, поэтому отправители "
            "не присылают отчёты (RFC 8460 §3).",
        ),
    ],
)
def test_tls_rpt_in_russian(transport, domain, status, message):
    tls = by_id(transport(domain))["tls-rpt"]
    assert (tls["status"], tls["message"]) == (status, message)


def test_mta_sts_text_from_dns_is_still_escaped_in_russian(cli, transport_dns):  # noqa: F811
    result = cli("--lang", "ru", "mail", "--nameserver", transport_dns.address, "stsescape.lab")
    assert "\x1b" not in result.stdout
    assert "\\x1b[31mred" in result.stdout
    assert re.search(
        r"mta-sts\s+Запись MTA-STS в _mta-sts\.stsescape\.lab недействительна", result.stdout
    )
    assert "Идентификатор «\\x1b[31mred» — не от 1 до 32 латинских букв и цифр." in result.stdout


# -- the SMTP probe ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "status", "message"),
    [
        (
            "smtpok.lab",
            "pass",
            "mx.smtpok.lab [127.0.0.11]: STARTTLS (TLSv1.3) с доверенным сертификатом для "
            "mx.smtpok.lab.",
        ),
        (
            "smtpplain.lab",
            "warn",
            "mx.smtpplain.lab [127.0.0.12]: сервер не предлагает STARTTLS, поэтому почта к "
            "нему идёт без шифрования.",
        ),
        (
            "smtpname.lab",
            "warn",
            "mx.smtpname.lab [127.0.0.13]: сертификат сервера доверенный, но выдан на "
            "other.lab, а не на mx.smtpname.lab.",
        ),
        (
            "smtp554.lab",
            "fail",
            "mx.smtp554.lab [127.0.0.15]: сервер приветствует кодом 554 вместо 220: сервер не "
            "принимает почту.",
        ),
    ],
)
def test_smtp_probe_in_russian(transport, domain, status, message):
    smtp = by_id(transport(domain, "--smtp"))["smtp"]
    assert (smtp["status"], smtp["message"]) == (status, message)
    # the JSON's own values stay as they are: ids, statuses, the certificate verdict
    assert {probe["status"] for probe in smtp["probes"]} == {status}


def test_smtp_probe_blocked_and_enforced_in_russian(transport):
    down = by_id(transport("smtpdown.lab", "--smtp"))["smtp"]
    assert down["status"] == "error"
    assert "во многих сетях исходящие соединения на порт 25 заблокированы" in down["message"]
    enforced = by_id(transport("smtpsts.lab", "--smtp"))["smtp"]
    assert enforced["status"] == "fail"
    assert enforced["message"].endswith(
        "(политика MTA-STS требует TLS, поэтому отправители, соблюдающие её, не будут "
        "доставлять сюда почту)."
    )
    no_mx = by_id(transport("stsmxerr.lab", "--smtp"))["smtp"]
    assert (no_mx["status"], no_mx["message"]) == (
        "skip",
        "Пропущено: не удалось получить MX-записи.",
    )
    skipped = by_id(transport("smtpok.lab"))["smtp"]
    assert skipped["status"] == "skip"
    assert skipped["message"].startswith("Пропущено: проверка SMTP выполняется только по запросу")


def test_smtp_silent_server_is_undetermined_in_russian(transport):
    smtp = by_id(transport("smtpsilent.lab", "--smtp", timeout="1"))["smtp"]
    assert smtp["status"] == "error"
    assert (
        "сервер перестал отвечать, не прислав приветствие (отведённое время истекло)"
        in (smtp["message"])
    )


# -- English unchanged ------------------------------------------------------------------


def test_english_is_unchanged(mail, transport):
    _, report = mail("nullmx.lab", lang="en")
    assert by_id(report)["null-mx"]["message"] == (
        "nullmx.lab publishes a null MX (MX 0 .): it accepts no mail (RFC 7505)."
    )
    _, report = mail("allfail.lab", lang="en", timeout="1")
    assert by_id(report)["mx-present"]["message"] == (
        "The MX lookup for allfail.lab failed: The DNS server answered SERVFAIL, so the "
        "answer is unknown."
    )
    sts = by_id(transport("stsbig.lab", lang="en"))["mta-sts"]
    assert sts["message"].endswith(
        ": the policy is over 65,536 bytes. Senders without a cached policy apply none."
    )
    tls = by_id(transport("tlsmulti.lab", lang="en"))["tls-rpt"]
    assert tls["message"] == (
        "_smtp._tls.tlsmulti.lab has 2 TLS-RPT records, so senders send no reports (RFC 8460 §3)."
    )
    smtp = by_id(transport("smtp554.lab", "--smtp", lang="en"))["smtp"]
    assert smtp["message"] == (
        "mx.smtp554.lab [127.0.0.15]: it greets with 554 instead of 220: it refuses mail."
    )


# -- names and --nameserver -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "form"), [(64, "64 символа"), (65, "65 символов"), (71, "71 символ")]
)
def test_a_long_label_in_russian_takes_the_right_plural(length, form):
    with i18n.speaking("ru"), pytest.raises(DomainSyntaxError) as error:
        normalize_domain("a" * length + ".ru")
    assert str(error.value) == (
        f"В имени «{'a' * length}.ru» есть метка длиной {form}, а метка может быть не "
        "длиннее 63 (RFC 1035)."
    )


def test_a_long_list_ends_with_how_many_more_in_russian():
    from diagnose.checks.mail.mx import listed

    hosts = [f"mx{i}.example.ru" for i in range(12)]
    with i18n.speaking("ru"):
        assert listed(hosts).endswith(", mx9.example.ru, и ещё 2")
    assert listed(hosts).endswith(", mx9.example.ru, and 2 more")


def test_domain_syntax_in_russian(mail):
    _, report = mail("a..b.ru")
    syntax = by_id(report)["domain-syntax"]
    assert syntax["status"] == "fail"
    assert "В имени «a..b.ru» есть пустая метка (две точки подряд)." in syntax["message"]


def test_a_bad_nameserver_is_one_russian_line(cli):
    result = cli("--lang", "ru", "mail", "--nameserver", "dns.example", "good.lab")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert (
        "DNS-сервер «dns.example» задан не IP-адресом; укажите его в виде АДРЕС[:ПОРТ], "
        "например 127.0.0.1:5353 или [::1]:5353." in result.stderr
    )


# -- the catalog -------------------------------------------------------------------------

OWN = (
    "diagnose/checks/mail/mx.py",
    "diagnose/checks/mail/mta_sts.py",
    "diagnose/checks/mail/tls_rpt.py",
    "diagnose/checks/mail/smtp.py",
    "diagnose/checks/mail/extras.py",
    "diagnose/checks/names.py",
    "diagnose/checks/dnsquery.py",
    "diagnose/checks/nameservers.py",
)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_russian_keeps_every_placeholder_of_these_checks():
    """A translation that drops or renames ``{domain}`` would print a KeyError or a
    sentence without its name: every form names exactly the English's fields."""
    path = Path(i18n.LOCALE_DIR) / "ru" / "LC_MESSAGES" / "diagnose.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="ru")
    seen = 0
    for message in catalog:
        if not message.id or not any(where.endswith(OWN) for where, _ in message.locations):
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = _fields(ids[-1])
        for form in forms:
            assert _fields(form) == wanted, (message.id, form)
            assert "'" not in form.replace("’", ""), (message.id, form)  # «ёлочки»
        seen += 1
    assert seen > 100


# -- the parsers of DNS text and user input, in Russian ------------------------------------

# Record-like text: the grammar's own characters (braces included, which a careless
# str.format of the DNS text would choke on) and any other.
RECORDISH = st.one_of(
    st.text(max_size=80),
    st.builds(
        "{}{}".format,
        st.sampled_from(["v=STSv1; ", "v=TLSRPTv1; ", "v=STSv1; id=", "version: STSv1\n"]),
        st.text(alphabet="abcdefgz0129=;:,.*-_ {}'\n\t\r@/", max_size=60),
    ),
)


def _russian_sentence(text: str) -> bool:
    return bool(re.search("[а-яё]", text, re.IGNORECASE)) and text.rstrip().endswith(".")


@given(RECORDISH)
def test_record_errors_are_russian_sentences(text):
    with i18n.speaking("ru"):
        errors = [
            parse_sts_record(text).error,
            parse_tlsrpt(text).error,
            parse_policy(text).error,
        ]
    for error in errors:
        assert error is None or _russian_sentence(error), error


@given(st.text(max_size=70))
def test_name_and_nameserver_errors_are_russian_sentences(text):
    with i18n.speaking("ru"):
        try:
            normalize_domain(text)
        except DomainSyntaxError as error:
            assert _russian_sentence(str(error)), str(error)
        try:
            parse_nameserver(text)
        except UsageError as error:
            assert _russian_sentence(str(error)), str(error)
