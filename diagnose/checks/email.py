"""Email-address checks: syntax with email-validator, then the domain's receiving path.

email-validator is used for syntax and normalization only (``check_deliverability=False``):
its own deliverability test treats a DNS timeout or SERVFAIL as deliverable and does not
look at the MX hosts, so the domain is judged by ``diagnose.checks.mail`` instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from diagnose.checks.results import CheckResult, Status, overall
from diagnose.checks.settings import DnsSettings

if TYPE_CHECKING:
    from dns.asyncresolver import Resolver

    from diagnose.checks.mail.extras import MailOptions
    from diagnose.checks.mail.report import MxHost, MxHostDict


class EmailReportDict(TypedDict):
    """An address's report in the JSON output (one line of ``diagnose email --format json``)."""

    email: str
    input: str
    status: str
    verdict: str
    domain: str
    checks: list[dict[str, object]]
    mx: list[MxHostDict]


@dataclass(frozen=True)
class EmailReport:
    input: str
    email: str
    status: Status
    checks: tuple[CheckResult, ...]
    domain: str = ""
    mx: tuple[MxHost, ...] = ()
    verdict: str = ""

    def to_dict(self) -> EmailReportDict:
        return {
            "email": self.email,
            "input": self.input,
            "status": str(self.status),
            "verdict": self.verdict,
            "domain": self.domain,
            "checks": [result.to_dict() for result in self.checks],
            "mx": [host.to_dict() for host in self.mx],
        }


@dataclass(frozen=True)
class Syntax:
    result: CheckResult
    email: str
    domain: str | None


def check_syntax(address: str) -> Syntax:
    """The ``email-syntax`` check: pass with the normalized address, or fail with why."""
    from email_validator import EmailNotValidError, validate_email

    try:
        valid = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        reason = str(error).strip()
        if not reason.endswith("."):
            reason += "."
        return Syntax(
            CheckResult(
                "email-syntax",
                Status.FAIL,
                f"'{address.strip()}' is not valid: {reason}",
                {"group": "receiving"},  # GROUPS in diagnose.checks.mail.report
            ),
            address.strip(),
            None,
        )
    too_long = _over_rfc5321_limits(valid.local_part, valid.ascii_domain or valid.domain)
    if too_long:
        return Syntax(
            CheckResult(
                "email-syntax", Status.FAIL, f"'{address.strip()}' is not valid: {too_long}"
            ),
            address.strip(),
            None,
        )
    return Syntax(
        CheckResult(
            "email-syntax",
            Status.PASS,
            f"{valid.normalized} is a valid email address.",
            {"group": "receiving", "email": valid.normalized},
        ),
        valid.normalized,
        valid.ascii_domain,
    )


#: RFC 5321, section 4.5.3.1.1: a local part of at most 64 octets. Section 4.5.3.1.3:
#: a path of at most 256 octets, angle brackets included, so an address of at most 254
#: (RFC 3696 erratum 1690). email-validator lets a 65-octet local part through.
MAX_LOCAL_OCTETS = 64
MAX_ADDRESS_OCTETS = 254


def _over_rfc5321_limits(local: str, domain: str) -> str | None:
    """Why ``local@domain`` is too long for SMTP (a sentence), or None. Octets are
    counted in UTF-8, as an internationalized address travels (RFC 6531)."""
    local_octets = len(local.encode("utf-8"))
    if local_octets > MAX_LOCAL_OCTETS:
        return (
            f"the part before the @ is {local_octets} octets long; "
            f"RFC 5321 allows {MAX_LOCAL_OCTETS}."
        )
    total = local_octets + 1 + len(domain.encode("utf-8"))
    if total > MAX_ADDRESS_OCTETS:
        return f"it is {total} octets long; RFC 5321 allows {MAX_ADDRESS_OCTETS}."
    return None


async def check_email_async(
    address: str,
    dns: DnsSettings,
    *,
    resolver: Resolver | None = None,
    options: MailOptions | None = None,
) -> EmailReport:
    from diagnose.checks.mail import check_domain_async

    syntax = check_syntax(address)
    if syntax.domain is None:
        message = syntax.result.message
        return EmailReport(address, syntax.email, Status.FAIL, (syntax.result,), verdict=message)
    report = await check_domain_async(syntax.domain, dns, resolver=resolver, options=options)
    checks = (syntax.result, *report.checks)
    verdict = report.verdict.replace(report.domain, f"The domain of {syntax.email}", 1)
    if not verdict.startswith("The domain of"):
        verdict = f"{syntax.email}: {report.verdict}"
    return EmailReport(
        address,
        syntax.email,
        overall(result.status for result in checks),
        checks,
        report.domain,
        report.mx,
        verdict,
    )


def check_email(address: str, dns: DnsSettings) -> EmailReport:
    """Check an address: syntax, then whether its domain can receive mail."""
    from diagnose.checks.mail import run_sync

    return run_sync(check_email_async(address, dns))


async def check_emails_async(
    addresses: Iterable[str],
    dns: DnsSettings,
    concurrency: int,
    options: MailOptions | None = None,
) -> AsyncIterator[EmailReport]:
    """Many addresses, ordered and streaming (see ``check_domains_async``)."""
    from diagnose.checks.dnsquery import close_resolver, make_resolver
    from diagnose.checks.mail import ordered_map

    resolver = make_resolver(dns)
    try:
        async for report in ordered_map(
            addresses,
            lambda address: check_email_async(address, dns, resolver=resolver, options=options),
            concurrency,
        ):
            yield report
    finally:
        close_resolver(resolver)


def check_emails(
    addresses: Iterable[str],
    dns: DnsSettings,
    concurrency: int,
    options: MailOptions | None = None,
) -> Iterator[EmailReport]:
    from diagnose.checks.mail import drive

    return drive(check_emails_async(addresses, dns, concurrency, options))


class EmailAddressCheck:
    """Live check ``email-address``: is the address valid (syntax only, no DNS)?"""

    id = "email-address"
    input_types = frozenset({"email"})
    description = "Checks the syntax of an email address and normalizes it."

    def run(self, value: str, dns: DnsSettings) -> CheckResult:
        syntax = check_syntax(value)
        return CheckResult(
            "email-address", syntax.result.status, syntax.result.message, {"email": syntax.email}
        )
