"""MTA-STS, TLS-RPT, DKIM and the SMTP probe of `diagnose mail`, end to end.

Everything runs on loopback: a DNS server for tests/zones/transport (its own zone and
faults file), an HTTPS server for the MTA-STS policies on 127.0.0.1 (and one with a
certificate for another name on 127.0.0.2), SMTP servers on 127.0.0.11-17; a test CA
(trustme) is the only trusted root, through SSL_CERT_FILE. The checks reach the
loopback servers' ports through the hidden --mta-sts-port and --smtp-port options;
the addresses come from the DNS answers, as in real use.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from conftest import ZONES
from dnsserver import DnsServer
from hypothesis import given
from hypothesis import strategies as st
from mailservers import (
    CHUNKED,
    POLICIES,
    PolicyServer,
    RawServer,
    free_port,
    never_greet,
    refuse_mail,
)

from diagnose.checks.mail import CHECK_IDS
from diagnose.checks.mail.dkim import parse_dkim_key, rsa_key_bits
from diagnose.checks.mail.mta_sts import (
    mx_matches,
    parse_policy,
    parse_sts_record,
)
from diagnose.checks.mail.smtp import name_matches
from diagnose.checks.mail.tls_rpt import parse_tlsrpt
from diagnose.checks.names import parse_selector
from diagnose.exceptions import UsageError

NEW_IDS = ("mta-sts", "tls-rpt", "dkim", "smtp")


# -- the servers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def transport_dns() -> Iterator[DnsServer]:
    with DnsServer(ZONES / "transport") as server:
        yield server


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[trustme.CA]:
    """The test CA, the only root `ssl.create_default_context()` trusts meanwhile."""
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    previous = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(path)
    yield authority
    if previous is None:
        os.environ.pop("SSL_CERT_FILE", None)
    else:
        os.environ["SSL_CERT_FILE"] = previous


def server_context(authority: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*names).configure_cert(context)
    return context


@pytest.fixture(scope="module")
def policy_servers(ca: trustme.CA) -> Iterator[tuple[int, PolicyServer]]:
    """127.0.0.1: every mta-sts.*.lab name; 127.0.0.2 (same port): another name."""
    names = sorted({*POLICIES, *CHUNKED})
    good = PolicyServer("127.0.0.1", 0, server_context(ca, *names)).start()
    wrong = PolicyServer("127.0.0.2", good.port, server_context(ca, "wrong.lab")).start()
    silent = RawServer("127.0.0.4", good.port, never_greet).start()
    yield good.port, good
    good.stop()
    wrong.stop()
    silent.stop()


@pytest.fixture(scope="module")
def smtp_port(ca: trustme.CA) -> Iterator[int]:
    """SMTP servers on one port: 127.0.0.11 STARTTLS with a valid certificate, .12 no
    STARTTLS, .13 a certificate for another name, .14 one from an untrusted CA,
    .15 a 554 greeting, .16 nothing listening, .17 no greeting at all."""
    port = free_port("127.0.0.11")
    stranger = trustme.CA()  # not in SSL_CERT_FILE
    untrusted = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    stranger.issue_cert("mx.smtpuntrusted.lab").configure_cert(untrusted)
    controllers = [
        Controller(
            Sink(),
            hostname=address,
            port=port,
            server_hostname=name,  # never socket.getfqdn(): no lookup leaves loopback
            **({"tls_context": context} if context else {}),
        )
        for address, name, context in (
            ("127.0.0.11", "mx.smtpok.lab", server_context(ca, "mx.smtpok.lab")),
            ("127.0.0.12", "mx.smtpplain.lab", None),
            ("127.0.0.13", "mx.smtpname.lab", server_context(ca, "other.lab")),
            ("127.0.0.14", "mx.smtpuntrusted.lab", untrusted),
        )
    ]
    for controller in controllers:
        controller.start()
    raw = [
        RawServer("127.0.0.15", port, refuse_mail).start(),
        RawServer("127.0.0.17", port, never_greet).start(),
    ]
    yield port
    for controller in controllers:
        controller.stop()
    for server in raw:
        server.stop()


@pytest.fixture
def check(cli, transport_dns, policy_servers, smtp_port):
    """`diagnose mail --format json ...` against the transport zone and servers."""

    def run(*args: str, timeout: str = "3"):
        result = cli(
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
        assert "Traceback" not in result.stdout + result.stderr
        reports = [json.loads(line) for line in result.stdout.splitlines()]
        return result, reports

    return run


def by_id(report: dict) -> dict[str, dict]:
    return {check["id"]: check for check in report["checks"]}


# -- MTA-STS ----------------------------------------------------------------------

MTA_STS_CASES = {
    "stsnone.lab": "pass",
    "stsok.lab": "pass",
    "stschunked.lab": "pass",
    "stsmodenone.lab": "pass",
    "stsmiss.lab": "fail",
    "ststesting.lab": "warn",
    "stsshort.lab": "warn",
    "stsmulti.lab": "warn",
    "stsbadrec.lab": "warn",
    "stsnohost.lab": "warn",
    "sts404.lab": "warn",
    "stsredirect.lab": "warn",
    "ststype.lab": "warn",
    "stsbig.lab": "warn",
    "stsbadpolicy.lab": "warn",
    "stscert.lab": "warn",
    "stserr.lab": "error",
    "stshosterr.lab": "error",
    "stsdown.lab": "error",
    "stsmxerr.lab": "error",
    "nxdomain.lab": "skip",
}


@pytest.fixture(scope="module")
def sts_reports(transport_dns, policy_servers, smtp_port):
    """Every MTA_STS_CASES domain in one batch."""
    from click.testing import CliRunner

    from diagnose.cli import cli as diagnose_cli

    args = ["mail", "--nameserver", transport_dns.address, "--timeout", "3"]
    args += ["--format", "json", "--mta-sts-port", str(policy_servers[0])]
    result = CliRunner().invoke(diagnose_cli, [*args, *MTA_STS_CASES])
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    return {report["input"]: report for report in reports}


@pytest.mark.parametrize(("domain", "status"), list(MTA_STS_CASES.items()))
def test_mta_sts_statuses(sts_reports, domain, status):
    report = sts_reports[domain]
    assert [check["id"] for check in report["checks"]] == list(CHECK_IDS)
    sts = by_id(report)["mta-sts"]
    assert sts["status"] == status, sts
    assert sts["message"].endswith((".", ")")), sts


def test_mta_sts_enforce_policy_that_misses_an_mx_host_is_a_receiving_failure(sts_reports):
    report = sts_reports["stsmiss.lab"]
    sts = by_id(report)["mta-sts"]
    assert sts["mode"] == "enforce" and sts["mx"] == ["mx.stsmiss.lab"]
    assert sts["unmatched"] == ["backup.stsok.lab"]
    assert "backup.stsok.lab" in sts["message"] and "will not deliver" in sts["message"]
    assert report["status"] == "fail"
    assert "cannot receive mail" in report["verdict"]
    assert "MTA-STS" in report["verdict"]


def test_mta_sts_pass_reports_mode_max_age_and_patterns(sts_reports, policy_servers):
    sts = by_id(sts_reports["stsok.lab"])["mta-sts"]
    assert sts["id"] == "mta-sts" and sts["record"].startswith("v=STSv1")
    assert (sts["mode"], sts["max_age"], sts["mx"]) == ("enforce", 1209600, ["*.stsok.lab"])
    assert sts["unmatched"] == []
    assert "mode enforce, max_age 1209600 s (14 days)" in sts["message"]
    assert "max_age 300 s (5 minutes)" in by_id(sts_reports["stsshort.lab"])["mta-sts"]["message"]
    assert sts["policy_url"] == (
        f"https://mta-sts.stsok.lab:{policy_servers[0]}/.well-known/mta-sts.txt"
    )
    # the policy was asked for by name (SNI and Host), at the address the DNS gave
    assert ("mta-sts.stsok.lab", "/.well-known/mta-sts.txt") in policy_servers[1].requests


def test_mta_sts_without_a_record_is_not_a_failure(sts_reports):
    report = sts_reports["stsnone.lab"]
    sts = by_id(report)["mta-sts"]
    assert sts["published"] is False and "no MTA-STS policy" in sts["message"]
    assert report["status"] != "fail"


@pytest.mark.parametrize(
    ("domain", "words"),
    [
        ("stscert.lab", "certificate is not valid for mta-sts.stscert.lab"),
        ("stsredirect.lab", "must not follow"),
        ("sts404.lab", "HTTP 404"),
        ("ststype.lab", "text/html"),
        ("stsbig.lab", "65,536 bytes"),
        ("stsbadpolicy.lab", "mode is 'maybe'"),
        ("stsnohost.lab", "has no address"),
        ("stsmulti.lab", "2 MTA-STS records"),
        ("stsdown.lab", "could not be reached from here"),
        ("stserr.lab", "SERVFAIL"),
        ("stsmxerr.lab", "MX lookup failed"),
        ("ststesting.lab", "would not deliver there in enforce mode"),
        ("stsshort.lab", "under a day"),
    ],
)
def test_mta_sts_says_why(sts_reports, domain, words):
    assert words in by_id(sts_reports[domain])["mta-sts"]["message"]


def test_mta_sts_silent_policy_host_is_undetermined_within_the_budget(check):
    import time

    started = time.monotonic()
    result, [report] = check("stssilent.lab", timeout="1")
    assert time.monotonic() - started < 4  # a sanity bound on the 1 s budget, not a figure
    sts = by_id(report)["mta-sts"]
    assert sts["status"] == "error"
    assert "did not answer within the time budget" in sts["message"]
    assert result.exit_code == 3
    assert "undetermined" in report["verdict"]


def test_mta_sts_text_from_dns_is_escaped_on_the_terminal(cli, transport_dns, policy_servers):
    result = cli("mail", "--nameserver", transport_dns.address, "stsescape.lab")
    assert "\x1b" not in result.stdout
    assert "\\x1b[31mred" in result.stdout
    assert re.search(r"WARN\s+mta-sts\s+The MTA-STS record", result.stdout)


# -- TLS-RPT ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "status", "words"),
    [
        ("tlsok.lab", "pass", "mailto:tls@tlsok.lab, https://reports.tlsok.lab/tls"),
        ("stsnone.lab", "pass", "publishes no TLS-RPT record"),
        ("tlsbad.lab", "warn", "'ftp://reports.tlsbad.lab' is not a mailto: or https: URI"),
        ("tlsmulti.lab", "warn", "2 TLS-RPT records"),
        ("tlserr.lab", "error", "SERVFAIL"),
        ("nxdomain.lab", "skip", "does not exist"),
    ],
)
def test_tls_rpt_statuses(check, domain, status, words):
    _, [report] = check(domain)
    tls = by_id(report)["tls-rpt"]
    assert tls["status"] == status and words in tls["message"], tls
    if status in ("pass", "warn"):
        # TLS-RPT only asks for reports: never a reason mail cannot arrive
        assert "cannot receive" not in report["verdict"]


# -- DKIM -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "status", "words"),
    [
        ("s2048", "pass", "2048-bit RSA key"),
        ("pkcs1", "pass", "4096-bit RSA key"),
        ("ed", "pass", "Ed25519 key"),
        ("s1024", "warn", "use at least 2,048 bits"),
        ("revoked", "warn", "revoked (empty p=)"),
        ("sha1", "warn", "sha1 must not be used"),
        ("testing", "warn", "t=y marks it as testing"),
        ("s512", "fail", "verifiers ignore RSA keys under 1,024 bits"),
        ("missing", "fail", "no DKIM key at missing._domainkey.dkim.lab"),
        ("multi", "fail", "2 TXT records"),
        ("badkey", "fail", "not valid base64"),
        ("badtags", "fail", "appears more than once"),
        ("edshort", "fail", "not 32"),
        ("err", "error", "SERVFAIL"),
    ],
)
def test_dkim_statuses(check, selector, status, words):
    _, [report] = check("dkim.lab", "--dkim-selector", selector)
    dkim = by_id(report)["dkim"]
    assert dkim["status"] == status and words in dkim["message"], dkim
    assert dkim["keys"][0]["selector"] == selector
    assert dkim["keys"][0]["status"] == status


def test_dkim_several_selectors_take_the_worst_and_keep_each(check):
    _, [report] = check(
        "dkim.lab", "--dkim-selector", "s2048", "--dkim-selector", "S1024.", "--dkim-selector", "ed"
    )
    dkim = by_id(report)["dkim"]
    assert dkim["status"] == "warn"
    assert [(k["selector"], k["status"]) for k in dkim["keys"]] == [
        ("s2048", "pass"),
        ("s1024", "warn"),
        ("ed", "pass"),
    ]
    assert [k.get("bits") for k in dkim["keys"]] == [2048, 1024, 256]


def test_dkim_without_a_selector_is_skipped_in_words(check):
    _, [report] = check("dkim.lab")
    dkim = by_id(report)["dkim"]
    assert dkim["status"] == "skip"
    assert "--dkim-selector" in dkim["message"] and "s= value" in dkim["message"]


def test_dkim_is_sending_only_a_bad_key_never_stops_mail_arriving(check):
    _, [report] = check("dkim.lab", "--dkim-selector", "s512")
    assert report["status"] == "fail"
    assert "cannot receive" not in report["verdict"]
    assert "s512._domainkey.dkim.lab" in report["verdict"]


def test_email_takes_the_same_options(cli, transport_dns):
    result = cli(
        "email",
        "--nameserver",
        transport_dns.address,
        "--format",
        "json",
        "--dkim-selector",
        "ed",
        "someone@dkim.lab",
    )
    report = json.loads(result.stdout)
    assert report["email"] == "someone@dkim.lab"
    assert by_id(report)["dkim"]["status"] == "pass"
    assert by_id(report)["smtp"]["status"] == "skip"


@pytest.mark.parametrize(
    ("selector", "words"),
    [
        ("", "empty"),
        ("s1._domainkey.example.com", "Give only the DKIM selector"),
        ("bad selector", "is not valid"),
        ("-x", "is not valid"),
    ],
)
def test_bad_dkim_selector_is_a_usage_error(cli, transport_dns, selector, words):
    before = transport_dns.queries
    result = cli(
        "mail", "--nameserver", transport_dns.address, "dkim.lab", "--dkim-selector", selector
    )
    assert result.exit_code == 2
    assert words in result.stderr and result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert transport_dns.queries == before  # refused before any query left


# -- the SMTP probe ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "status", "words"),
    [
        ("smtpok.lab", "pass", "with a trusted certificate for mx.smtpok.lab"),
        ("smtpplain.lab", "warn", "does not offer STARTTLS"),
        ("smtpname.lab", "warn", "names other.lab, not mx.smtpname.lab"),
        ("smtpuntrusted.lab", "warn", "certificate is not trusted"),
        ("smtp554.lab", "fail", "greets with 554 instead of 220: it refuses mail"),
        ("smtpsts.lab", "fail", "the MTA-STS policy enforces TLS"),
        ("smtpdown.lab", "error", "many networks block outgoing port 25"),
        ("nullmx.lab", "skip", "no MX address"),
        ("stsmxerr.lab", "skip", "the MX lookup failed"),
    ],
)
def test_smtp_statuses(check, domain, status, words):
    _, [report] = check(domain, "--smtp")
    smtp = by_id(report)["smtp"]
    assert smtp["status"] == status and words in smtp["message"], smtp


def test_smtp_probe_reports_each_address(check, smtp_port):
    _, [report] = check("smtpmixed.lab", "--smtp")
    smtp = by_id(report)["smtp"]
    assert smtp["status"] == "warn"
    probes = {p["address"]: p for p in smtp["probes"]}
    assert probes["127.0.0.11"]["starttls"] is True
    assert probes["127.0.0.11"]["certificate"] == "valid"
    assert probes["127.0.0.11"]["banner"].startswith("mx.smtpok.lab")
    assert probes["127.0.0.12"]["starttls"] is False
    assert "mx.smtpok.lab [127.0.0.11]" in smtp["message"]


def test_smtp_silent_server_is_undetermined_within_the_budget(check):
    import time

    started = time.monotonic()
    _, [report] = check("smtpsilent.lab", "--smtp", timeout="1")
    assert time.monotonic() - started < 4  # a sanity bound on the 1 s budget, not a figure
    smtp = by_id(report)["smtp"]
    assert smtp["status"] == "error"
    assert "stopped answering while greeting" in smtp["message"]


def test_smtp_is_opt_in(check):
    _, [report] = check("smtpok.lab")
    smtp = by_id(report)["smtp"]
    assert smtp["status"] == "skip" and "--smtp" in smtp["message"]


def test_smtp_never_starts_a_letter(check, smtp_port):
    """The probe's commands are EHLO, STARTTLS and QUIT: a server that records them
    never sees MAIL, RCPT or DATA."""
    import socket
    import threading

    seen: list[bytes] = []

    def talk(conn: socket.socket) -> None:
        with conn:
            conn.sendall(b"220 mx.smtpdown.lab ESMTP\r\n")
            data = b""
            while b"QUIT" not in data:
                chunk = conn.recv(1024)
                if not chunk:
                    break
                data += chunk
                if data.endswith(b"\r\n"):
                    seen.append(data)
                    reply = b"221 bye\r\n" if b"QUIT" in data else b"250-hello\r\n250 SIZE 1000\r\n"
                    conn.sendall(reply)
                    data = b"" if b"QUIT" not in data else data

    server = RawServer("127.0.0.16", smtp_port, talk).start()
    try:
        _, [report] = check("smtpdown.lab", "--smtp")
    finally:
        server.stop()
    threading.Event().wait(0.1)
    commands = [line.split()[0].decode() for line in seen]
    assert commands == ["EHLO", "QUIT"]
    assert seen[0].startswith(b"EHLO [127.0.0.")  # an address literal: no name looked up
    assert by_id(report)["smtp"]["status"] == "warn"


# -- every new check, and the rest unchanged ---------------------------------------


def test_new_checks_are_documented_in_the_readme():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for check_id in NEW_IDS:
        assert re.search(rf"^\| {re.escape(check_id)} \|", readme, re.MULTILINE), check_id
    assert "--smtp-port" in readme and "--mta-sts-port" in readme


def test_start_up_imports_none_of_the_new_checks():
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "diagnose", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()}
    assert not {name for name in imported if name.startswith(("diagnose.checks.mail", "ssl"))}


# -- the parsers (property-based) ----------------------------------------------------


@given(st.text())
def test_parse_selector_accepts_or_refuses_with_a_sentence(text):
    try:
        selector = parse_selector(text)
    except UsageError as error:
        assert str(error).endswith(".")
        return
    assert selector == selector.lower() and not selector.endswith(".")
    assert all(0 < len(label) <= 63 for label in selector.split("."))
    assert "._domainkey" not in selector


@given(st.text())
def test_record_parsers_never_raise(text):
    for parsed in (parse_tlsrpt(text), parse_sts_record(text), parse_dkim_key(text)):
        assert parsed.error is None or parsed.error.endswith((".", ")"))
    policy = parse_policy(text)
    assert policy.error is None or policy.error.endswith(".")
    if policy.error is None:
        assert policy.mode in ("enforce", "testing", "none")
        assert policy.max_age is not None and 0 <= policy.max_age <= 31_557_600


@given(st.binary(max_size=600))
def test_rsa_key_bits_only_raises_value_error(data):
    try:
        bits = rsa_key_bits(data)
    except ValueError as error:
        assert str(error).endswith(".")
    else:
        assert bits >= 0


label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)


@given(label, st.lists(label, min_size=1, max_size=4))
def test_wildcard_patterns_match_exactly_one_label(first, rest):
    domain = ".".join(rest)
    host = f"{first}.{domain}"
    for matches in (mx_matches, name_matches):
        assert matches(f"*.{domain}", host)
        assert matches(host.upper(), host + ".")
        assert not matches(f"*.{domain}", domain)
        assert not matches(f"*.{domain}", f"x.{host}")


def test_tlsrpt_and_sts_record_grammar():
    assert parse_tlsrpt("v=TLSRPTv1; rua=mailto:a@b.lab").rua == ("mailto:a@b.lab",)
    assert parse_tlsrpt("v=TLSRPTv1;rua=https://r.lab/x;").error is None
    assert "no rua=" in (parse_tlsrpt("v=TLSRPTv1; ext=1").error or "")
    assert parse_sts_record("v=STSv1; id=abc123;").id == "abc123"
    assert "no id=" in (parse_sts_record("v=STSv1; x=y").error or "")
    assert "1 to 32" in (parse_sts_record("v=STSv1; id=" + "a" * 33).error or "")
    policy = parse_policy("version: STSv1\r\nmode: testing\r\nmx: MX1.Lab.\r\nmax_age: 0\r\n")
    assert (policy.error, policy.mode, policy.max_age, policy.mx) == (
        None,
        "testing",
        0,
        ("mx1.lab",),
    )
    assert "over 31557600" in (
        parse_policy("version: STSv1\nmode: none\nmax_age: 99999999\n").error or ""
    )
