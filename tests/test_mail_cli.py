"""`diagnose mail` and `diagnose email` against the local DNS server (tests/zones).

Every status of every check is reached by at least one zone (see STATUS_CASES).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from diagnose.checks.mail import CHECK_IDS

RECEIVING_TARGET_IDS = CHECK_IDS[4:8]

# domain -> the statuses that matter for it (other checks are not asserted here)
STATUS_CASES: dict[str, dict[str, str]] = {
    # dkim needs --dkim-selector and smtp --smtp (tests/test_mail_transport.py)
    "good.lab": {**dict.fromkeys(CHECK_IDS, "pass"), "dkim": "skip", "smtp": "skip"},
    "softfail.lab": {"spf": "pass", "dmarc": "pass"},
    "implicit.lab": {
        "mx-present": "warn",
        "null-mx": "pass",
        "spf": "warn",
        "dmarc": "warn",
        **dict.fromkeys(RECEIVING_TARGET_IDS, "skip"),
    },
    "noaddr.lab": {"domain-exists": "pass", "mx-present": "fail"},
    "privimplicit.lab": {"mx-present": "fail"},
    "missing.lab": {
        "domain-exists": "fail",
        **dict.fromkeys(CHECK_IDS[2:], "skip"),
    },
    "nullmx.lab": {"mx-present": "pass", "null-mx": "fail", "mx-target-resolves": "skip"},
    "nullmixed.lab": {"null-mx": "fail"},
    "iptarget.lab": {"mx-target-syntax": "fail", "mx-target-resolves": "fail"},
    "badhost.lab": {"mx-target-syntax": "fail"},
    "cname.lab": {"mx-target-cname": "warn", "mx-target-resolves": "pass"},
    "partial.lab": {"mx-target-resolves": "warn"},
    "noresolve.lab": {"mx-target-resolves": "fail", "mx-target-public": "skip"},
    "doubled.lab": {"mx-target-syntax": "pass", "mx-target-resolves": "fail"},
    "targettimeout.lab": {"mx-target-resolves": "error"},
    "privmix.lab": {"mx-target-public": "warn"},
    "private.lab": {"mx-target-public": "fail"},
    "spfneutral.lab": {"spf": "warn"},
    "spfnoall.lab": {"spf": "warn"},
    "spfmulti.lab": {"spf": "fail"},
    "spfplus.lab": {"spf": "fail"},
    "spfsyntax.lab": {"spf": "fail"},
    "spflookups.lab": {"spf": "fail"},
    "spfvoid.lab": {"spf": "fail"},
    "spferror.lab": {"spf": "error", "mx-target-resolves": "pass"},
    "spfincfail.lab": {"spf": "error"},
    "spfredirect.lab": {"spf": "pass"},
    "spfbig.lab": {"spf": "pass"},
    "tc.lab": {"spf": "pass", "mx-present": "pass", "dmarc": "pass"},
    "dmarcnone.lab": {"dmarc": "warn"},
    "dmarcmulti.lab": {"dmarc": "fail"},
    "dmarcbad.lab": {"dmarc": "fail"},
    "dmarcerr.lab": {"dmarc": "error"},
    # RFC 9989 (DMARCbis): tags, and the DNS tree walk for subdomains without a record
    "dmarcnp.lab": {"dmarc": "pass"},
    "dmarcbadnp.lab": {"dmarc": "fail"},
    "dmarcbadpsd.lab": {"dmarc": "fail"},
    "dmarctest.lab": {"dmarc": "warn"},
    "dmarctestreject.lab": {"dmarc": "pass"},
    "dmarcpct.lab": {"dmarc": "warn"},
    "sub.org.lab": {"dmarc": "pass"},
    "sub.orgnone.lab": {"dmarc": "warn"},
    "shop.psd.lab": {"dmarc": "pass"},
    "a.dept.corp.lab": {"dmarc": "pass"},
    "example.co.lab": {"dmarc": "warn"},
    "x.walkerr.lab": {"dmarc": "error", "mx-present": "pass"},
    "allfail.lab": {"domain-exists": "error", "mx-present": "error", "null-mx": "skip"},
    "refused.lab": {"domain-exists": "error", "mx-present": "error"},
    "mxtimeout.lab": {"domain-exists": "error", "mx-present": "error"},
    "a" * 64 + ".lab": {"domain-syntax": "fail", **dict.fromkeys(CHECK_IDS[1:], "skip")},
    "localhost": {"domain-syntax": "fail"},
    "mail.example": {"domain-syntax": "fail"},
    "bad..lab": {"domain-syntax": "fail"},
    "192.0.2.1": {"domain-syntax": "fail"},
}


def mail_json(cli, server, *args: str, timeout: str = "1", input: str | None = None):
    result = cli(
        "mail",
        "--nameserver",
        server.address,
        "--timeout",
        timeout,
        "--format",
        "json",
        *args,
        input=input,
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result, [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def all_reports(dns_server):
    """Every STATUS_CASES domain in one batch (the slow ones overlap)."""
    from click.testing import CliRunner

    from diagnose.cli import cli as diagnose_cli

    runner = CliRunner()
    args = ["mail", "--nameserver", dns_server.address, "--timeout", "1", "--format", "json"]
    result = runner.invoke(diagnose_cli, [*args, *STATUS_CASES])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, {report["input"]: report for report in reports}, reports


@pytest.mark.parametrize("domain", list(STATUS_CASES))
def test_check_statuses(all_reports, domain):
    _, by_input, _ = all_reports
    report = by_input[domain]
    statuses = {check["id"]: check["status"] for check in report["checks"]}
    assert [check["id"] for check in report["checks"]] == list(CHECK_IDS)
    for check_id, expected in STATUS_CASES[domain].items():
        assert statuses[check_id] == expected, (check_id, report["checks"])
    for check in report["checks"]:
        assert check["message"].endswith((".", ")")), check
    order = {"fail": 4, "error": 3, "warn": 2, "pass": 1, "skip": 0}
    worst = max(statuses.values(), key=order.__getitem__)
    assert report["status"] == (worst if worst != "skip" else "pass")


def test_every_status_of_every_check_is_reached(all_reports):
    _, _, reports = all_reports
    reached = {(c["id"], c["status"]) for r in reports for c in r["checks"]}
    table = {
        "domain-syntax": {"pass", "fail"},
        "domain-exists": {"pass", "fail", "error"},
        "mx-present": {"pass", "warn", "fail", "error"},
        "null-mx": {"pass", "fail"},
        "mx-target-syntax": {"pass", "fail"},
        "mx-target-cname": {"pass", "warn"},
        "mx-target-resolves": {"pass", "warn", "fail", "error"},
        "mx-target-public": {"pass", "warn", "fail"},
        "spf": {"pass", "warn", "fail", "error"},
        "dmarc": {"pass", "warn", "fail", "error"},
    }
    missing = {(cid, st) for cid, sts in table.items() for st in sts} - reached
    assert not missing


GROUPS = {
    **dict.fromkeys(CHECK_IDS, "receiving"),
    "spf": "sending",
    "dmarc": "sending",
    "dkim": "sending",
}


def test_every_check_names_its_group(all_reports):
    _, _, reports = all_reports
    for report in reports:
        assert {c["id"]: c["group"] for c in report["checks"]} == GROUPS


def test_the_json_of_a_check_only_gains_its_group(cli, dns_server):
    _, [report] = mail_json(cli, dns_server, "good.lab")
    mx_present = report["checks"][2]
    assert mx_present == {
        "id": "mx-present",
        "status": "pass",
        "message": "good.lab has MX records: 10 mx1.good.lab, 20 mx2.good.lab.",
        "group": "receiving",
        "count": 2,
    }


def test_diagnose_mail_still_fails_a_domain_for_a_sending_problem(cli, dns_server):
    # `diagnose mail` is the self-check of the whole mail set-up: a broken SPF fails
    # the domain (exit 1), and the verdict says that mail still arrives.
    result, [report] = mail_json(cli, dns_server, "spfplus.lab")
    assert result.exit_code == 1
    assert report["status"] == "fail"
    assert report["verdict"].startswith("spfplus.lab can receive mail, but:")


def test_batch_keeps_input_order_and_exit_code_1(all_reports):
    exit_code, _, reports = all_reports
    assert [r["input"] for r in reports] == list(STATUS_CASES)
    assert exit_code == 1


def test_json_fields_and_mx_hosts(cli, dns_server):
    result, [report] = mail_json(cli, dns_server, "Good.LAB.")
    assert result.exit_code == 0
    assert report["domain"] == "good.lab"
    assert report["input"] == "Good.LAB."
    assert report["status"] == "pass"
    assert report["mx"] == [
        {"preference": 10, "exchange": "mx1.good.lab", "addresses": ["1.2.3.4", "2a00:1450::1"]},
        {"preference": 20, "exchange": "mx2.good.lab", "addresses": ["5.6.7.8"]},
    ]


def test_idn_domain_is_normalized_to_a_labels(cli, dns_server):
    result, [report] = mail_json(cli, dns_server, "Почта.рф")
    assert report["domain"] == "xn--80a1acny.xn--p1ai"
    assert report["input"] == "Почта.рф"
    assert report["status"] == "pass"
    assert result.exit_code == 0


def test_doubled_domain_gets_a_hint(cli, dns_server):
    _, [report] = mail_json(cli, dns_server, "doubled.lab")
    resolves = next(c for c in report["checks"] if c["id"] == "mx-target-resolves")
    assert "final dot" in resolves["message"]
    assert "MX 10 mail.doubled.lab." in resolves["message"]


def test_truncated_udp_answers_are_retried_over_tcp(cli, dns_server):
    before = dns_server.tcp_queries
    _, [report] = mail_json(cli, dns_server, "spfbig.lab")
    spf = next(c for c in report["checks"] if c["id"] == "spf")
    assert spf["status"] == "pass"
    assert dns_server.tcp_queries > before


def test_the_collector_is_on_again_after_the_command(cli, dns_server):
    # the command turns the cyclic garbage collector off while it imports
    import gc

    assert gc.isenabled()
    result, _ = mail_json(cli, dns_server, "good.lab")
    assert result.exit_code == 0
    assert gc.isenabled()
    gc.disable()  # a caller that had it off keeps it off
    try:
        mail_json(cli, dns_server, "good.lab")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_exit_code_0_when_only_warnings(cli, dns_server):
    result, [report] = mail_json(cli, dns_server, "implicit.lab")
    assert report["status"] == "warn"
    assert result.exit_code == 0


def test_exit_code_3_when_undetermined(cli, dns_server):
    result, reports = mail_json(cli, dns_server, "good.lab", "allfail.lab")
    assert [r["status"] for r in reports] == ["pass", "error"]
    assert result.exit_code == 3


def test_exit_code_1_beats_3(cli, dns_server):
    result, _ = mail_json(cli, dns_server, "allfail.lab", "missing.lab")
    assert result.exit_code == 1


def test_invalid_domain_fails_its_own_line_and_the_batch_goes_on(cli, dns_server):
    result, reports = mail_json(cli, dns_server, "bad..lab", "good.lab")
    assert [r["status"] for r in reports] == ["fail", "pass"]
    assert result.exit_code == 1
    assert result.stderr == ""


def test_from_file_skips_comments_and_blank_lines(cli, dns_server, tmp_path):
    path = tmp_path / "domains.txt"
    path.write_text("# customers\ngood.lab\n\n  implicit.lab  # no MX\nmissing.lab\n")
    result, reports = mail_json(cli, dns_server, "--from-file", str(path))
    assert [r["domain"] for r in reports] == ["good.lab", "implicit.lab", "missing.lab"]
    assert result.exit_code == 1


def test_from_file_stdin(cli, dns_server):
    result, reports = mail_json(
        cli, dns_server, "--from-file", "-", input="good.lab\nsoftfail.lab\n"
    )
    assert [r["domain"] for r in reports] == ["good.lab", "softfail.lab"]
    assert result.exit_code == 0


def test_concurrency_one_gives_the_same_order(cli, dns_server):
    domains = ["spfbig.lab", "good.lab", "missing.lab", "cname.lab", "implicit.lab"]
    _, reports = mail_json(cli, dns_server, "--concurrency", "1", *domains)
    assert [r["input"] for r in reports] == domains


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--from-file", "/nonexistent/domains.txt"], "Cannot read the file"),
        (["--nameserver", "not-an-ip", "good.lab"], "is not an IP address"),
        (["--nameserver", "127.0.0.1:99999", "good.lab"], "from 1 to 65535"),
        (["--nameserver", "[::1", "good.lab"], "closing bracket"),
        ([], "Give at least one domain"),
    ],
)
def test_usage_errors_exit_2_with_one_sentence(cli, args, fragment):
    result = cli("mail", *args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_directory_as_file_is_a_usage_error(cli, tmp_path):
    result = cli("mail", "--from-file", str(tmp_path))
    assert result.exit_code == 2
    assert "directory" in result.stderr


def test_bad_option_values_exit_2(cli):
    assert cli("mail", "--timeout", "soon", "good.lab").exit_code == 2
    assert cli("mail", "--concurrency", "0", "good.lab").exit_code == 2
    assert cli("mail", "--format", "xml", "good.lab").exit_code == 2


def test_timeout_budget_is_respected_and_reported_as_undetermined(cli, silent_server):
    started = time.monotonic()
    result = cli("mail", "--nameserver", silent_server.address, "--timeout", "2", "good.lab")
    elapsed = time.monotonic() - started
    assert elapsed < 4, elapsed  # a sanity bound; bench/mail_bench.py measures it
    assert elapsed >= 1.5
    assert result.exit_code == 3
    assert "Could not determine whether good.lab can receive mail" in result.stdout
    assert "ERR?" in result.stdout


def test_text_output_has_marks_mx_hosts_and_a_verdict(cli, dns_server):
    result = cli("mail", "--nameserver", dns_server.address, "good.lab", "nullmx.lab")
    lines = result.stdout.splitlines()
    assert "  PASS  domain-syntax" in lines[1]
    assert any(line.strip() == "MX 10 mx1.good.lab: 1.2.3.4, 2a00:1450::1" for line in lines)
    verdicts = [line.strip() for line in lines if line.strip().startswith("Verdict:")]
    assert verdicts[0] == (
        "Verdict: good.lab can receive mail, and its SPF and DMARC records are in order."
    )
    assert verdicts[1].startswith("Verdict: nullmx.lab cannot receive mail")
    assert "null MX" in verdicts[1]
    assert "\x1b[" not in result.stdout  # no colours when stdout is not a terminal
    assert result.exit_code == 1


def test_verdict_names_the_record_to_fix(cli, dns_server):
    _, [report] = mail_json(cli, dns_server, "dmarcnone.lab")
    assert report["verdict"].startswith("dmarcnone.lab can receive mail, but")
    assert "_dmarc.dmarcnone.lab" in report["verdict"]


def test_email_command(cli, dns_server):
    result = cli(
        "email", "--nameserver", dns_server.address, "--format", "json", "Someone@Почта.рф"
    )
    report = json.loads(result.stdout)
    # email-validator's normalized form keeps the domain in Unicode (NFC, lowercase);
    # the domain checks use its A-labels.
    assert report["email"] == "Someone@почта.рф"
    assert report["domain"] == "xn--80a1acny.xn--p1ai"
    assert report["status"] == "pass"
    assert report["checks"][0]["id"] == "email-syntax"
    assert report["checks"][0]["group"] == "receiving"
    assert {c["id"] for c in report["checks"]} >= set(CHECK_IDS)
    assert result.exit_code == 0


def test_email_with_bad_syntax_fails_without_dns(cli, silent_server):
    result = cli("email", "--nameserver", silent_server.address, "--format", "json", "no-at-sign")
    report = json.loads(result.stdout)
    assert report["status"] == "fail"
    assert [c["id"] for c in report["checks"]] == ["email-syntax"]
    assert result.exit_code == 1


def test_email_domain_problem_is_reported(cli, dns_server):
    result = cli("email", "--nameserver", dns_server.address, "info@missing.lab")
    assert result.exit_code == 1
    assert "does not exist" in result.stdout


def test_email_from_stdin_batch(cli, dns_server):
    result = cli(
        "email",
        "--nameserver",
        dns_server.address,
        "--format",
        "json",
        "--from-file",
        "-",
        input="a@good.lab\nbad@@x\n",
    )
    statuses = [json.loads(line)["status"] for line in result.stdout.splitlines()]
    assert statuses == ["pass", "fail"]
    assert result.exit_code == 1


def test_cli_start_up_does_not_import_dns():
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "diagnose", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()}
    assert not {
        name for name in imported if name.split(".")[0] in ("dns", "email_validator", "rich")
    }
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "diagnose", "mail", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()}
    assert not {
        name for name in imported if name.split(".")[0] in ("dns", "email_validator", "rich")
    }


def test_unreachable_server_is_undetermined_not_missing(cli):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    result = cli(
        "mail",
        "--nameserver",
        f"127.0.0.1:{port}",
        "--timeout",
        "2",
        "--format",
        "json",
        "good.lab",
    )
    report = json.loads(result.stdout)
    assert result.exit_code == 3
    assert report["status"] == "error"
    assert {c["id"]: c["status"] for c in report["checks"]}["mx-present"] == "error"
    assert time.monotonic() - started < 4


def test_progress_bar_on_a_terminal_stderr_only_for_long_batches(dns_server, tmp_path):
    import shlex

    import pexpect

    listing = tmp_path / "domains.txt"
    listing.write_text("good.lab\n" * 40)
    out = tmp_path / "out.jsonl"
    command = shlex.join(
        [
            sys.executable,
            "-m",
            "diagnose",
            "mail",
            "--nameserver",
            dns_server.address,
            "--format",
            "json",
            "--from-file",
            str(listing),
        ]
    )
    terminal = pexpect.spawn(
        "/bin/sh",
        ["-c", f"{command} > {shlex.quote(str(out))}"],
        encoding="utf-8",
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    shown = terminal.read()
    terminal.close()
    assert terminal.exitstatus == 0
    assert "checking" in shown and "40/" in shown  # the bar, on the terminal (stderr)
    assert len(out.read_text().splitlines()) == 40  # the results, unmixed, in the file


@pytest.fixture(scope="module")
def lying_server():
    """A server that answers NXDOMAIN to every question, its own TLD's included."""
    from conftest import ZONES
    from dnsserver import DnsServer

    with DnsServer(ZONES, fault="nxdomain") as server:
        yield server


def test_nxdomain_from_a_server_that_denies_everything_is_undetermined(cli, lying_server):
    result, [report] = mail_json(cli, lying_server, "good.lab")
    assert result.exit_code == 3
    exists = report["checks"][1]
    assert (exists["id"], exists["status"]) == ("domain-exists", "error")
    assert "could not resolve its top-level domain lab either" in exists["message"]
    assert report["verdict"].startswith("Could not determine whether good.lab can receive mail")
    assert "cannot be trusted" in report["verdict"]


def test_nxdomain_is_a_fact_when_the_tld_resolves(cli, dns_server):
    before = dns_server.queries
    result, [report] = mail_json(cli, dns_server, "missing.lab")
    assert result.exit_code == 1
    assert report["checks"][1]["status"] == "fail"
    assert report["checks"][1]["message"] == "missing.lab does not exist in the DNS (NXDOMAIN)."
    # round 1 (MX, TXT, _dmarc, _mta-sts and _smtp._tls TXT) and the SOA of "lab"
    assert dns_server.queries - before <= 6


def test_consultation_with_a_lying_resolver_is_undetermined(cli, lying_server):
    result = cli(
        "run",
        "--no-input",
        "--format",
        "json",
        "--nameserver",
        lying_server.address,
        "-a",
        "goal=contact-support",
        "-a",
        "support-need=letters-missing",
        "-a",
        "support-email=ann@good.lab",
    )
    assert result.exit_code == 3
    assert result.json()["rule"] == "letters-domain-undetermined"


def dmarc_of(all_reports, domain):
    _, by_input, _ = all_reports
    return next(c for c in by_input[domain]["checks"] if c["id"] == "dmarc")


@pytest.mark.parametrize(
    ("domain", "policy_domain", "organizational", "policy", "fragment"),
    [
        # a parent's record applies to an existing subdomain with its sp (RFC 9989 §4.10.1)
        ("sub.org.lab", "org.lab", "org.lab", "quarantine", "applies with sp=quarantine."),
        ("sub.orgnone.lab", "orgnone.lab", "orgnone.lab", "none", "sp=none: it only monitors."),
        # psd=y: the organizational domain is one label below the public suffix domain,
        # which has no record, so the PSD's record applies
        ("shop.psd.lab", "psd.lab", "shop.psd.lab", "reject", "a public suffix domain, psd=y"),
        # psd=n stops the walk and names the organizational domain; its record wins over
        # the nearer dept.corp.lab's (fewest labels / psd=n, §4.10.2)
        ("a.dept.corp.lab", "corp.lab", "corp.lab", "reject", "its organizational domain"),
    ],
)
def test_dmarc_tree_walk_finds_the_record_that_applies(
    all_reports, domain, policy_domain, organizational, policy, fragment
):
    dmarc = dmarc_of(all_reports, domain)
    assert dmarc["policy_domain"] == policy_domain
    assert dmarc["organizational_domain"] == organizational
    assert dmarc["policy"] == policy
    assert fragment in dmarc["message"]
    assert "RFC 9989" in dmarc["message"]


def test_dmarc_no_guess_about_an_organizational_domain(all_reports):
    # example.co.lab (think example.co.uk): the walk asks co.lab and lab, finds nothing,
    # and says so; no public-suffix guess that "a parent's record may apply".
    dmarc = dmarc_of(all_reports, "example.co.lab")
    assert "may apply" not in dmarc["message"]
    assert "no parent domain publishes one" in dmarc["message"]
    assert dmarc["organizational_domain"] == "example.co.lab"


def test_dmarc_walk_undetermined_is_an_error_not_missing(all_reports):
    dmarc = dmarc_of(all_reports, "x.walkerr.lab")
    assert "_dmarc.walkerr.lab" in dmarc["message"]
    assert "SERVFAIL" in dmarc["message"]


def test_dmarc_walk_asks_at_most_8_names(cli, dns_server):
    before = dns_server.queries
    _, [report] = mail_json(cli, dns_server, "a.b.c.d.e.f.g.h.i.lab")
    dmarc = next(check for check in report["checks"] if check["id"] == "dmarc")
    assert dmarc["status"] == "warn"
    # MX, TXT, the MX host's A and AAAA, _mta-sts and _smtp._tls TXT, and 8 DMARC
    # queries: its own and 7 in the walk
    assert dns_server.queries - before == 4 + 2 + 8


@pytest.mark.parametrize(
    ("domain", "fragment"),
    [
        ("dmarcpct.lab", "still has pct, rf, ri, which RFC 9989 removed"),
        ("dmarctest.lab", "test mode (t=y): receivers apply none instead"),
        ("dmarctestreject.lab", "test mode (t=y): receivers apply quarantine instead"),
        ("dmarcbadnp.lab", "np=maybe is not valid"),
        ("dmarcbadpsd.lab", "psd=x is not y, n or u."),
    ],
)
def test_dmarcbis_tags_are_understood(all_reports, domain, fragment):
    assert fragment in dmarc_of(all_reports, domain)["message"]


def test_obsolete_dmarc_tags_are_named_in_the_json(all_reports):
    dmarc = dmarc_of(all_reports, "dmarcpct.lab")
    assert (dmarc["status"], dmarc["policy"], dmarc["obsolete"]) == (
        "warn",
        "reject",
        ["pct", "rf", "ri"],
    )


MAIL_JSON = [sys.executable, "-m", "diagnose", "mail", "--format", "json", "--nameserver"]


def test_the_process_exits_quickly_with_all_output_flushed(dns_server, tmp_path):
    # `diagnose mail` ends with os._exit after flushing (diagnose.cli.main): every line
    # reaches a file or a pipe, and the exit code is the batch's.
    out = tmp_path / "out.jsonl"
    domains = ["good.lab", "missing.lab", "implicit.lab"]
    with open(out, "w") as sink:
        done = subprocess.run(
            [*MAIL_JSON, dns_server.address, *domains],
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    lines = out.read_text().splitlines()
    assert [json.loads(line)["input"] for line in lines] == domains
    piped = subprocess.run(
        [sys.executable, "-m", "diagnose", "mail", "--nameserver", dns_server.address, "good.lab"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert piped.returncode == 0
    assert piped.stdout.rstrip().endswith("and its SPF and DMARC records are in order.")


@pytest.mark.parametrize(
    ("lang", "command", "line", "more"),
    [
        ("en", "mail", "a" * 300_000, "… (299700 more characters)"),
        ("ru", "mail", "a" * 300_000, "… (и ещё 299700 символов)"),
        ("en", "email", "a" * 300_000 + "@good.lab", "… (299709 more characters)"),
    ],
)
def test_a_huge_line_is_quoted_short(cli, silent_server, lang, command, line, more):
    # A pasted megabyte is one invalid input: reported in a few lines, not echoed whole
    # in the title, the message and the verdict.
    result = cli(
        "--lang", lang, command, "--nameserver", silent_server.address, "--from-file", "-",
        input=line + "\n",
    )  # fmt: skip
    assert result.exit_code == 1
    assert more in result.stdout and len(result.stdout) < 5_000
