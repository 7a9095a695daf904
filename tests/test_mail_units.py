"""Pure parts of the mail checks (names, nameservers, SPF/DMARC parsing) and the
Python API the engine calls (check_domain, check_domains, the LiveCheck classes)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diagnose.checks.dnsquery import addresses, mx_records, parse_nameserver, txt_strings
from diagnose.checks.email import EmailAddressCheck, check_email
from diagnose.checks.mail import MailDomainCheck, check_domain, check_domains
from diagnose.checks.mail.dmarc import is_dmarc, parse_dmarc, walk_targets
from diagnose.checks.mail.spf import is_spf, parse_spf
from diagnose.checks.names import (
    DomainSyntaxError,
    doubled_domain,
    host_name_problem,
    is_ip_literal,
    normalize_domain,
)
from diagnose.checks.results import Status
from diagnose.checks.settings import DnsSettings
from diagnose.exceptions import UsageError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Example.COM.", None),
        ("Почта.рф", "xn--80a1acny.xn--p1ai"),
        ("  MAIL.Lab  ", "mail.lab"),
        ("bücher.de", "xn--bcher-kva.de"),
    ],
)
def test_normalize_domain(text, expected):
    if expected is None:
        with pytest.raises(DomainSyntaxError, match="RFC 6761"):
            normalize_domain(text)
    else:
        assert normalize_domain(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("a" * 64 + ".com", "at most 63"),
        (".".join(["a" * 60] * 5), "at most 253"),
        ("x..com", "empty label"),
        ("192.0.2.1", "IP address"),
        ("[2001:db8::1]", "IP address"),
        ("shop.test", "special-use"),
        ("localhost", "special-use"),
        ("a_b.com", "not a valid domain name"),
    ],
)
def test_domain_syntax_errors_are_sentences(text, fragment):
    with pytest.raises(DomainSyntaxError) as error:
        normalize_domain(text)
    assert fragment in str(error.value)
    assert str(error.value).endswith(".")


def test_host_names_and_ip_literals():
    assert host_name_problem("mx1.example.net.") is None
    assert "IP address" in host_name_problem("192.0.2.25.")
    assert "label" in host_name_problem("bad_host.example.net")
    assert is_ip_literal("[IPv6:2001:db8::1]")
    assert not is_ip_literal("mail.example.net")
    assert doubled_domain("mail.ex.net.ex.net.", "ex.net")
    assert not doubled_domain("mail.ex.net", "ex.net")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("[::1]:5353", ("::1", 5353)),
        ("[::1]", ("::1", 53)),
        ("::1", ("::1", 53)),
    ],
)
def test_parse_nameserver(text, expected):
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize("text", ["dns.example", "1.2.3.4:", "1.2.3.4:0", "[::1]x", "[::1", ""])
def test_parse_nameserver_rejects(text):
    with pytest.raises(UsageError) as error:
        parse_nameserver(text)
    assert str(error.value).endswith(".")


def test_spf_parsing():
    assert is_spf("v=spf1 -all") and is_spf("V=SPF1") and not is_spf("v=spf10 -all")
    record = parse_spf("v=spf1 a mx include:_spf.example.net ip4:192.0.2.0/24 ~all")
    assert record.error is None
    assert record.lookups == 3
    assert record.includes == ["_spf.example.net"]
    assert record.all_qualifier == "~"
    assert parse_spf("v=spf1 all").all_qualifier == "+"
    assert parse_spf("v=spf1 redirect=_spf.example.net").redirect == "_spf.example.net"
    assert "not a valid" in parse_spf("v=spf1 foo:bar -all").error
    assert "IPv6" in parse_spf("v=spf1 ip6:192.0.2.1 -all").error
    assert parse_spf("v=spf1 redirect=a.net redirect=b.net").error


def test_dmarc_parsing():
    assert is_dmarc("v=DMARC1; p=none") and not is_dmarc("v=DMARC2; p=none")
    assert parse_dmarc("v=DMARC1; p=reject; pct=50").policy == "reject"
    assert parse_dmarc("v=DMARC1; rua=mailto:a@b.c").policy == "none"  # RFC 9989 §4.7
    assert parse_dmarc("v=DMARC1; p=reject; adkim=x").error
    # RFC 9989 removed pct, rf and ri: obsolete, reported by name, never invalid.
    old = parse_dmarc("v=DMARC1; p=reject; pct=150; ri=x; rf=afrf")
    assert old.error is None and old.obsolete == ["pct", "ri", "rf"]
    # np, psd and t are RFC 9989's, with their own values.
    new = parse_dmarc("v=DMARC1; p=reject; np=quarantine; psd=n; t=y")
    assert (new.error, new.psd, new.testing) == (None, "n", True)
    assert parse_dmarc("v=DMARC1; p=reject").psd == "u"
    assert "np=maybe" in parse_dmarc("v=DMARC1; p=reject; np=maybe").error
    assert "psd=x is not y, n or u." in parse_dmarc("v=DMARC1; p=reject; psd=x").error
    assert "t=yes is not y or n." in parse_dmarc("v=DMARC1; p=reject; t=yes").error


@given(st.text(alphabet=st.sampled_from("v=DMARC1;pnqursetyi ajkfo:@.,-"), max_size=60))
def test_dmarc_parser_never_raises_and_explains_in_sentences(text):
    record = parse_dmarc(text)
    assert record.error is None or record.error.endswith(".")
    if record.error is None:
        assert record.policy in ("none", "quarantine", "reject")
        assert set(record.obsolete) <= {"pct", "rf", "ri"}


@pytest.mark.parametrize(
    ("name", "targets"),
    [
        ("example.co.uk", ["co.uk", "uk"]),
        ("example.com", ["com"]),
        ("com", []),
        # more than 8 labels: shortened to 7 first (RFC 9989 §4.10, its own example)
        (
            "a.b.c.d.e.f.g.h.i.j.mail.example.com",
            [
                "g.h.i.j.mail.example.com",
                "h.i.j.mail.example.com",
                "i.j.mail.example.com",
                "j.mail.example.com",
                "mail.example.com",
                "example.com",
                "com",
            ],
        ),
    ],
)
def test_tree_walk_targets(name, targets):
    assert walk_targets(name) == targets


@given(st.lists(st.sampled_from(["a", "b", "xn--p1ai", "co", "mail"]), min_size=1, max_size=20))
def test_tree_walk_never_asks_more_than_8_names(labels):
    name = ".".join(labels)
    targets = walk_targets(name)
    assert 1 + len(targets) <= 8
    assert all(name.endswith("." + target) for target in targets)
    assert [t.count(".") for t in targets] == sorted({t.count(".") for t in targets}, reverse=True)
    if len(labels) > 1:
        assert targets[-1] == labels[-1]


def test_dns_record_readers():
    import dns.rdata

    def rdata(rdtype, *texts):
        return tuple(dns.rdata.from_text("IN", rdtype, text) for text in texts)

    mx = rdata("MX", "20 Backup.Example.NET.", "10 mx.example.net.")
    assert mx_records(mx) == [(10, "mx.example.net"), (20, "backup.example.net")]
    assert mx_records(rdata("MX", "0 .")) == [(0, ".")]
    assert addresses(rdata("A", "192.0.2.1") + rdata("AAAA", "2001:db8::1")) == [
        "192.0.2.1",
        "2001:db8::1",
    ]
    assert txt_strings(rdata("TXT", '"v=spf1 " "-all"')) == ["v=spf1 -all"]
    # A lookup's records are of the type asked for; anything else is a bug, not "none".
    with pytest.raises(TypeError):
        mx_records(rdata("A", "192.0.2.1"))
    with pytest.raises(TypeError):
        addresses(mx)
    with pytest.raises(TypeError):
        txt_strings(mx)


def test_mail_package_imports_no_dnspython():
    code = (
        "import sys\n"
        "import diagnose.checks.mail, diagnose.checks.email\n"
        "from diagnose.checks.registry import CHECKS_BY_ID\n"
        "CHECKS_BY_ID['mail-domain'].load()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dns', 'email_validator'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def settings(server, timeout=2.0):
    return DnsSettings(((server.host, server.port),), timeout)


def test_check_domain_api(dns_server):
    report = check_domain("good.lab", settings(dns_server))
    assert report.status is Status.PASS
    assert report.to_dict()["domain"] == "good.lab"
    assert report.check("mx-present").status is Status.PASS


def test_check_domains_is_ordered_and_lazy(dns_server):
    consumed: list[str] = []

    def source():
        for index in range(300):
            name = ["good.lab", "missing.lab", "implicit.lab"][index % 3]
            consumed.append(name)
            yield name

    reports = check_domains(source(), settings(dns_server), concurrency=5)
    first = next(reports)
    assert first.domain == "good.lab"
    # Only a bounded window was read ahead, not the whole input.
    assert len(consumed) < 100
    rest = list(reports)
    assert [r.domain for r in [first, *rest]] == [
        ["good.lab", "missing.lab", "implicit.lab"][i % 3] for i in range(300)
    ]


def test_live_check_classes(dns_server):
    check = MailDomainCheck()
    result = check.run("someone@nullmx.lab", settings(dns_server))
    assert result.id == "mail-domain"
    assert result.status is Status.FAIL
    assert result.details["domain"] == "nullmx.lab"
    assert "null MX" in result.message
    assert {c["id"] for c in result.details["checks"]} >= {"null-mx", "spf"}
    assert check.input_types == {"domain", "email"}

    syntax = EmailAddressCheck()
    assert syntax.run("A@Good.LAB", settings(dns_server)).status is Status.PASS
    assert syntax.run("A@Good.LAB", settings(dns_server)).details["email"] == "A@good.lab"
    assert syntax.run("nope", settings(dns_server)).status is Status.FAIL


def test_check_email_api(dns_server):
    report = check_email("postmaster@implicit.lab", settings(dns_server))
    assert report.status is Status.WARN
    assert report.email == "postmaster@implicit.lab"


def test_the_loopback_guard_blocks_other_addresses(loopback_only):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with pytest.raises(PermissionError):
            sock.sendto(b"x", ("192.0.2.53", 53))
        with pytest.raises(PermissionError):
            sock.connect(("192.0.2.53", 53))
    finally:
        sock.close()
    assert len(loopback_only) == 2
    loopback_only.clear()  # the guard did its job; do not fail this test at teardown


class FakeTty:
    def isatty(self) -> bool:
        return True


def test_colours_only_on_a_terminal_and_never_with_no_color(monkeypatch, dns_server):
    from diagnose.render.marks import use_colour
    from diagnose.render_mail import render_text

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(FakeTty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(FakeTty())
    report = check_domain("nullmx.lab", settings(dns_server))
    assert "\x1b[" in render_text(report, color=True)
    assert "\x1b[" not in render_text(report, color=False)


EARLY_CASES = [
    "good.lab",
    "implicit.lab",
    "missing.lab",
    "nullmx.lab",
    "cname.lab",
    "tc.lab",
    "spfbig.lab",
    "allfail.lab",
    "refused.lab",
    "dmarcerr.lab",
    "sub.org.lab",
    "Почта.рф",
]


@pytest.mark.parametrize("domain", EARLY_CASES)
def test_early_queries_change_no_outcome(dns_server, domain):
    """Round 1 sent before the imports (diagnose.checks.early) gives the very report
    the resolver alone gives: the clean answers are used, the rest asked again."""
    from diagnose.checks.early import EarlyQueries

    plain = [r.to_dict() for r in check_domains([domain], settings(dns_server, 1.0))]
    early = EarlyQueries.start(settings(dns_server, 1.0), domain)
    assert early is not None
    reports = check_domains([domain], settings(dns_server, 1.0), early=early)
    assert [r.to_dict() for r in reports] == plain


def test_early_answers_are_used_not_asked_again(dns_server):
    from diagnose.checks.early import EarlyQueries

    before = dns_server.queries
    early = EarlyQueries.start(settings(dns_server), "good.lab")
    assert early is not None
    [report] = check_domains(["good.lab"], settings(dns_server), early=early)
    assert report.status is Status.PASS
    # MX, TXT, the TXT of _dmarc, _mta-sts and _smtp._tls, then A and AAAA of both MX
    # hosts, all sent early: nothing twice
    assert dns_server.queries - before == 9


def test_early_queries_only_for_one_valid_name_and_one_server(dns_server):
    from diagnose.checks.early import EarlyQueries, query_wire, system_nameserver

    assert EarlyQueries.start(settings(dns_server), "bad..lab") is None
    two = DnsSettings(((dns_server.host, dns_server.port),) * 2, 2.0)
    assert EarlyQueries.start(two, "good.lab") is None
    # the wire is a standard query with an EDNS0 OPT record, as dnspython reads it
    import dns.message

    message = dns.message.from_wire(query_wire(4660, "_dmarc.good.lab", "TXT"))
    assert (message.id, message.edns, message.payload) == (4660, 0, 1232)
    assert str(message.question[0]) == "_dmarc.good.lab. IN TXT"
    assert system_nameserver("/nonexistent/resolv.conf") is None


def test_system_nameserver_only_when_resolv_conf_names_one(tmp_path):
    from diagnose.checks.early import system_nameserver

    one = tmp_path / "one.conf"
    one.write_text("# comment\nsearch lab\nnameserver 127.0.0.53\noptions edns0\n")
    assert system_nameserver(str(one)) == ("127.0.0.53", 53)
    two = tmp_path / "two.conf"
    two.write_text("nameserver 127.0.0.53\nnameserver ::1\n")
    assert system_nameserver(str(two)) is None
    bad = tmp_path / "bad.conf"
    bad.write_text("nameserver not-an-address\n")
    assert system_nameserver(str(bad)) is None


def _mx_answer(name, *exchanges, qid=7, rcode=0, cname=False):
    import dns.message
    import dns.rcode
    import dns.rrset

    query = dns.message.make_query(name, "MX")
    query.id = qid
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.Rcode(rcode))
    if cname:
        response.answer.append(dns.rrset.from_text(name, 300, "IN", "CNAME", "other.lab."))
    if exchanges:
        response.answer.append(dns.rrset.from_text(name, 300, "IN", "MX", *exchanges))
    return response.to_wire()  # names compressed, as servers send them


def test_mx_exchanges_read_from_the_wire():
    from diagnose.checks.early import mx_exchanges

    wire = _mx_answer("good.lab.", "10 mx1.good.lab.", "20 MX2.Good.LAB.")
    assert sorted(mx_exchanges(wire, 7, "good.lab")) == ["mx1.good.lab", "mx2.good.lab"]
    assert mx_exchanges(_mx_answer("nullmx.lab.", "0 ."), 7, "nullmx.lab") == [""]
    assert mx_exchanges(_mx_answer("implicit.lab."), 7, "implicit.lab") == []  # NODATA
    # anything the resolver must judge itself: another ID, another name, an rcode, a CNAME
    assert mx_exchanges(wire, 8, "good.lab") is None
    assert mx_exchanges(wire, 7, "other.lab") is None
    assert mx_exchanges(_mx_answer("x.lab.", qid=7, rcode=2), 7, "x.lab") is None
    assert mx_exchanges(_mx_answer("c.lab.", "10 mx.lab.", cname=True), 7, "c.lab") is None
    assert mx_exchanges(wire[:20], 7, "good.lab") is None


@given(st.binary(max_size=300), st.integers(0, 65535))
def test_mx_exchanges_never_raise_on_any_datagram(data, qid):
    from diagnose.checks.early import mx_exchanges

    found = mx_exchanges(data, qid, "good.lab")
    assert found is None or all(isinstance(exchange, str) for exchange in found)


def test_compression_pointer_loops_are_refused():
    from diagnose.checks.early import mx_exchanges

    # header (QR, one question), then a question name that points at itself
    looping = bytes.fromhex("0007 8180 0001 0001 0000 0000") + b"\xc0\x0c" + b"\x00\x0f\x00\x01"
    assert mx_exchanges(looping, 7, "good.lab") is None


class NoisyRelay:
    """A UDP relay on loopback in front of the test DNS server that sends, before each
    real answer, a datagram with the query's ID that is no answer (junk), and the real
    answer's header on a question for another name (as an off-path sender might)."""

    def __init__(self, upstream):
        import threading

        self.upstream = (upstream.host, upstream.port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.stopped = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        import dns.message

        while not self.stopped:
            try:
                query, client = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
                up.settimeout(2)
                up.sendto(query, self.upstream)
                try:
                    answer = up.recv(65535)
                except TimeoutError:
                    continue
            other = dns.message.make_response(dns.message.make_query("other.lab.", "MX"))
            other.id = int.from_bytes(query[:2], "big")
            self.sock.sendto(query[:2] + b"\x81\x80junk", client)
            self.sock.sendto(other.to_wire(), client)
            self.sock.sendto(answer, client)

    def stop(self):
        self.stopped = True
        self.thread.join(2)
        self.sock.close()


# Domains whose every query is sent early (round 1, and round 2 from the MX answer):
# the noise meets only the early reader, which must drop it.
@pytest.mark.parametrize("domain", ["good.lab", "nullmx.lab", "dmarcnone.lab"])
def test_early_queries_drop_noise_and_keep_the_answer(dns_server, domain):
    from diagnose.checks.early import EarlyQueries

    relay = NoisyRelay(dns_server)
    try:
        noisy = DnsSettings((parse_nameserver(relay.address),), 2.0)
        plain = [r.to_dict() for r in check_domains([domain], settings(dns_server, 2.0))]
        early = EarlyQueries.start(noisy, domain)
        assert early is not None
        assert [r.to_dict() for r in check_domains([domain], noisy, early=early)] == plain
    finally:
        relay.stop()


def test_an_early_answer_serves_a_question_asked_twice(dns_server):
    import asyncio
    import time

    from diagnose.checks.dnsquery import Budget, Outcome, close_resolver, lookup, make_resolver
    from diagnose.checks.early import EarlyQueries

    before = dns_server.queries
    early = EarlyQueries.start(settings(dns_server), "good.lab")
    assert early is not None

    async def ask():
        resolver = make_resolver(settings(dns_server))
        early.attach(resolver)
        budget = Budget(2.0)
        try:
            both = await asyncio.gather(
                lookup(resolver, "good.lab", "MX", budget),
                lookup(resolver, "good.lab", "MX", budget),
            )
            return [*both, await lookup(resolver, "mx1.good.lab", "A", budget)]
        finally:
            close_resolver(resolver)

    try:
        first, second, address = asyncio.run(ask())
        time.sleep(0.2)  # round 2 (4 queries) went out when the MX answer came
    finally:
        early.close()
    assert first.outcome is second.outcome is address.outcome is Outcome.OK
    assert first.records == second.records
    assert dns_server.queries - before == 5 + 4


def test_a_dmarc_record_without_p_is_treated_as_p_none():
    # RFC 9989 §4.7: p= is RECOMMENDED; without it the record is p=none, not invalid.
    from diagnose.checks.mail.dmarc import _judge_record, parse_dmarc

    record = parse_dmarc("v=DMARC1; rua=mailto:reports@example.com")
    assert record.error is None and record.policy == "none"
    result = _judge_record("example.com", "example.com", record)
    assert result.status == "warn"
    assert "no p= tag, so receivers treat it as p=none (RFC 9989 §4.7)" in result.message
    assert parse_dmarc("v=DMARC1; p=maybe").error is not None
