"""The end of the pipeline: a domain's overall status and its verdict in plain words.

The status is the worst of the checks' (``diagnose.checks.results.overall``: fail >
error > warn > pass > skip). The verdict says first whether mail can arrive at all,
judged by the receiving checks alone (``RECEIVING_IDS``: the name, the domain, its MX
records and their targets, MTA-STS, TLS-RPT and the SMTP probe); SPF (RFC 7208),
DMARC (RFC 7489) and DKIM (RFC 6376) protect the domain's name but never stop mail
from arriving, so they only add what to fix.
"""

from __future__ import annotations

from collections.abc import Iterable

from diagnose.checks.mail.report import RECEIVING_IDS, DomainReport, MxHost
from diagnose.checks.results import CheckResult, Status, overall


def conclude(
    raw: str, domain: str, checks: list[CheckResult], mx: tuple[MxHost, ...]
) -> DomainReport:
    """The report of ``domain`` (given as ``raw``): its checks, status and verdict."""
    status = overall(result.status for result in checks)
    return DomainReport(raw, domain, status, tuple(checks), mx, verdict_for(domain, checks))


def verdict_for(domain: str, checks: Iterable[CheckResult]) -> str:
    """One line in plain words: can the domain receive mail, and what to fix."""
    by_id = {result.id: result for result in checks}

    def status(check_id: str) -> Status:
        result = by_id.get(check_id)
        return result.status if result else Status.SKIP

    if status("domain-syntax") is Status.FAIL:
        return f"{by_id['domain-syntax'].message} Check the spelling of the domain."
    if status("domain-exists") is Status.FAIL:
        return (
            f"{domain} cannot receive mail: the domain does not exist; "
            "check the spelling or register the domain."
        )
    if status("null-mx") is Status.FAIL:
        return (
            f"{domain} cannot receive mail: its MX record is a null MX (MX 0 .); "
            "replace it with MX records naming your mail servers if it should receive mail."
        )
    receiving_fail = [
        by_id[cid] for cid in RECEIVING_IDS if cid in by_id and by_id[cid].status is Status.FAIL
    ]
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
    receiving_error = [
        by_id[cid] for cid in RECEIVING_IDS if cid in by_id and by_id[cid].status is Status.ERROR
    ]
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
    found: list[str] = []  # sentences: what is wrong or weak
    fixes: list[str] = []  # the records to fix
    mx_ids = [cid for cid in RECEIVING_IDS if cid not in _BEYOND_DNS]
    if any(status(cid) is Status.WARN for cid in mx_ids):
        found.extend(by_id[cid].message for cid in mx_ids if status(cid) is Status.WARN)
        fixes.append(f"the MX records of {domain}")
    records = {
        "mta-sts": (
            f"the MTA-STS policy (TXT at _mta-sts.{domain}, "
            f"https://mta-sts.{domain}/.well-known/mta-sts.txt)"
        ),
        "tls-rpt": f"the TLS-RPT record (TXT at _smtp._tls.{domain})",
        "smtp": "the MX hosts' STARTTLS and certificates",
        "spf": f"the SPF record (TXT at {domain})",
        "dmarc": f"the DMARC record (TXT at _dmarc.{domain})",
        "dkim": "the DKIM key" + _dkim_where(by_id.get("dkim")),
    }
    for cid in ("mta-sts", "tls-rpt", "smtp"):
        if status(cid) is Status.WARN:
            found.append(by_id[cid].message)
            fixes.append(records[cid])
    for cid in ("spf", "dmarc", "dkim"):
        if status(cid) in (Status.FAIL, Status.WARN):
            found.append(by_id[cid].message)
            fixes.append(records[cid])
        elif status(cid) is Status.ERROR:
            found.append(
                f"The {cid.upper()} check is undetermined: {_lower_first(by_id[cid].message)}"
            )
    if not found:
        return f"{domain} can receive mail, and its SPF and DMARC records are in order."
    text = f"{domain} can receive mail, but: {' '.join(found)}"
    if fixes:
        text += f" Fix {' and '.join(fixes)}."
    return text


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
