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

from diagnose import i18n
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
#: Checks that run only when asked for (``diagnose mail --dkim-selector``, ``--smtp``):
#: a consultation never asks, so their "skipped: add --smtp" is not shown there.
OPT_IN_IDS = frozenset({"dkim", "smtp"})
#: The group of every check id, the ones other modules add included. ``receiving``: the
#: check decides whether mail can reach the domain (its existence, MX, null MX of RFC
#: 7505, implicit MX of RFC 5321 §5.1, the MX targets; MTA-STS of RFC 8461 and TLS-RPT
#: of RFC 8460 also concern mail on its way in). ``sending``: the check governs mail
#: sent *from* the domain (SPF, RFC 7208; DMARC, RFC 9989; DKIM, RFC 6376), which
#: receivers may reject or quarantine, but never whether the domain receives mail.
#: Every result carries its group in its JSON (``"group": "receiving"``).
GROUPS: dict[str, str] = {
    "domain-syntax": "receiving",
    "domain-exists": "receiving",
    "mx-present": "receiving",
    "null-mx": "receiving",
    "mx-target-syntax": "receiving",
    "mx-target-cname": "receiving",
    "mx-target-resolves": "receiving",
    "mx-target-public": "receiving",
    "mta-sts": "receiving",
    "tls-rpt": "receiving",
    "smtp": "receiving",
    "spf": "sending",
    "dmarc": "sending",
    "dkim": "sending",
    # the address's own syntax (``diagnose email``): a bad address receives nothing
    "email-syntax": "receiving",
}
RECEIVING = "receiving"
SENDING = "sending"
#: Checks that decide whether mail can arrive at all (SPF, DMARC and DKIM do not).
RECEIVING_IDS = tuple(cid for cid in CHECK_IDS if GROUPS[cid] == RECEIVING)
#: Checks of mail sent from the domain: findings here never mean "cannot receive mail".
SENDING_IDS = tuple(cid for cid in CHECK_IDS if GROUPS[cid] == SENDING)
#: The checks of the MX targets (round 2), judged only when the domain has MX records.
TARGET_IDS = ("mx-target-syntax", "mx-target-cname", "mx-target-resolves", "mx-target-public")


def group_of(check_id: str) -> str:
    """``receiving`` or ``sending``; an id missing from ``GROUPS`` is a bug (KeyError)."""
    return GROUPS[check_id]


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
    lang: str


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
            "lang": i18n.current(),  # the language of the verdict and messages; ids are neutral
        }


def make_result(check_id: str, status: Status, message: str, **details: object) -> CheckResult:
    """One check's result with its group; ``details`` become its extra JSON fields."""
    return CheckResult(check_id, status, message, {"group": group_of(check_id), **details})


def skip_rest(done: list[CheckResult], message: str) -> list[CheckResult]:
    """``done`` followed by a skip, with ``message``, for every check not in it."""
    seen = {result.id for result in done}
    return done + [make_result(cid, Status.SKIP, message) for cid in CHECK_IDS if cid not in seen]
