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

from collections.abc import Iterable, Mapping

from diagnose.checks.mail.report import (
    GROUPS,
    RECEIVING,
    RECEIVING_IDS,
    SENDING,
    DomainReport,
    MxHost,
)
from diagnose.checks.results import CheckResult, Status, overall


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
    by_id = {result.id: result for result in checks}
    blocked = _not_receiving(domain, by_id)
    if blocked is not None:
        return blocked
    found, fixes = _receiving_warnings(domain, by_id)
    sending_found, sending_fixes = _sending_findings(domain, by_id)
    found += sending_found
    fixes += sending_fixes
    if not found:
        return f"{domain} can receive mail, and its SPF and DMARC records are in order."
    text = f"{domain} can receive mail, but: {' '.join(found)}"
    if fixes:
        text += f" Fix {' and '.join(fixes)}."
    return text


def receiving_verdict(domain: str, checks: Iterable[CheckResult]) -> tuple[Status, str]:
    """The status and sentence of "can mail reach this domain?" (the consultation's).

    The status is the receiving group's alone: a sending problem never makes it fail,
    and an undetermined sending check never makes it undetermined. Sending findings
    (fail, warn or undetermined) are added as a note and make a pass a warn.
    """
    checks = list(checks)
    by_id = {result.id: result for result in checks}
    status = group_status(checks, RECEIVING)
    blocked = _not_receiving(domain, by_id)
    if blocked is not None:
        text = blocked
    else:
        found, fixes = _receiving_warnings(domain, by_id)
        text = f"{domain} can receive mail"
        text += f", but: {' '.join(found)} Fix {' and '.join(fixes)}." if found else "."
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
    unknown, _ = _sending_findings(domain, by_id, problems=False)
    notes: list[str] = []
    if found:
        notes.append(
            f"Note: mail sent from your domain ({domain}) may be rejected: {' '.join(found)}"
            f" Fix {' and '.join(fixes)}."
        )
    if unknown:
        notes.append(
            f"Note: mail sent from your domain ({domain}) could not be fully checked: "
            + " ".join(unknown)
        )
    return " ".join(notes)


def _status(by_id: Mapping[str, CheckResult], check_id: str) -> Status:
    result = by_id.get(check_id)
    return result.status if result else Status.SKIP


def _not_receiving(domain: str, by_id: Mapping[str, CheckResult]) -> str | None:
    """The verdict when mail cannot arrive, or when that is undetermined; else None."""
    if _status(by_id, "domain-syntax") is Status.FAIL:
        return f"{by_id['domain-syntax'].message} Check the spelling of the domain."
    if _status(by_id, "domain-exists") is Status.FAIL:
        return (
            f"{domain} cannot receive mail: the domain does not exist; "
            "check the spelling or register the domain."
        )
    if _status(by_id, "null-mx") is Status.FAIL:
        return (
            f"{domain} cannot receive mail: its MX record is a null MX (MX 0 .); "
            "replace it with MX records naming your mail servers if it should receive mail."
        )
    receiving = [by_id[cid] for cid in by_id if GROUPS.get(cid) == RECEIVING]
    receiving_fail = [result for result in receiving if result.status is Status.FAIL]
    if receiving_fail:
        first = receiving_fail[0]
        fix_for = {
            "mx-present": f"publish an MX record for {domain} naming your mail server",
            "mx-target-syntax": f"make the MX records of {domain} name host names",
            "mx-target-resolves": "add A/AAAA records for the MX hosts or fix the MX records",
            "mx-target-public": "publish public A/AAAA records for the MX hosts",
            "mta-sts": (
                "add every MX host to the mx lines of the MTA-STS policy at "
                f"https://mta-sts.{domain}/.well-known/mta-sts.txt, or set its mode to testing"
            ),
            "smtp": (
                "make every MX host greet with 220 on port 25 and offer STARTTLS with a "
                "certificate valid for its name"
            ),
        }
        fix = fix_for.get(first.id, f"fix the MX records of {domain}")
        return f"{domain} cannot receive mail: {_lower_first(first.message)} Fix: {fix}."
    receiving_error = [result for result in receiving if result.status is Status.ERROR]
    if receiving_error and all(result.id in _BEYOND_DNS for result in receiving_error):
        # The records say mail can arrive; what is unknown is MTA-STS or the probe.
        first = receiving_error[0]
        return (
            f"{domain} can receive mail as far as its DNS records show, but "
            f"{_BEYOND_DNS[first.id]} is undetermined: {_lower_first(first.message)}"
        )
    if receiving_error:
        return (
            f"Could not determine whether {domain} can receive mail: "
            f"{_lower_first(receiving_error[0].message)} Try again, or check the DNS server."
        )
    return None


def _receiving_warnings(
    domain: str, by_id: Mapping[str, CheckResult]
) -> tuple[list[str], list[str]]:
    """(sentences, records to fix) for the receiving checks that warn: the MX records
    first, then MTA-STS, TLS-RPT and the SMTP probe."""
    mx_ids = [cid for cid in RECEIVING_IDS if cid not in _BEYOND_DNS]
    found = [by_id[cid].message for cid in mx_ids if _status(by_id, cid) is Status.WARN]
    fixes = [f"the MX records of {domain}"] if found else []
    records = {
        "mta-sts": (
            f"the MTA-STS policy (TXT at _mta-sts.{domain}, "
            f"https://mta-sts.{domain}/.well-known/mta-sts.txt)"
        ),
        "tls-rpt": f"the TLS-RPT record (TXT at _smtp._tls.{domain})",
        "smtp": "the MX hosts' STARTTLS and certificates",
    }
    for cid in _BEYOND_DNS:
        if _status(by_id, cid) is Status.WARN:
            found.append(by_id[cid].message)
            fixes.append(records[cid])
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
    records = {
        "spf": f"the SPF record (TXT at {domain})",
        "dmarc": f"the DMARC record (TXT at _dmarc.{domain})",
        "dkim": "the DKIM key" + _dkim_where(by_id.get("dkim")),
    }
    for cid, result in by_id.items():
        if GROUPS.get(cid) != SENDING:
            continue
        if problems and result.status in (Status.FAIL, Status.WARN):
            found.append(result.message)
            fixes.append(records.get(cid, f"the {cid.upper()} record"))
        elif undetermined and result.status is Status.ERROR:
            found.append(f"The {cid.upper()} check is undetermined: {_lower_first(result.message)}")
    return found, fixes


#: Receiving checks that look beyond the DNS records of the domain and its MX hosts,
#: and what they are called in a verdict.
_BEYOND_DNS = {
    "mta-sts": "its MTA-STS policy",
    "tls-rpt": "its TLS-RPT record",
    "smtp": "the SMTP probe of its MX hosts",
}


def _dkim_where(result: CheckResult | None) -> str:
    """ " (TXT at s1._domainkey.example.com)" for the selectors that did not pass."""
    keys = result.details.get("keys") if result is not None else None
    if not isinstance(keys, list):
        return ""
    names = [
        str(key.get("name"))
        for key in keys
        if isinstance(key, dict) and key.get("status") in ("warn", "fail")
    ]
    return f" (TXT at {', '.join(names)})" if names else ""


def _lower_first(text: str) -> str:
    # "The MX lookup ..." -> "the MX lookup ...", but "MX ..." and "SPF ..." stay.
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text
