"""The mail checks against broken and hostile DNS servers (tests/dnsserver.py's modes).

Whatever a server sends, a lookup ends within ``--timeout``, and an answer that is
not a whole, real answer to the question asked is undetermined (status error, exit 3),
never "no records" and never "fine". Text from DNS never reaches the terminal raw.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dnsserver import DnsServer, Fault

#: A domain that passes every check, written under ``label.hostile``.
GOOD = """\
{d} MX 10 mx.{d}
{d} TXT "v=spf1 ip4:1.2.3.4 -all"
_dmarc.{d} TXT "v=DMARC1; p=reject"
mx.{d} A 1.2.3.4
"""

DECOYS = ("wrongid", "garbage", "othername")
MANY_MX = 2000


def zone_text() -> str:
    lines = [
        "$TTL 300",
        "@ SOA ns.hostile. hostmaster.hostile. 1 3600 600 86400 300",
        "@ NS ns.hostile.",
        "ns A 127.0.0.1",
    ]
    labels = [
        "good",
        *DECOYS,
        *(f"{decoy}-then-answer" for decoy in DECOYS),
        "tcptc",
        "tcptcmx",
        "slow",
        "late",
        "servfailtarget",
        "timeouttarget",
    ]
    for label in labels:
        lines.append(GOOD.format(d=label))
    # CNAME loops: the MX target's name, and the domain itself
    lines += [
        "loop MX 10 mx.loop",
        'loop TXT "v=spf1 -all"',
        "mx.loop CNAME mx2.loop",
        "mx2.loop CNAME mx.loop",
        "selfloop CNAME selfloop2",
        "selfloop2 CNAME selfloop",
    ]
    # a chain of 20 aliases (dnspython follows at most 16) and one of 3
    lines += ["longchain MX 10 c0.longchain", 'longchain TXT "v=spf1 -all"']
    lines += [f"c{i}.longchain CNAME c{i + 1}.longchain" for i in range(20)]
    lines += ["c20.longchain A 1.2.3.4"]
    lines += ["shortchain MX 10 c0.shortchain", 'shortchain TXT "v=spf1 -all"']
    lines += [f"c{i}.shortchain CNAME c{i + 1}.shortchain" for i in range(3)]
    lines += ["c3.shortchain A 1.2.3.4"]
    # 2,000 MX records (only TCP carries them), each target with an address; the
    # same again with targets that never answer
    for name in ("many", "manyslow"):
        lines += [f'{name} TXT "v=spf1 -all"']
        lines += [f"{name} MX {i % 50} mx{i}.{name}" for i in range(MANY_MX)]
        lines += [f"mx{i}.{name} A 1.2.{i // 250}.{i % 250 + 1}" for i in range(MANY_MX)]
    # TXT with an OSC title sequence, a screen clear, a C1 CSI and invalid UTF-8
    lines += [
        "esc MX 10 mx.esc",
        "mx.esc A 1.2.3.4",
        r'esc TXT "v=spf1 \027]0;owned\007 -all"',
        r'esc TXT "\255\254\027[2J\194\155 31m"',
        r'_dmarc.esc TXT "v=DMARC1; p=reject; rua=mailto:\027]0;x\007@esc.hostile"',
    ]
    return "\n".join(lines) + "\n"


FAULTS = [
    *(Fault(f"{decoy}.hostile.", "*", decoy) for decoy in DECOYS),
    *(Fault(f"{decoy}-then-answer.hostile.", "*", f"{decoy}+answer") for decoy in DECOYS),
    Fault("tcptc.hostile.", "TXT", "truncate-tcp"),
    Fault("tcptcmx.hostile.", "MX", "truncate-tcp"),
    Fault("*.loop.hostile.", "*", "noerror-loop"),
    Fault("selfloop.hostile.", "*", "noerror-loop"),
    Fault("*.slow.hostile.", "*", "delay=3"),
    Fault("slow.hostile.", "*", "delay=3"),
    Fault("late.hostile.", "MX", "late=4"),
    Fault("mx.servfailtarget.hostile.", "*", "servfail"),
    Fault("mx.timeouttarget.hostile.", "*", "timeout"),
    Fault("*.manyslow.hostile.", "A", "timeout"),
    Fault("*.manyslow.hostile.", "AAAA", "timeout"),
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    zones = tmp_path_factory.mktemp("hostile-zones")
    (zones / "hostile.zone").write_text(zone_text(), encoding="latin-1")
    with DnsServer(zones, faults=FAULTS) as server:
        yield server


def check(cli, server: DnsServer, *args: str, timeout: str = "2"):
    started = time.monotonic()
    result = cli("mail", "--nameserver", server.address, "--timeout", timeout, *args)
    return result, time.monotonic() - started


def statuses(result) -> dict[str, str]:
    [line] = result.stdout.splitlines()
    return {item["id"]: item["status"] for item in json.loads(line)["checks"]}


#: What a good domain passes (DKIM and the SMTP probe are "skip" unless asked for).
PASSING = ("domain-exists", "mx-present", "mx-target-resolves", "spf", "dmarc")


def passes(result) -> bool:
    found = statuses(result)
    return set(found.values()) <= {"pass", "skip"} and all(found[c] == "pass" for c in PASSING)


def test_the_hostile_zone_itself_is_fine(cli, hostile):
    result, _ = check(cli, hostile, "--format", "json", "good.hostile")
    assert result.exit_code == 0, result.stdout
    assert passes(result), result.stdout


@pytest.mark.parametrize("decoy", DECOYS)
def test_a_server_sending_only_decoys_is_undetermined_within_the_budget(cli, hostile, decoy):
    result, elapsed = check(cli, hostile, "--format", "json", f"{decoy}.hostile")
    assert result.exit_code == 3, result.stdout
    found = statuses(result)
    assert found["domain-exists"] == "error"
    assert found["mx-present"] == "error"
    assert found["spf"] == "error"
    assert "192.0.2.66" not in result.stdout  # the spoofed address was never taken
    assert elapsed < 4, elapsed


@pytest.mark.parametrize("decoy", DECOYS)
def test_a_decoy_before_the_real_answer_is_skipped(cli, hostile, decoy):
    result, _ = check(cli, hostile, "--format", "json", f"{decoy}-then-answer.hostile")
    assert result.exit_code == 0, result.stdout
    assert passes(result), result.stdout


def test_txt_truncated_again_over_tcp_is_undetermined_not_missing(cli, hostile):
    before = hostile.tcp_queries
    result, _ = check(cli, hostile, "--format", "json", "tcptc.hostile")
    assert hostile.tcp_queries > before
    assert result.exit_code == 3
    spf = next(c for c in json.loads(result.stdout)["checks"] if c["id"] == "spf")
    assert spf["status"] == "error"
    assert "truncated even over TCP" in spf["message"]


def test_mx_truncated_again_over_tcp_is_undetermined(cli, hostile):
    result, _ = check(cli, hostile, "--format", "json", "tcptcmx.hostile")
    assert result.exit_code == 3
    assert statuses(result)["mx-present"] == "error"


@pytest.mark.parametrize("domain", ["servfailtarget.hostile", "timeouttarget.hostile"])
def test_an_mx_target_without_an_answer_is_undetermined(cli, hostile, domain):
    result, elapsed = check(cli, hostile, "--format", "json", domain)
    assert result.exit_code == 3
    assert statuses(result)["mx-target-resolves"] == "error"
    assert elapsed < 4


def test_a_cname_loop_on_the_mx_target_is_undetermined(cli, hostile):
    result, _ = check(cli, hostile, "--format", "json", "loop.hostile")
    assert result.exit_code == 3
    [report] = [json.loads(result.stdout)]
    resolves = next(c for c in report["checks"] if c["id"] == "mx-target-resolves")
    assert resolves["status"] == "error"
    assert "CNAME chain" in resolves["message"]


def test_a_domain_that_is_a_cname_loop_is_undetermined_not_missing(cli, hostile):
    result, _ = check(cli, hostile, "--format", "json", "selfloop.hostile")
    assert result.exit_code == 3
    found = statuses(result)
    assert found["domain-exists"] == "error"
    assert found["mx-present"] == "error"


def test_a_cname_chain_over_16_links_is_undetermined_and_a_short_one_resolves(cli, hostile):
    long_result, _ = check(cli, hostile, "--format", "json", "longchain.hostile")
    assert statuses(long_result)["mx-target-resolves"] == "error"
    short_result, _ = check(cli, hostile, "--format", "json", "shortchain.hostile")
    found = statuses(short_result)
    assert found["mx-target-resolves"] == "pass"
    assert found["mx-target-cname"] == "warn"


def test_two_thousand_mx_records_over_tcp_cost_a_capped_number_of_queries(cli, hostile):
    before, tcp_before = hostile.queries, hostile.tcp_queries
    result, elapsed = check(cli, hostile, "--format", "json", "many.hostile", timeout="5")
    sent = hostile.queries - before
    assert hostile.tcp_queries > tcp_before
    report = json.loads(result.stdout)
    found = {c["id"]: c for c in report["checks"]}
    assert found["mx-present"]["status"] == "pass"
    assert "and 1990 more" in found["mx-present"]["message"]
    # 20 targets looked up; the other 1,980 are not known to resolve: undetermined
    assert found["mx-target-resolves"]["status"] == "error"
    assert "20 most preferred of 2000" in found["mx-target-resolves"]["message"]
    assert result.exit_code == 3
    assert sent <= 100, sent
    assert elapsed < 5


def test_two_thousand_silent_mx_targets_stay_within_the_budget(cli, hostile):
    result, elapsed = check(cli, hostile, "--format", "json", "manyslow.hostile", timeout="2")
    assert result.exit_code == 3
    assert statuses(result)["mx-target-resolves"] == "error"
    assert elapsed < 3.5, elapsed


def test_a_server_answering_in_3_seconds_is_heard_with_a_12_second_budget(cli, hostile):
    result, elapsed = check(cli, hostile, "--format", "json", "slow.hostile", timeout="12")
    assert result.exit_code == 0, result.stdout
    assert passes(result), result.stdout
    assert 3 <= elapsed < 12


def test_a_server_answering_in_3_seconds_is_undetermined_with_a_2_second_budget(cli, hostile):
    result, elapsed = check(cli, hostile, "--format", "json", "slow.hostile", timeout="2")
    assert result.exit_code == 3
    assert statuses(result)["mx-present"] == "error"
    assert elapsed < 3


def test_a_late_first_answer_is_retried_within_the_budget(cli, hostile):
    # One server, --timeout 5: an attempt waits 2.5 s; the first MX answer would come
    # after 4 s, the retry is answered at once, and the late answer is then dropped.
    result, elapsed = check(cli, hostile, "--format", "json", "late.hostile", timeout="5")
    assert result.exit_code == 0, result.stdout
    assert passes(result), result.stdout
    assert 2.5 <= elapsed < 5


def test_escape_sequences_in_txt_never_reach_the_terminal(cli, hostile):
    result, _ = check(cli, hostile, "esc.hostile")
    assert "\x1b" not in result.stdout
    assert "\x07" not in result.stdout
    assert "\x9b" not in result.stdout
    assert "\\x1b]0;owned\\x07" in result.stdout


def test_escape_sequences_in_txt_are_data_in_json(cli, hostile):
    result, _ = check(cli, hostile, "--format", "json", "esc.hostile")
    # JSON escapes every control character (C1 too), so the raw output is harmless
    for control in ("\x1b", "\x07", "\x9b"):
        assert control not in result.stdout
    report = json.loads(result.stdout)
    spf = next(c for c in report["checks"] if c["id"] == "spf")
    assert spf["status"] == "fail"  # the record does not parse
    assert "\x1b]0;owned\x07" in spf["message"]  # kept as data


def test_several_nameservers_the_next_is_asked_within_the_budget(cli, tmp_path, hostile):
    zones = Path(__file__).parent / "zones"
    with (
        DnsServer(zones, fault="timeout") as silent,
        DnsServer(zones, fault="servfail") as servfail,
        DnsServer(zones, fault="refused") as refused,
        DnsServer(zones) as good,
    ):
        servers = [silent, servfail, refused, good]
        args = [arg for server in servers for arg in ("--nameserver", server.address)]
        started = time.monotonic()
        result = cli("mail", *args, "--timeout", "5", "--format", "json", "good.lab")
        elapsed = time.monotonic() - started
        assert result.exit_code == 0, result.stdout
        assert passes(result), result.stdout
        assert elapsed < 5
        assert silent.queries and servfail.queries and refused.queries


def test_several_nameservers_all_failing_is_undetermined(cli):
    zones = Path(__file__).parent / "zones"
    with (
        DnsServer(zones, fault="servfail") as servfail,
        DnsServer(zones, fault="refused") as refused,
    ):
        result = cli(
            "mail",
            *("--nameserver", servfail.address, "--nameserver", refused.address),
            *("--timeout", "2", "--format", "json", "good.lab"),
        )
        assert result.exit_code == 3
        assert statuses(result)["mx-present"] == "error"


def test_lookups_past_the_query_cap_are_undetermined_and_never_sent(hostile):
    import asyncio

    from diagnose.checks import dnsquery
    from diagnose.checks.settings import DnsSettings

    async def two_lookups() -> list[dnsquery.Lookup]:
        resolver = dnsquery.make_resolver(DnsSettings(((hostile.host, hostile.port),), 2.0))
        budget = dnsquery.Budget(2.0, max_queries=1)
        try:
            return [
                await dnsquery.lookup(resolver, "good.hostile", "MX", budget),
                await dnsquery.lookup(resolver, "good.hostile", "TXT", budget),
            ]
        finally:
            dnsquery.close_resolver(resolver)

    before = hostile.queries
    first, second = asyncio.run(two_lookups())
    assert first.outcome is dnsquery.Outcome.OK
    assert second.outcome is dnsquery.Outcome.UNDETERMINED
    assert "cap of 1 DNS queries" in second.reason
    assert hostile.queries - before == 1
