"""Email-address checks: syntax with email-validator, then the domain's receiving path.

email-validator is used for syntax and normalization only (``check_deliverability=False``):
its own deliverability test treats a DNS timeout or SERVFAIL as deliverable and does not
look at the MX hosts, so the domain is judged by ``diagnose.checks.mail`` instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from diagnose import i18n
from diagnose.checks.results import CheckResult, Status, overall
from diagnose.checks.settings import DnsSettings
from diagnose.i18n import N_, _, ngettext

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
    lang: str


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
            "lang": i18n.current(),  # the language of the verdict and messages
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
                _not_valid(address.strip(), validator_reason(reason)),
                {"group": "receiving"},  # GROUPS in diagnose.checks.mail.report
            ),
            address.strip(),
            None,
        )
    too_long = _over_rfc5321_limits(valid.local_part, valid.ascii_domain or valid.domain)
    if too_long:
        return Syntax(
            CheckResult("email-syntax", Status.FAIL, _not_valid(address.strip(), too_long)),
            address.strip(),
            None,
        )
    return Syntax(
        CheckResult(
            "email-syntax",
            Status.PASS,
            _("{email} is a valid email address.").format(email=valid.normalized),
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
        return ngettext(
            "the part before the @ is {n} octet long; RFC 5321 allows {limit}.",
            "the part before the @ is {n} octets long; RFC 5321 allows {limit}.",
            local_octets,
        ).format(n=local_octets, limit=MAX_LOCAL_OCTETS)
    total = local_octets + 1 + len(domain.encode("utf-8"))
    if total > MAX_ADDRESS_OCTETS:
        return ngettext(
            "it is {n} octet long; RFC 5321 allows {limit}.",
            "it is {n} octets long; RFC 5321 allows {limit}.",
            total,
        ).format(n=total, limit=MAX_ADDRESS_OCTETS)
    return None


def _not_valid(address: str, reason: str) -> str:
    from diagnose.checks.names import abbreviated

    return _("'{address}' is not valid: {reason}").format(
        address=abbreviated(address), reason=reason
    )


#: email-validator's sentences, which it has in English only: ``validator_reason``
#: finds a reason among them by its wording and gives it in the current language.
#: ``{chars}`` and ``{detail}`` stand for what the library fills in (the characters it
#: refused, the IDNA codec's reason), kept as they are.
_VALIDATOR = (
    N_("An email address must have an @-sign."),
    N_("There must be something before the @-sign."),
    N_("There must be something after the @-sign."),
    N_(
        'The email address has the "full-width" at-sign (@) character instead of a regular at-sign.'
    ),
    N_('The email address has the "small commercial at" character instead of a regular at-sign.'),
    N_("An email address cannot start with a period."),
    N_("An email address cannot have a period immediately before the @-sign."),
    N_("An email address cannot have a period immediately after the @-sign."),
    N_("An email address cannot have a hyphen immediately after the @-sign."),
    N_("An email address cannot end with a period."),
    N_("An email address cannot end with a hyphen."),
    N_("An email address cannot have two periods in a row."),
    N_("An email address cannot have a period and a hyphen next to each other."),
    N_(
        "An email address cannot have two letters followed by two dashes immediately "
        "after the @-sign or after a period, except Punycode."
    ),
    N_("Quoting the part before the @-sign is not allowed here."),
    N_("A bracketed IP address after the @-sign is not allowed here."),
    N_("A display name and angle brackets around the email address are not permitted here."),
    N_("There can't be anything after the email address."),
    N_("The email address contains an invalid character."),
    N_("The email address contains invalid characters before the @-sign: {chars}."),
    N_("The email address contains invalid characters before the @-sign."),
    N_("The email address contains invalid characters in quotes before the @-sign: {chars}."),
    N_("Internationalized characters before the @-sign are not supported: {chars}."),
    N_("Internationalized characters before the @-sign are not supported."),
    N_("The email address contains unsafe characters: {chars}."),
    N_("Extra character(s) found after close quote: {chars}."),
    N_("The part after the @-sign contains invalid characters: {chars}."),
    N_("The part after the @-sign contains invalid characters ({detail})."),
    N_(
        "The part after the @-sign contains invalid characters after Unicode "
        "normalization: {chars}."
    ),
    N_("The email address contains invalid characters after the @-sign after IDNA encoding."),
    N_("The part after the @-sign is invalid ({detail})."),
    N_("The part after the @-sign is not valid. It should have a period."),
    N_("The part after the @-sign is not valid. It is not within a valid top-level domain."),
    N_(
        "The part after the @-sign is a special-use or reserved name that cannot be "
        "used with email."
    ),
    N_("The part after the @-sign is not valid IDNA ({detail})."),
    N_(
        "The part after the @-sign became invalid after normalizing to international "
        "characters ({detail})."
    ),
)


def _counted(reason: str) -> str | None:
    """email-validator's "too long" sentences, with the right plural form for their
    count; None for any other."""
    import re

    match = re.fullmatch(
        r"(.*?)\((\d+) (character|byte)s? too many( after IDNA encoding)?\)\.", reason
    )
    if match is None:
        return None
    head, n, unit = match.group(1), int(match.group(2)), match.group(3)
    if unit == "byte":
        if head != "The email address is too long after the @-sign " or not match.group(4):
            return None
        text = ngettext(
            "The email address is too long after the @-sign "
            "({n} byte too many after IDNA encoding).",
            "The email address is too long after the @-sign "
            "({n} bytes too many after IDNA encoding).",
            n,
        )
    elif match.group(4):
        return None
    elif head == "The email address is too long before the @-sign ":
        text = ngettext(
            "The email address is too long before the @-sign ({n} character too many).",
            "The email address is too long before the @-sign ({n} characters too many).",
            n,
        )
    elif head == "The email address is too long after the @-sign ":
        text = ngettext(
            "The email address is too long after the @-sign ({n} character too many).",
            "The email address is too long after the @-sign ({n} characters too many).",
            n,
        )
    elif head == "After the @-sign, periods cannot be separated by so many characters ":
        text = ngettext(
            "After the @-sign, periods cannot be separated by so many characters "
            "({n} character too many).",
            "After the @-sign, periods cannot be separated by so many characters "
            "({n} characters too many).",
            n,
        )
    elif head == "The email address is too long ":
        text = ngettext(
            "The email address is too long ({n} character too many).",
            "The email address is too long ({n} characters too many).",
            n,
        )
    else:
        return None
    return text.format(n=n)


def validator_reason(reason: str) -> str:
    """An email-validator reason (a sentence) in the current language: the library
    speaks English only. A sentence it does not know (a newer version's) stays as the
    library wrote it."""
    import re

    if i18n.current() == "en":
        return reason
    inner = re.fullmatch(r"After Unicode normalization: (.+)", reason, re.DOTALL)
    if inner is not None:
        return _("After Unicode normalization: {reason}").format(
            reason=validator_reason(inner.group(1))
        )
    counted = _counted(reason)
    if counted is not None:
        return counted
    for template in _VALIDATOR:
        pattern = re.escape(template)
        for name in ("chars", "detail"):
            pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>.+)")
        match = re.fullmatch(pattern, reason, re.DOTALL)
        if match is not None:
            return _(template).format(**match.groupdict())
    return reason


async def check_email_async(
    address: str,
    dns: DnsSettings,
    *,
    resolver: Resolver | None = None,
    options: MailOptions | None = None,
) -> EmailReport:
    from diagnose.checks.mail import check_domain_async
    from diagnose.checks.mail.verdict import verdict_about

    syntax = check_syntax(address)
    if syntax.domain is None:
        message = syntax.result.message
        return EmailReport(address, syntax.email, Status.FAIL, (syntax.result,), verdict=message)
    report = await check_domain_async(syntax.domain, dns, resolver=resolver, options=options)
    checks = (syntax.result, *report.checks)
    # The domain's verdict, with the address standing for the domain where a sentence
    # is about it ("The domain of ann@example.org cannot receive mail: ..."); a
    # sentence that is not is prefixed with the address.
    subject = _("The domain of {email}").format(email=syntax.email)
    verdict, about = verdict_about(report.domain, report.checks, subject)
    verdict = verdict[:1].upper() + verdict[1:] if about else f"{syntax.email}: {report.verdict}"
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
    description = N_("Checks the syntax of an email address and normalizes it.")

    def run(self, value: str, dns: DnsSettings) -> CheckResult:
        syntax = check_syntax(value)
        return CheckResult(
            "email-address", syntax.result.status, syntax.result.message, {"email": syntax.email}
        )
