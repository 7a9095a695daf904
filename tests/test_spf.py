"""SPF per RFC 7208: the grammar (table-driven, and a property test), and the limits
of §4.6.4 evaluated against the local DNS server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from dnsserver import DnsServer, Fault
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnose.checks.mail.spf import is_spf, parse_spf

VALID = [
    "v=spf1",
    "v=spf1 -all",
    "v=spf1  a  mx   -all  ",  # several spaces between terms, trailing spaces
    "V=SPF1 A MX -ALL",  # names are case-insensitive (§12)
    "v=spf1 a:foo:bar/baz.example.com -all",  # any visible characters before the toplabel
    "v=spf1 a:foo=bar.example -all",  # "=" after ":" is a directive, not a modifier
    "v=spf1 a/24 mx//64 a:example.com/24//64 mx:example.com//0 -all",
    "v=spf1 a/0 a/32 a//128 -all",
    "v=spf1 a:example.com. -all",  # the optional final dot of domain-end
    "v=spf1 a:x.123-456 -all",  # toplabel = 1*alphanum "-" ... alphanum
    "v=spf1 ip4:192.0.2.0/24 ip4:1.2.3.4 ip4:0.0.0.0/0 -all",
    "v=spf1 ip6:2001:db8::/32 ip6:::1 ip6:::ffff:192.0.2.1/128 -all",
    "v=spf1 include:_spf.example.com ~all",
    "v=spf1 ptr ptr:example.com ?all",
    "v=spf1 exists:%{i}.%{l1r+-}._spf.%{d} -all",
    "v=spf1 exists:%{ir}.%{v}._spf.%{d2} -all",
    "v=spf1 include:%{d}",  # domain-end may be a macro-expand
    "v=spf1 a:%{o}%- -all",
    "v=spf1 redirect=_spf.example.com",
    "v=spf1 exp=explain._spf.%{d} -all",
    "v=spf1 -all foo=bar",
    "v=spf1 -all x.mod-1_2=%{s}%%%_%-%{c}",  # an unknown modifier: any macro-string
    "v=spf1 -all empty=",
    "v=spf1 include=example.com -all",  # an unknown modifier named "include" (§6)
]

INVALID = [
    ("v=spf1 a:foo-bar", "top-level label"),
    ("v=spf1 a:abc.123", "'123' is not a valid top-level label"),
    ("v=spf1 a:example.-x", "'-x' is not a valid top-level label"),
    ("v=spf1 a/33", "over 32"),
    ("v=spf1 a//129", "over 128"),
    ("v=spf1 a/024", "not a number from 0 to 32"),
    ("v=spf1 mx//064", "not a number from 0 to 128"),
    ("v=spf1 ip4:1.2.3.4/33", "over 32"),
    ("v=spf1 ip4:1.2.3.0/08", "not a number"),
    ("v=spf1 ip6:::1/129", "over 128"),
    ("v=spf1 ip6:::1/0128", "not a number"),
    ("v=spf1 ip4:01.2.3.4", "not an IPv4 address"),
    ("v=spf1 ip4:999.1.1.1 -all", "not an IPv4 address"),
    ("v=spf1 ip4:1.2.3", "not an IPv4 address"),
    ("v=spf1 ip6:192.0.2.1 -all", "not an IPv6 address"),
    ("v=spf1 ip6:fe80::1%eth0", "not an IPv6 address"),
    ("v=spf1 ip4:", "needs an address"),
    ("v=spf1 ip4:1.2.3.4/", "not a number"),
    ("v=spf1 redirect=-all", "top-level label"),
    ("v=spf1 exp=-all", "top-level label"),
    ("v=spf1 a:%{a}.example.com", "not a macro"),  # "a" is no macro-letter (§7.1)
    ("v=spf1 exists:%{q}.example.com", "not a macro"),
    ("v=spf1 a:example.com%", "must start a macro"),  # a trailing "%"
    ("v=spf1 a:50%.example.com", "must start a macro"),
    ("v=spf1 a:%{d.example.com", "closing"),
    ("v=spf1 exists:%{d0}.example.com", "nonzero"),
    ("v=spf1 exists:%{c}.example.com", "explanation text"),
    ("v=spf1 a\r-all", "only spaces"),
    ("v=spf1 a\t-all", "only spaces"),
    ("v=spf1 -all\n", "only spaces"),
    ("v=spf1 all:example.com", "takes no argument"),
    ("v=spf1 all/24", "takes no argument"),
    ("v=spf1 include", "needs a domain"),
    ("v=spf1 include:", "empty"),
    ("v=spf1 include:example.com/24", "top-level label"),
    ("v=spf1 exists", "needs a domain"),
    ("v=spf1 ptr/24", "takes only a domain"),
    ("v=spf1 mx:", "empty"),
    ("v=spf1 a/", "takes a domain after"),
    ("v=spf1 a:example.com/", "top-level label"),
    ("v=spf1 a:foo..com", "empty label"),
    ("v=spf1 a:é.example.com", "not allowed"),
    ("v=spf1 foo:bar -all", "not a valid SPF mechanism or modifier"),
    ("v=spf1 1.2.3.4", "not a valid SPF mechanism or modifier"),
    ("v=spf1 =foo", "not a valid SPF mechanism or modifier"),
    ("v=spf1 +-all", "not a valid SPF mechanism or modifier"),
    ("v=spf1 redirect=a.example redirect=b.example", "more than once"),
    ("v=spf1 exp=a.example exp=b.example -all", "more than once"),
    ("v=spf1 -all foo=%", "must start a macro"),
]


@pytest.mark.parametrize("record", VALID)
def test_valid_records_parse(record):
    assert is_spf(record)
    assert parse_spf(record).error is None, parse_spf(record).error


@pytest.mark.parametrize(("record", "fragment"), INVALID)
def test_invalid_records_say_why(record, fragment):
    error = parse_spf(record).error
    assert error is not None and fragment in error, error


def test_parsed_terms():
    record = parse_spf("v=spf1 a mx include:_spf.example.net ip4:192.0.2.0/24 ~all ptr")
    assert record.includes == ["_spf.example.net"]
    assert record.all_qualifier == "~"
    assert record.lookups == 3  # a, mx, include; ptr comes after "all" and is never reached
    assert parse_spf("v=spf1 redirect=_spf.example.net").lookups == 1
    assert parse_spf("v=spf1 redirect=_spf.example.net -all").lookups == 0  # §6.1


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_the_parser_never_raises_on_arbitrary_text(text):
    for record in (text, "v=spf1 " + text):
        result = parse_spf(record)
        assert result.error is None or result.error.endswith((".", ")"))


TOKENS = st.sampled_from(
    [
        " ", "a", "mx", "all", "-", "+", "~", "?", ":", "/", "//", "%", "%{", "}", "d", "=",
        "include", "redirect", "exp", "ip4", "ip6", "exists", "ptr", ".", "com", "1", "0",
        "33", "129", "255", "::", "\r", "\t", "é", "%%", "%{d}", "%{ir}", "x-y", "999",
    ]
)  # fmt: skip


@given(st.lists(TOKENS, max_size=30).map("".join))
@settings(max_examples=500, deadline=None)
def test_the_parser_never_raises_on_spf_like_text(body):
    result = parse_spf("v=spf1 " + body)
    assert isinstance(result.terms, tuple)
    assert result.error is None or result.error.endswith((".", ")"))


# -- the limits, evaluated over DNS ----------------------------------------------------

ZONE = """\
$TTL 300
@ SOA ns.spf. hostmaster.spf. 1 3600 600 86400 300
@ NS ns.spf.
ns A 127.0.0.1
host A 1.2.3.4
; include and redirect loops
incloop TXT "v=spf1 include:incloop2.spf -all"
incloop2 TXT "v=spf1 include:incloop.spf -all"
redirloop TXT "v=spf1 redirect=redirloop2.spf"
redirloop2 TXT "v=spf1 redirect=redirloop.spf"
selfinclude TXT "v=spf1 include:selfinclude.spf -all"
; one record reached through two paths: 2 + (1 + 6) + (1 + 6) = 16 lookups
twopaths TXT "v=spf1 include:p1.spf include:p2.spf -all"
p1 TXT "v=spf1 include:common.spf -all"
p2 TXT "v=spf1 include:common.spf -all"
common TXT "v=spf1 a:host.spf a:host.spf a:host.spf a:host.spf a:host.spf a:host.spf -all"
; exactly 10 through two paths: passes
ten TXT "v=spf1 include:t1.spf include:t2.spf -all"
t1 TXT "v=spf1 include:tcommon.spf -all"
t2 TXT "v=spf1 include:tcommon.spf -all"
tcommon TXT "v=spf1 a:host.spf a:host.spf a:host.spf -all"
; void lookups from a, mx and exists (3 > 2); two (nothing1, and host.spf has no MX) pass
voids TXT "v=spf1 a:nothing1.spf mx:nothing2.spf exists:nothing3.spf -all"
twovoids TXT "v=spf1 a:nothing1.spf mx:host.spf -all"
; an mx mechanism with 11 names, and one with 10
mx11 TXT "v=spf1 mx -all"
mx10 TXT "v=spf1 mx -all"
; an include that passes everyone
incplus TXT "v=spf1 include:plus.spf -all"
plus TXT "v=spf1 +all"
; a lookup that fails: temperror
incfail TXT "v=spf1 include:servfail.spf -all"
servfail TXT "v=spf1 -all"
afail TXT "v=spf1 a:slow.spf -all"
slow A 1.2.3.4
; an include without an SPF record
incnone TXT "v=spf1 include:host.spf -all"
; a typical record: the domain's own mx and a
typical TXT "v=spf1 mx a -all"
typical MX 10 host.spf.
typical A 1.2.3.4
"""


@pytest.fixture(scope="module")
def spf_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    zones = tmp_path_factory.mktemp("spf-zones")
    text = ZONE
    text += "".join(f"mx11 MX {i} m{i}.host.spf.\n" for i in range(11))
    text += "".join(f"mx10 MX {i} m{i}.host.spf.\n" for i in range(10))
    (zones / "spf.zone").write_text(text)
    faults = [Fault("servfail.spf.", "TXT", "servfail"), Fault("slow.spf.", "*", "timeout")]
    with DnsServer(zones, faults=faults) as server:
        yield server


def spf_of(cli, server: DnsServer, domain: str) -> dict[str, object]:
    result = cli(
        "mail", "--nameserver", server.address, "--timeout", "2", "--format", "json", domain
    )
    report = json.loads(result.stdout)
    return next(check for check in report["checks"] if check["id"] == "spf")


@pytest.mark.parametrize(
    ("domain", "status", "fragment"),
    [
        ("incloop.spf", "fail", "loops through include or redirect (permerror): incloop.spf"),
        ("redirloop.spf", "fail", "redirloop.spf -> redirloop2.spf -> redirloop.spf"),
        ("selfinclude.spf", "fail", "loops"),
        ("twopaths.spf", "fail", "more than 10 DNS lookups"),
        ("voids.spf", "fail", "more than 2 void lookups (the last: exists:nothing3.spf"),
        ("mx11.spf", "fail", "names 11 hosts"),
        ("incplus.spf", "fail", "anyone may send"),
        ("incfail.spf", "error", "temperror"),
        ("afail.spf", "error", "temperror"),
        ("incnone.spf", "fail", "host.spf (include of incnone.spf) has no SPF record"),
    ],
)
def test_limits_and_failures(cli, spf_server, domain, status, fragment):
    spf = spf_of(cli, spf_server, domain)
    assert spf["status"] == status, spf
    assert fragment in spf["message"], spf["message"]


@pytest.mark.parametrize(
    ("domain", "lookups", "void"),
    [("ten.spf", 10, 0), ("twovoids.spf", 2, 2), ("mx10.spf", 1, 0), ("typical.spf", 2, 0)],
)
def test_records_within_the_limits_pass_with_every_lookup_counted(
    cli, spf_server, domain, lookups, void
):
    spf = spf_of(cli, spf_server, domain)
    assert spf["status"] == "pass", spf
    assert spf["lookups"] == lookups
    assert spf["void_lookups"] == void
