"""RFC 5321's length limits on addresses (section 4.5.3.1): email-validator alone lets
a 65-octet local part through."""

from __future__ import annotations

import pytest

from diagnose.checks.email import check_syntax
from diagnose.checks.results import Status


def domain_of(length: int) -> str:
    """A valid domain of exactly ``length`` octets (150 to 200)."""
    name = ".".join(["d" * 50] * 3) + "." + "e" * (length - 157) + ".com"
    assert len(name) == length
    return name


@pytest.mark.parametrize(
    ("address", "status", "reason"),
    [
        ("a" * 64 + "@example.com", Status.PASS, None),
        ("a" * 65 + "@example.com", Status.FAIL, "the part before the @ is 65 octets long"),
        # Octets, not characters: 32 Cyrillic letters are 64 octets, 33 are 66.
        ("я" * 32 + "@example.com", Status.PASS, None),
        ("я" * 33 + "@example.com", Status.FAIL, "the part before the @ is 66 octets long"),
        ("a" * 64 + "@" + domain_of(189), Status.PASS, None),  # 254 octets in all
        ("a" * 64 + "@" + domain_of(190), Status.FAIL, "too long"),  # 255
    ],
)
def test_rfc_5321_length_limits(address, status, reason):
    result = check_syntax(address).result
    assert result.status is status, result.message
    if reason:
        assert reason in result.message
        assert result.message.endswith(".")


def test_a_65_octet_local_part_is_refused_at_the_command_line(cli):
    address = "a" * 65 + "@example.com"
    result = cli("email", "--format", "json", "--nameserver", "127.0.0.1:9", address)
    assert result.exit_code == 1
    report = result.json()
    assert report["status"] == "fail"
    assert "RFC 5321 allows 64" in report["checks"][0]["message"]
