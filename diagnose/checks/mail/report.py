"""What a mail-domain check reports: the check ids, one result, the MX hosts, the report.

Every other module of the package builds on these. The ids are stable (scripts and
rules name them) and listed in the order they are reported, which is the order of the
pipeline: the name itself, the round-1 answers about the domain and its MX records,
the MX targets of round 2, then SPF and DMARC, then the checks added later (MTA-STS,
TLS-RPT, DKIM and the SMTP probe, ``extras``), at the end so that existing indices
stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NotRequired, TypedDict

from diagnose.checks.results import CheckResult, Status

#: The check ids, in the order they are reported. Stable: scripts and rules use them.
CHECK_IDS = (
    "domain-syntax",
    "domain-exists",
    "mx-present",
    "null-mx",
    "mx-target-syntax",
    "mx-target-cname",
    "mx-target-resolves",
    "mx-target-public",
    "spf",
    "dmarc",
    "mta-sts",
    "tls-rpt",
    "dkim",
    "smtp",
)
#: Checks that decide whether mail can arrive at all (SPF, DMARC and DKIM do not).
RECEIVING_IDS = (*CHECK_IDS[:8], "mta-sts", "tls-rpt", "smtp")
#: The checks of the MX targets (round 2), judged only when the domain has MX records.
TARGET_IDS = CHECK_IDS[4:8]


class MxHostDict(TypedDict):
    """An MX host in the JSON output."""

    preference: int
    exchange: str
    addresses: list[str]
    implicit: NotRequired[bool]


class DomainReportDict(TypedDict):
    """A domain's report in the JSON output (one line of ``diagnose mail --format json``)."""

    domain: str
    input: str
    status: str
    verdict: str
    checks: list[dict[str, object]]
    mx: list[MxHostDict]


@dataclass(frozen=True)
class MxHost:
    """One MX record with the addresses its target resolved to."""

    preference: int
    exchange: str
    addresses: tuple[str, ...] = ()
    #: True for the implicit MX of RFC 5321 §5.1 (no MX record; the domain itself)
    implicit: bool = False

    def to_dict(self) -> MxHostDict:
        data: MxHostDict = {
            "preference": self.preference,
            "exchange": self.exchange,
            "addresses": list(self.addresses),
        }
        if self.implicit:
            data["implicit"] = True
        return data


@dataclass(frozen=True)
class DomainReport:
    """Everything found about one domain; ``verdict`` is the one-line summary."""

    input: str
    domain: str
    status: Status
    checks: tuple[CheckResult, ...]
    mx: tuple[MxHost, ...]
    verdict: str = ""

    def check(self, check_id: str) -> CheckResult:
        return next(result for result in self.checks if result.id == check_id)

    def to_dict(self) -> DomainReportDict:
        return {
            "domain": self.domain,
            "input": self.input,
            "status": str(self.status),
            "verdict": self.verdict,
            "checks": [result.to_dict() for result in self.checks],
            "mx": [host.to_dict() for host in self.mx],
        }


def make_result(check_id: str, status: Status, message: str, **details: object) -> CheckResult:
    """One check's result; ``details`` become its extra JSON fields."""
    return CheckResult(check_id, status, message, details)


def skip_rest(done: list[CheckResult], message: str) -> list[CheckResult]:
    """``done`` followed by a skip, with ``message``, for every check not in it."""
    seen = {result.id for result in done}
    return done + [make_result(cid, Status.SKIP, message) for cid in CHECK_IDS if cid not in seen]
