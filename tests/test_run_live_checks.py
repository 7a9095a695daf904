"""The engine reasons with live checks: 'letters from support do not arrive' checks the
address and its mail domain against the test DNS server, and the recommendation,
evidence and exit code follow from the results."""

from __future__ import annotations

import pytest

LETTERS = ["-a", "goal=contact-support", "-a", "support-need=letters-missing"]


F = "What the check of your mail domain found: "


def run_letters(cli, server, address: str, *extra: str):
    return cli(
        "run",
        "--no-input",
        "--format",
        "json",
        "--nameserver",
        server.address,
        "--timeout",
        "2",
        *LETTERS,
        "-a",
        f"support-email={address}",
        *extra,
    )


def test_healthy_domain_gets_spam_folder_and_test_letter(cli, dns_server):
    result = run_letters(cli, dns_server, "ann@good.lab")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert (data["article"], data["rule"]) == (
        "support-mail-not-received",
        "letters-to-healthy-domain",
    )
    assert data["steps"][0].startswith(F + "good.lab can receive mail")
    assert any("Spam and Trash" in step for step in data["steps"])
    assert [(c["id"], c["status"]) for c in data["checks"]] == [
        ("email-address", "pass"),
        ("mail-domain", "pass"),
    ]
    mail = data["checks"][1]
    assert mail["domain"] == "good.lab"
    assert {c["id"] for c in mail["checks"]} >= {"mx-present", "null-mx", "spf", "dmarc"}
    # run has no --smtp or --dkim-selector: their "skipped: add --smtp" is not shown
    assert {c["id"] for c in mail["checks"]}.isdisjoint({"dkim", "smtp"})
    assert not any("--" in c["message"] for c in mail["checks"])
    facts = [c["fact"] for c in data["evidence"]["conditions"]]
    assert facts[-1].startswith("the live check mail-domain gave pass")


def test_null_mx_gets_fix_instructions_naming_the_record(cli, dns_server):
    result = run_letters(cli, dns_server, "ann@nullmx.lab")
    assert result.exit_code == 1
    data = result.json()
    assert data["rule"] == "letters-to-broken-domain"
    assert data["steps"][0].startswith(F + "nullmx.lab cannot receive mail:")
    assert "MX" in data["steps"][0]
    sub = {c["id"]: c["status"] for c in data["checks"][1]["checks"]}
    assert sub["null-mx"] == "fail"


def test_no_mx_and_no_address(cli, dns_server):
    result = run_letters(cli, dns_server, "ann@noaddr.lab")
    assert result.exit_code == 1
    assert result.json()["rule"] == "letters-to-broken-domain"


def test_undetermined_domain_says_so_and_gives_manual_steps(cli, dns_server):
    result = run_letters(cli, dns_server, "ann@mxtimeout.lab")
    assert result.exit_code == 3
    data = result.json()
    assert data["rule"] == "letters-domain-undetermined"
    assert data["checks"][1]["status"] == "error"
    assert data["steps"][0].startswith(F + "Could not determine whether mxtimeout.lab")
    # Never reported as missing: the MX check itself is undetermined, not failed.
    sub = {c["id"]: c["status"] for c in data["checks"][1]["checks"]}
    assert sub["mx-present"] == "error"


def test_invalid_address_is_measured_and_the_domain_is_not_queried(cli, dns_server):
    before = dns_server.queries
    result = run_letters(cli, dns_server, "ann@@good.lab")
    assert result.exit_code == 1
    data = result.json()
    assert data["rule"] == "letters-to-invalid-address"
    assert [c["id"] for c in data["checks"]] == ["email-address"]
    assert data["steps"][0].startswith("The address you gave cannot receive mail:")
    assert dns_server.queries == before


def test_unknown_address_skips_the_checks(cli, dns_server):
    result = run_letters(cli, dns_server, "unknown")
    assert result.exit_code == 0
    data = result.json()
    assert data["rule"] == "letters-address-unknown"
    assert [(c["id"], c["status"]) for c in data["checks"]] == [("email-address", "skip")]


def test_missing_address_under_no_input_names_the_question(cli, dns_server):
    result = cli("run", "--no-input", "--nameserver", dns_server.address, *LETTERS)
    assert result.exit_code == 2
    assert "The question 'support-email' needs an answer" in result.stderr


@pytest.mark.parametrize("address", ["ann@почта.рф", "ANN@XN--80A1ACNY.XN--P1AI"])
def test_idn_domain(cli, dns_server, address):
    result = run_letters(cli, dns_server, address)
    assert result.exit_code == 0, result.stdout
    assert result.json()["checks"][1]["domain"] == "xn--80a1acny.xn--p1ai"


def test_text_output_shows_checks_and_their_subchecks(cli, dns_server):
    result = cli(
        "run",
        "--no-input",
        "--nameserver",
        dns_server.address,
        *LETTERS,
        "-a",
        "support-email=ann@nullmx.lab",
    )
    assert result.exit_code == 1
    assert "✗ fail mail-domain:" in result.stdout
    assert "null-mx:" in result.stdout


def test_broken_spf_with_good_mx_is_a_note_never_the_cause(cli, dns_server):
    # spfplus.lab: good MX, SPF "+all" (a sending problem). Letters *to* the domain
    # arrive; SPF only decides whether mail *from* it is accepted.
    result = run_letters(cli, dns_server, "ann@spfplus.lab")
    assert result.exit_code == 0, result.stdout
    data = result.json()
    assert data["rule"] == "letters-to-healthy-domain"
    mail = data["checks"][1]
    assert (mail["status"], mail["receiving"], mail["sending"]) == ("warn", "pass", "fail")
    steps = " ".join(data["steps"])
    assert "cannot receive mail" not in steps
    assert data["steps"][0].startswith(F + "spfplus.lab can receive mail")
    assert "Note: mail sent from your domain (spfplus.lab) may be rejected:" in data["steps"][0]
    assert "+all" in data["steps"][0]
    sub = {c["id"]: (c["status"], c["group"]) for c in mail["checks"]}
    assert sub["spf"] == ("fail", "sending")
    assert sub["mx-present"] == ("pass", "receiving")


def test_undetermined_sending_check_leaves_the_consultation_determined(cli, dns_server):
    # dmarcerr.lab: every receiving check concludes; the _dmarc lookup SERVFAILs.
    result = run_letters(cli, dns_server, "ann@dmarcerr.lab")
    assert result.exit_code == 0, result.stdout
    data = result.json()
    assert data["rule"] == "letters-to-healthy-domain"
    mail = data["checks"][1]
    assert (mail["receiving"], mail["sending"]) == ("pass", "error")
    assert "could not be fully checked" in data["steps"][0]


def test_receiving_failure_still_blames_the_mx_not_spf(cli, dns_server):
    # nullmixed.lab: a malformed null MX (receiving) and no SPF or DMARC (sending).
    result = run_letters(cli, dns_server, "ann@nullmixed.lab")
    assert result.exit_code == 1
    data = result.json()
    assert data["rule"] == "letters-to-broken-domain"
    first = data["steps"][0]
    assert first.startswith(F + "nullmixed.lab cannot receive mail:")
    assert "null MX" in first
    assert first.index("null MX") < first.index("Note: mail sent from your domain")
