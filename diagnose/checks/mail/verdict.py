"""The end of the pipeline: a domain's overall status and its verdict in plain words.

The status is the worst of the checks' (``diagnose.checks.results.overall``: fail >
error > warn > pass > skip). The verdict says first whether mail can arrive at all,
judged by the receiving checks alone (``RECEIVING_IDS``: the name, the domain, its MX
records and their targets, MTA-STS, TLS-RPT and the SMTP probe); the sending checks
(``SENDING_IDS``: SPF, RFC 7208; DMARC, RFC 9989; DKIM, RFC 6376) protect the domain's
name and decide whether mail sent *from* it is accepted, but never stop mail from
arriving, so they only add what to fix.

``receiving_verdict`` is what the consultation's live check (``MailDomainCheck``)
reports: its status is the receiving group's, and sending findings are a note.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from diagnose.checks.mail.report import (
    GROUPS,
    RECEIVING,
    RECEIVING_IDS,
    SENDING,
    DomainReport,
    MxHost,
)
from diagnose.checks.results import CheckResult, Status, overall
from diagnose.i18n import N_, _


def conclude(
    raw: str, domain: str, checks: list[CheckResult], mx: tuple[MxHost, ...]
) -> DomainReport:
    """The report of ``domain`` (given as ``raw``): its checks, status and verdict."""
    status = overall(result.status for result in checks)
    return DomainReport(raw, domain, status, tuple(checks), mx, verdict_for(domain, checks))


def group_status(checks: Iterable[CheckResult], group: str) -> Status:
    """The worst status of the checks of ``group`` (``receiving`` or ``sending``)."""
    return overall(result.status for result in checks if GROUPS.get(result.id) == group)


def verdict_for(domain: str, checks: Iterable[CheckResult]) -> str:
    """One line in plain words: can the domain receive mail, and what to fix."""
    return verdict_about(domain, checks)[0]


def verdict_about(
    domain: str, checks: Iterable[CheckResult], subject: str | None = None
) -> tuple[str, bool]:
    """The verdict, with ``subject`` (``diagnose email``'s "The domain of ADDRESS")
    named where a sentence is about the domain itself, and whether any was.

    Each verdict is one whole sentence per case, so that a language puts the domain,
    the findings and the fixes where its grammar wants them. A sentence that is not
    about the domain ("Could not determine whether ...", an invalid name) names the
    domain as it is, and says so (False): the caller then prefixes the address.
    """
    by_id = {result.id: result for result in checks}
    who = subject or domain
    blocked = _not_receiving(domain, by_id, who)
    if blocked is not None:
        return blocked
    found, fixes = _receiving_warnings(domain, by_id)
    sending_found, sending_fixes = _sending_findings(domain, by_id)
    found += sending_found
    fixes += sending_fixes
    if not found:
        text = _("{domain} can receive mail, and its SPF and DMARC records are in order.")
        return text.format(domain=who), True
    if fixes:
        text = _("{domain} can receive mail, but: {found} Fix {fixes}.")
        return text.format(domain=who, found=" ".join(found), fixes=join_all(fixes)), True
    text = _("{domain} can receive mail, but: {found}")
    return text.format(domain=who, found=" ".join(found)), True


def receiving_verdict(domain: str, checks: Iterable[CheckResult]) -> tuple[Status, str]:
    """The status and sentence of "can mail reach this domain?" (the consultation's).

    The status is the receiving group's alone: a sending problem never makes it fail,
    and an undetermined sending check never makes it undetermined. Sending findings
    (fail, warn or undetermined) are added as a note and make a pass a warn.
    """
    checks = list(checks)
    by_id = {result.id: result for result in checks}
    status = group_status(checks, RECEIVING)
    blocked = _not_receiving(domain, by_id, domain)
    if blocked is not None:
        text = blocked[0]
    else:
        found, fixes = _receiving_warnings(domain, by_id)
        if found:
            text = _("{domain} can receive mail, but: {found} Fix {fixes}.").format(
                domain=domain, found=" ".join(found), fixes=join_all(fixes)
            )
        else:
            text = _("{domain} can receive mail.").format(domain=domain)
    note = sending_note(domain, checks)
    if note:
        text += f" {note}"
        if status is Status.PASS:
            status = Status.WARN
    return status, text


def sending_note(domain: str, checks: Iterable[CheckResult]) -> str:
    """What the sending checks found, as a note; empty when they all pass."""
    by_id = {result.id: result for result in checks}
    found, fixes = _sending_findings(domain, by_id, undetermined=False)
    unknown, _fixes = _sending_findings(domain, by_id, problems=False)
    notes: list[str] = []
    if found:
        notes.append(
            _(
                "Note: mail sent from your domain ({domain}) may be rejected: {found} Fix {fixes}."
            ).format(domain=domain, found=" ".join(found), fixes=join_all(fixes))
        )
    if unknown:
        notes.append(
            _(
                "Note: mail sent from your domain ({domain}) could not be fully checked: {found}"
            ).format(domain=domain, found=" ".join(unknown))
        )
    return " ".join(notes)


def join_all(items: Sequence[str]) -> str:
    """``items`` joined by the language's "and": "A and B and C" in English, "A, B и C"
    in Russian (two messages, so that a language may tell the last join from the
    others)."""
    text = items[0] if items else ""
    for index, item in enumerate(items[1:], start=2):
        if index < len(items):
            text = _("{earlier} and {next}").format(earlier=text, next=item)
        else:
            text = _("{earlier} and {last}").format(earlier=text, last=item)
    return text


def _status(by_id: Mapping[str, CheckResult], check_id: str) -> Status:
    result = by_id.get(check_id)
    return result.status if result else Status.SKIP


def _not_receiving(
    domain: str, by_id: Mapping[str, CheckResult], who: str
) -> tuple[str, bool] | None:
    """The verdict when mail cannot arrive, or when that is undetermined, and whether
    it is about ``who`` (the domain, or what stands for it); else None."""
    if _status(by_id, "domain-syntax") is Status.FAIL:
        text = _("{message} Check the spelling of the domain.")
        return text.format(message=by_id["domain-syntax"].message), False
    if _status(by_id, "domain-exists") is Status.FAIL:
        text = _(
            "{domain} cannot receive mail: the domain does not exist; "
            "check the spelling or register the domain."
        )
        return text.format(domain=who), True
    if _status(by_id, "null-mx") is Status.FAIL:
        text = _(
            "{domain} cannot receive mail: its MX record is a null MX (MX 0 .); "
            "replace it with MX records naming your mail servers if it should receive mail."
        )
        return text.format(domain=who), True
    receiving = [by_id[cid] for cid in by_id if GROUPS.get(cid) == RECEIVING]
    receiving_fail = [result for result in receiving if result.status is Status.FAIL]
    if receiving_fail:
        first = receiving_fail[0]
        fix = _(_FIX_FOR.get(first.id, _FIX_OTHER)).format(domain=domain)
        text = _("{domain} cannot receive mail: {reason} Fix: {fix}.")
        return text.format(domain=who, reason=_lower_first(first.message), fix=fix), True
    receiving_error = [result for result in receiving if result.status is Status.ERROR]
    if receiving_error and all(result.id in _BEYOND_DNS for result in receiving_error):
        # The records say mail can arrive; what is unknown is MTA-STS or the probe.
        first = receiving_error[0]
        text = _(
            "{domain} can receive mail as far as its DNS records show, but {what} is "
            "undetermined: {reason}"
        )
        what = _(_BEYOND_DNS[first.id])
        return text.format(domain=who, what=what, reason=_lower_first(first.message)), True
    if receiving_error:
        text = _(
            "Could not determine whether {domain} can receive mail: {reason} "
            "Try again, or check the DNS server."
        )
        return text.format(domain=domain, reason=_lower_first(receiving_error[0].message)), False
    return None


#: What to do when a receiving check fails, by check id (``{domain}`` filled in).
_FIX_FOR = {
    "mx-present": N_("publish an MX record for {domain} naming your mail server"),
    "mx-target-syntax": N_("make the MX records of {domain} name host names"),
    "mx-target-resolves": N_("add A/AAAA records for the MX hosts or fix the MX records"),
    "mx-target-public": N_("publish public A/AAAA records for the MX hosts"),
    "mta-sts": N_(
        "add every MX host to the mx lines of the MTA-STS policy at "
        "https://mta-sts.{domain}/.well-known/mta-sts.txt, or set its mode to testing"
    ),
    "smtp": N_(
        "make every MX host greet with 220 on port 25 and offer STARTTLS with a "
        "certificate valid for its name"
    ),
}
_FIX_OTHER = N_("fix the MX records of {domain}")


def _receiving_warnings(
    domain: str, by_id: Mapping[str, CheckResult]
) -> tuple[list[str], list[str]]:
    """(sentences, records to fix) for the receiving checks that warn: the MX records
    first, then MTA-STS, TLS-RPT and the SMTP probe."""
    mx_ids = [cid for cid in RECEIVING_IDS if cid not in _BEYOND_DNS]
    found = [by_id[cid].message for cid in mx_ids if _status(by_id, cid) is Status.WARN]
    fixes = [_("the MX records of {domain}").format(domain=domain)] if found else []
    records = {
        "mta-sts": N_(
            "the MTA-STS policy (TXT at _mta-sts.{domain}, "
            "https://mta-sts.{domain}/.well-known/mta-sts.txt)"
        ),
        "tls-rpt": N_("the TLS-RPT record (TXT at _smtp._tls.{domain})"),
        "smtp": N_("the MX hosts' STARTTLS and certificates"),
    }
    for cid in _BEYOND_DNS:
        if _status(by_id, cid) is Status.WARN:
            found.append(by_id[cid].message)
            fixes.append(_(records[cid]).format(domain=domain))
    return found, fixes


def _sending_findings(
    domain: str,
    by_id: Mapping[str, CheckResult],
    *,
    problems: bool = True,
    undetermined: bool = True,
) -> tuple[list[str], list[str]]:
    """(sentences, records to fix) for the sending checks that fail or warn
    (``problems``) and those that are undetermined (``undetermined``)."""
    found: list[str] = []
    fixes: list[str] = []
    for cid, result in by_id.items():
        if GROUPS.get(cid) != SENDING:
            continue
        if problems and result.status in (Status.FAIL, Status.WARN):
            found.append(result.message)
            fixes.append(_sending_record(cid, domain, by_id))
        elif undetermined and result.status is Status.ERROR:
            found.append(
                _("The {name} check is undetermined: {reason}").format(
                    name=cid.upper(), reason=_lower_first(result.message)
                )
            )
    return found, fixes


def _sending_record(check_id: str, domain: str, by_id: Mapping[str, CheckResult]) -> str:
    """The record a sending finding asks to fix, as the object of "Fix ..."."""
    if check_id == "spf":
        return _("the SPF record (TXT at {domain})").format(domain=domain)
    if check_id == "dmarc":
        return _("the DMARC record (TXT at _dmarc.{domain})").format(domain=domain)
    if check_id == "dkim":
        names = _dkim_names(by_id.get("dkim"))
        if names:
            return _("the DKIM key (TXT at {names})").format(names=", ".join(names))
        return _("the DKIM key")
    return _("the {name} record").format(name=check_id.upper())


#: Receiving checks that look beyond the DNS records of the domain and its MX hosts,
#: and what they are called in a verdict (translated where used).
_BEYOND_DNS = {
    "mta-sts": N_("its MTA-STS policy"),
    "tls-rpt": N_("its TLS-RPT record"),
    "smtp": N_("the SMTP probe of its MX hosts"),
}


def _dkim_names(result: CheckResult | None) -> list[str]:
    """The key names (s1._domainkey.example.com) of the selectors that did not pass."""
    keys = result.details.get("keys") if result is not None else None
    if not isinstance(keys, list):
        return []
    return [
        str(key.get("name"))
        for key in keys
        if isinstance(key, dict) and key.get("status") in ("warn", "fail")
    ]


def _lower_first(text: str) -> str:
    # "The MX lookup ..." -> "the MX lookup ...", but "MX ..." and "SPF ..." stay.
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text
