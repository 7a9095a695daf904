"""The sending checks (SPF, DMARC, DKIM) in Russian, against the test DNS server.

What a Russian reader of ``diagnose --lang ru mail`` sees: whole Russian sentences with
the domains, tags and counts filled in, the right plural form (1 запись, 2 записи,
5 записей, 21 MX-сервер), RFC citations kept, text from the DNS still escaped on the
terminal; ids, statuses and JSON fields the same in both languages; and the English
exactly as before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from conftest import ZONES
from dnsserver import DnsServer
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnose import i18n
from diagnose.checks.mail.dkim import parse_dkim_key
from diagnose.checks.mail.dmarc import parse_dmarc
from diagnose.checks.mail.spf import parse_spf

SENDING = ("spf", "dmarc", "dkim")
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)

ZONE = """\
$TTL 300
@ SOA ns.send. hostmaster.send. 1 3600 600 86400 300
@ NS ns.send.
ns A 127.0.0.1
host A 1.2.3.4
mx A 1.2.3.4
; -- SPF ----------------------------------------------------------------------------
pass TXT "v=spf1 ip4:1.2.3.4 -all"
_dmarc.pass TXT "v=DMARC1; p=reject"
badip TXT "v=spf1 ip4:999.1.1.1 -all"
badprefix TXT "v=spf1 a/33 -all"
badmacro TXT "v=spf1 exists:%{q}.send -all"
escape TXT "v=spf1 a:\\027[31mred.send -all"
; 2 + (1 + 6) + (1 + 6) = 16 lookups, over the 10 of RFC 7208 §4.6.4
many TXT "v=spf1 include:p1.send include:p2.send -all"
p1 TXT "v=spf1 include:common.send -all"
p2 TXT "v=spf1 include:common.send -all"
common TXT "v=spf1 a:host.send a:host.send a:host.send a:host.send a:host.send a:host.send -all"
two TXT "v=spf1 -all"
two TXT "v=spf1 ip4:1.2.3.4 -all"
incnone TXT "v=spf1 include:host.send -all"
mx21 TXT "v=spf1 mx -all"
mx22 TXT "v=spf1 mx -all"
; -- DMARC --------------------------------------------------------------------------
nodmarc TXT "v=spf1 -all"
monitor TXT "v=spf1 -all"
_dmarc.monitor TXT "v=DMARC1; p=none"
obsolete TXT "v=spf1 -all"
_dmarc.obsolete TXT "v=DMARC1; p=reject; pct=50; rf=afrf; ri=86400"
oneobsolete TXT "v=spf1 -all"
_dmarc.oneobsolete TXT "v=DMARC1; p=reject; ri=86400"
twodmarc TXT "v=spf1 -all"
_dmarc.twodmarc TXT "v=DMARC1; p=reject"
_dmarc.twodmarc TXT "v=DMARC1; p=none"
badpolicy TXT "v=spf1 -all"
_dmarc.badpolicy TXT "v=DMARC1; p=maybe"
testing TXT "v=spf1 -all"
_dmarc.testing TXT "v=DMARC1; p=reject; t=y"
_dmarc.org TXT "v=DMARC1; p=reject; sp=none"
sub.org TXT "v=spf1 -all"
"""
NAMES = [
    "pass",
    "badip",
    "badprefix",
    "badmacro",
    "escape",
    "many",
    "two",
    "incnone",
    "mx21",
    "mx22",
    "nodmarc",
    "monitor",
    "obsolete",
    "oneobsolete",
    "twodmarc",
    "badpolicy",
    "testing",
    "sub.org",
]


@pytest.fixture(scope="module")
def send_dns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    zones = tmp_path_factory.mktemp("send-zones")
    text = ZONE + "".join(f"{name} MX 10 mx.send.\n" for name in NAMES if not name.startswith("mx"))
    text += "".join(f"mx21 MX {i} m{i}.host.send.\n" for i in range(21))
    text += "".join(f"mx22 MX {i} m{i}.host.send.\n" for i in range(22))
    (zones / "send.zone").write_text(text)
    with DnsServer(zones) as server:
        yield server


@pytest.fixture(scope="module")
def dkim_dns() -> Iterator[DnsServer]:
    """The transport zones: dkim.lab has keys under selectors s2048, s1024, ed, ..."""
    with DnsServer(ZONES / "transport") as server:
        yield server


def reports(cli, server: DnsServer, lang: str, *args: str) -> list[dict[str, object]]:
    result = cli(
        "--lang", lang, "mail", "--nameserver", server.address, "--timeout", "3",
        "--format", "json", *args,
    )  # fmt: skip
    assert result.stderr == "", result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def checks(report: dict[str, object]) -> dict[str, dict[str, object]]:
    return {check["id"]: check for check in report["checks"]}  # type: ignore[attr-defined]


def message(cli, server: DnsServer, lang: str, domain: str, check: str) -> str:
    [report] = reports(cli, server, lang, domain)
    return str(checks(report)[check]["message"])


# -- SPF -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "russian", "english"),
    [
        (
            "pass.send",
            "У домена pass.send одна корректная SPF-запись, и она заканчивается на -all.",
            "pass.send has one valid SPF record ending in -all.",
        ),
        (
            "badip.send",
            "SPF-запись домена badip.send недействительна. Элемент «ip4:999.1.1.1» записан "
            "неверно: «999.1.1.1» — не IPv4-адрес.",
            "The SPF record of badip.send is invalid: The term 'ip4:999.1.1.1' is invalid: "
            "'999.1.1.1' is not an IPv4 address.",
        ),
        (
            "badprefix.send",
            "SPF-запись домена badprefix.send недействительна. Элемент «a/33» записан неверно: "
            "длина префикса /33 больше 32.",
            "The SPF record of badprefix.send is invalid: The term 'a/33' is invalid: the "
            "prefix length /33 is over 32.",
        ),
        (
            "badmacro.send",
            "SPF-запись домена badmacro.send недействительна. Элемент «exists:%{q}.send» "
            "записан неверно: «%{q}» — не макрос: буквой макроса может быть только s, l, o, "
            "d, i, p, h, c, r, t или v (RFC 7208 §7.1).",
            "The SPF record of badmacro.send is invalid: The term 'exists:%{q}.send' is "
            "invalid: '%{q}' is not a macro; the letters are s, l, o, d, i, p, h, c, r, t and "
            "v (RFC 7208 §7.1).",
        ),
        (
            "many.send",
            "SPF-запись домена many.send требует больше 10 DNS-запросов (11-й по счёту — "
            "элемент a в записи домена common.send), а RFC 7208 §4.6.4 допускает не больше 10 "
            "(permerror).",
            "The SPF record of many.send needs more than 10 DNS lookups (the a term in the "
            "record of common.send is number 11); RFC 7208 §4.6.4 allows 10 (permerror).",
        ),
        (
            "incnone.send",
            "SPF-запись домена incnone.send ссылается на домен, у которого должна быть ровно "
            "одна SPF-запись (permerror), а у host.send (include в записи incnone.send) "
            "SPF-записи нет.",
            "The SPF record of incnone.send refers to a domain without exactly one SPF record "
            "(permerror): host.send (include of incnone.send) has no SPF record.",
        ),
        (
            "nodmarc.send",
            "У домена nodmarc.send одна корректная SPF-запись, и она заканчивается на -all.",
            "nodmarc.send has one valid SPF record ending in -all.",
        ),
    ],
)
def test_spf_speaks_russian_and_english_is_unchanged(cli, send_dns, domain, russian, english):
    assert message(cli, send_dns, "ru", domain, "spf") == russian
    assert message(cli, send_dns, "en", domain, "spf") == english


@pytest.mark.parametrize(
    ("domain", "words"),
    [
        ("two.send", "У домена two.send 2 SPF-записи, а RFC 7208 §4.5 допускает только одну"),
        ("mx21.send", "указывает на 21 MX-сервер, а RFC 7208 §4.6.4 допускает не больше 10"),
        ("mx22.send", "указывает на 22 MX-сервера, а RFC 7208 §4.6.4 допускает не больше 10"),
    ],
)
def test_spf_counts_take_the_russian_plural_form(cli, send_dns, domain, words):
    spf = checks(reports(cli, send_dns, "ru", domain)[0])["spf"]
    assert spf["status"] == "fail"
    assert words in str(spf["message"])


def test_an_spf_syntax_error_from_the_dns_is_escaped_on_a_russian_terminal(cli, send_dns):
    result = cli(
        "--lang", "ru", "mail", "--nameserver", send_dns.address, "--timeout", "3", "escape.send"
    )  # fmt: skip
    line = next(line for line in result.stdout.splitlines() if " spf " in line)
    assert "\x1b" not in result.stdout
    assert "SPF-запись домена escape.send недействительна." in line
    assert "Элемент «a:\\x1b[31mred.send» записан неверно: символ '\\x1b' здесь недопустим." in line


# -- DMARC -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "status", "russian", "english"),
    [
        (
            "nodmarc.send",
            "warn",
            "У домена nodmarc.send нет DMARC-записи в _dmarc.nodmarc.send, и ни один "
            "родительский домен не публикует запись, которая бы к нему применялась (обход "
            "дерева DNS, RFC 9989 §4.10).",
            "nodmarc.send has no DMARC record at _dmarc.nodmarc.send, and no parent domain "
            "publishes one that applies (DNS tree walk, RFC 9989 §4.10).",
        ),
        (
            "monitor.send",
            "warn",
            "Политика DMARC домена monitor.send — p=none: это только мониторинг, без защиты.",
            "The DMARC policy of monitor.send is p=none: it only monitors.",
        ),
        (
            "obsolete.send",
            "warn",
            "У домена obsolete.send есть DMARC-запись с p=reject. В записи остались теги pct, "
            "rf, ri, исключённые в RFC 9989; получатели их не учитывают (чтобы опробовать "
            "политику, используйте t=y).",
            "obsolete.send has a DMARC record with p=reject. The record still has pct, rf, ri, "
            "which RFC 9989 removed; receivers ignore them (use t=y to test a policy).",
        ),
        (
            "oneobsolete.send",
            "warn",
            "У домена oneobsolete.send есть DMARC-запись с p=reject. В записи остался тег ri, "
            "исключённый в RFC 9989; получатели его не учитывают.",
            "oneobsolete.send has a DMARC record with p=reject. The record still has ri, which "
            "RFC 9989 removed; receivers ignore it.",
        ),
        (
            "twodmarc.send",
            "fail",
            "В _dmarc.twodmarc.send опубликованы 2 DMARC-записи, поэтому не действует ни одна "
            "(RFC 9989 §4.10).",
            "_dmarc.twodmarc.send has 2 DMARC records, so none applies (RFC 9989 §4.10).",
        ),
        (
            "badpolicy.send",
            "fail",
            "DMARC-запись в _dmarc.badpolicy.send недействительна. Политика p=maybe "
            "недопустима: возможны только none, quarantine и reject.",
            "The DMARC record at _dmarc.badpolicy.send is invalid: The policy p=maybe is not "
            "none, quarantine or reject.",
        ),
        (
            "testing.send",
            "pass",
            "У домена testing.send есть DMARC-запись с p=reject. Включён тестовый режим (t=y), "
            "поэтому получатели применяют политику на ступень мягче: quarantine.",
            "testing.send has a DMARC record with p=reject. It is in test mode (t=y): "
            "receivers apply quarantine instead.",
        ),
        (
            "sub.org.send",
            "warn",
            "У домена sub.org.send нет своей DMARC-записи; к нему применяется запись в "
            "_dmarc.org.send (его организационный домен; запись найдена обходом дерева DNS по "
            "RFC 9989 §4.10) с sp=none: это только мониторинг, без защиты.",
            "sub.org.send has no DMARC record of its own; the record at _dmarc.org.send (its "
            "organizational domain, found by the DNS tree walk of RFC 9989 §4.10) applies with "
            "sp=none: it only monitors.",
        ),
    ],
)
def test_dmarc_speaks_russian_and_english_is_unchanged(
    cli, send_dns, domain, status, russian, english
):
    [ru] = reports(cli, send_dns, "ru", domain)
    [en] = reports(cli, send_dns, "en", domain)
    assert checks(ru)["dmarc"]["status"] == checks(en)["dmarc"]["status"] == status
    assert checks(ru)["dmarc"]["message"] == russian
    assert checks(en)["dmarc"]["message"] == english


# -- DKIM ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "status", "russian", "english"),
    [
        (
            "s2048",
            "pass",
            "У селектора s2048 ключ RSA длиной 2048 бит.",
            "Selector s2048 has a 2048-bit RSA key.",
        ),
        (
            "s1024",
            "warn",
            "У селектора s1024 ключ RSA длиной 1024 бита: используйте ключ длиной не меньше "
            "2048 бит (RFC 8301 §3.2).",
            "Selector s1024 has a 1024-bit RSA key: use at least 2,048 bits (RFC 8301 §3.2).",
        ),
        (
            "s512",
            "fail",
            "У селектора s512 ключ RSA длиной 512 бит: получатели не учитывают ключи RSA "
            "короче 1024 бит (RFC 8301 §3.2).",
            "Selector s512 has a 512-bit RSA key: verifiers ignore RSA keys under 1,024 bits "
            "(RFC 8301 §3.2).",
        ),
        (
            "edshort",
            "fail",
            "Запись ключа в edshort._domainkey.dkim.lab недействительна: длина ключа Ed25519 — "
            "3 октета, а должна быть 32 (RFC 8463 §4.2).",
            "The key record at edshort._domainkey.dkim.lab is invalid: the Ed25519 key is 3 "
            "octets long, not 32 (RFC 8463 §4.2).",
        ),
        (
            "missing",
            "fail",
            "В missing._domainkey.dkim.lab нет DKIM-ключа, поэтому письма, подписанные с "
            "селектором missing, не проходят проверку DKIM.",
            "There is no DKIM key at missing._domainkey.dkim.lab, so letters signed with "
            "selector missing fail DKIM.",
        ),
        (
            "multi",
            "fail",
            "В multi._domainkey.dkim.lab опубликованы 2 TXT-записи, поэтому ключ не определён "
            "(RFC 6376 §3.6.2.2 допускает только одну).",
            "There are 2 TXT records at multi._domainkey.dkim.lab, so the key is undefined "
            "(RFC 6376 §3.6.2.2 allows one).",
        ),
        (
            "revoked",
            "warn",
            "Ключ в revoked._domainkey.dkim.lab отозван (пустой p=), поэтому подписанные им "
            "письма не проходят проверку DKIM.",
            "The key at revoked._domainkey.dkim.lab is revoked (empty p=), so letters signed "
            "with it fail DKIM.",
        ),
    ],
)
def test_dkim_speaks_russian_and_english_is_unchanged(
    cli, dkim_dns, selector, status, russian, english
):
    for lang, expected in (("ru", russian), ("en", english)):
        [report] = reports(cli, dkim_dns, lang, "--dkim-selector", selector, "dkim.lab")
        dkim = checks(report)["dkim"]
        assert (dkim["status"], dkim["message"]) == (status, expected)
        assert dkim["keys"][0]["selector"] == selector  # type: ignore[index]


def test_an_invalid_key_ends_in_one_period_in_either_language(cli, dkim_dns):
    # The key record's own sentence is quoted in the selector's clause: it once ended "..".
    for lang, words in (("ru", "записан не в формате base64."), ("en", "not valid base64.")):
        [report] = reports(cli, dkim_dns, lang, "--dkim-selector", "badkey", "dkim.lab")
        text = str(checks(report)["dkim"]["message"])
        assert text.endswith(words) and not text.endswith(".."), text


def test_dkim_without_a_selector_says_why_in_russian(cli, dkim_dns):
    [report] = reports(cli, dkim_dns, "ru", "dkim.lab")
    dkim = checks(report)["dkim"]
    assert dkim["status"] == "skip"
    assert dkim["message"] == (
        "Пропущено: DKIM-ключи ищутся по селектору, а он не указан. Добавьте --dkim-selector "
        "S, где S — значение s= из заголовка DKIM-Signature письма, отправленного с этого "
        "домена."
    )


@pytest.mark.parametrize(
    ("selector", "russian"),
    [
        (
            "s1._domainkey.dkim.lab",
            "Укажите только селектор DKIM, а не «s1._domainkey.dkim.lab»: для "
            "s1._domainkey.example.com селектор — s1.",
        ),
        (
            "a b",
            "Селектор DKIM «a b» недопустим: он состоит из одной или нескольких меток из букв, "
            "цифр, дефисов и подчёркиваний, разделённых точками.",
        ),
    ],
)
def test_a_bad_selector_is_one_russian_line_and_exit_2(cli, dkim_dns, selector, russian):
    result = cli(
        "--lang", "ru", "mail", "--nameserver", dkim_dns.address, "--dkim-selector", selector,
        "dkim.lab",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == f"diagnose: ошибка: {russian}\n"
    assert result.stdout == ""


# -- the whole of it -------------------------------------------------------------------


def test_every_sending_message_is_russian_and_everything_else_is_the_same(cli, send_dns):
    domains = [f"{name}.send" for name in NAMES]
    russian = reports(cli, send_dns, "ru", *domains)
    english = reports(cli, send_dns, "en", *domains)
    assert [r["domain"] for r in russian] == [r["domain"] for r in english] == domains
    for ru, en in zip(russian, english, strict=True):
        assert (ru["status"], ru["lang"], en["lang"]) == (en["status"], "ru", "en")
        ru_checks, en_checks = checks(ru), checks(en)
        assert list(ru_checks) == list(en_checks)  # the same ids, in the same order
        for check_id in SENDING:
            ours, theirs = ru_checks[check_id], en_checks[check_id]
            # every field but the message is the same: statuses, records, counts, groups
            assert {k: v for k, v in ours.items() if k != "message"} == {
                k: v for k, v in theirs.items() if k != "message"
            }
            text = str(ours["message"])
            assert CYRILLIC.search(text[:40]), (ru["domain"], check_id, text)
            assert not re.search(r"\b(?:the|has|record|is|and)\b", text), text


# -- the parsers, in Russian, on any input ---------------------------------------------

SPF_TOKENS = st.sampled_from(
    [" ", "a", "mx", "ptr", "include", "exists", "all", "ip4", "ip6", ":", "/", "//", "24",
     "33", "08", ".", "example.com", "%{d}", "%{c}", "%{q}", "%{d0}", "%", "%%", "{", "}",
     "redirect=", "exp=", "x=", "-", "~", "?", "+", "999.1.1.1", "::1", "\t", "é", "'"]
)  # fmt: skip


@given(st.lists(SPF_TOKENS, max_size=12).map("".join))
@settings(max_examples=300, deadline=None)
def test_spf_syntax_sentences_are_russian_whatever_the_record(body):
    text = "v=spf1 " + body
    english = parse_spf(text)
    with i18n.speaking("ru"):
        russian = parse_spf(text)
    assert russian.terms == english.terms
    assert (russian.error is None) == (english.error is None)
    if russian.error is not None:
        assert CYRILLIC.search(russian.error) and russian.error != english.error
        assert russian.error.endswith((".", ")")), russian.error


TAG_TOKENS = st.sampled_from(
    ["v=DMARC1", "v=DKIM1", ";", " ", "=", "p=", "sp=", "np=", "psd=", "t=", "adkim=", "aspf=",
     "pct=", "k=", "h=", "none", "reject", "maybe", "rsa", "ed25519", "y", "x", "AAAA", "{", "}"]
)  # fmt: skip


@given(st.lists(TAG_TOKENS, max_size=10).map("".join))
@settings(max_examples=300, deadline=None)
def test_dmarc_and_dkim_record_errors_are_russian_whatever_the_record(text):
    for parse in (parse_dmarc, parse_dkim_key):
        english = parse(text).error
        with i18n.speaking("ru"):
            russian = parse(text).error
        assert (russian is None) == (english is None)
        if russian is not None:
            assert CYRILLIC.search(russian) and russian != english, russian
