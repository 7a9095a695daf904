"""Can a domain receive mail? The mail-domain checks (the core never prints).

One domain costs about two DNS round trips: the first round asks for MX, TXT (SPF),
``_dmarc`` TXT (DMARC) and the domain's own A/AAAA (the implicit MX of RFC 5321 §5.1)
all at once; the second asks for every MX target's A and AAAA at once. SPF
include/redirect chains add rounds only when the record has them, each level's
lookups again at once. Every lookup shares one time budget per domain
(``DnsSettings.timeout``), and a lookup that runs out of it is undetermined (status
error), never "missing".

Public API (the engine calls these): ``check_domain``, ``check_domain_async``,
``check_domains``, ``check_domains_async``, ``MailDomainCheck``.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from diagnose.checks.names import (
    DomainSyntaxError,
    doubled_domain,
    host_name_problem,
    normalize_domain,
)
from diagnose.checks.results import CheckResult, Status, overall
from diagnose.checks.settings import DnsSettings
from diagnose.checks.spf_dmarc import (
    MAX_LOOKUPS,
    MAX_VOID,
    is_dmarc,
    is_spf,
    parse_dmarc,
    parse_spf,
)
from diagnose.exceptions import DiagnoseError

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
)
#: Checks that decide whether mail can arrive at all (SPF and DMARC do not).
RECEIVING_IDS = CHECK_IDS[:8]

DEFAULT_CONCURRENCY = 50

T = TypeVar("T")


@dataclass(frozen=True)
class MxHost:
    """One MX record with the addresses its target resolved to."""

    preference: int
    exchange: str
    addresses: tuple[str, ...] = ()
    #: True for the implicit MX of RFC 5321 §5.1 (no MX record; the domain itself)
    implicit: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "input": self.input,
            "status": str(self.status),
            "verdict": self.verdict,
            "checks": [result.to_dict() for result in self.checks],
            "mx": [host.to_dict() for host in self.mx],
        }


def _result(check_id: str, status: Status, message: str, **details: Any) -> CheckResult:
    return CheckResult(check_id, status, message, details)


def _skip_rest(done: list[CheckResult], message: str) -> list[CheckResult]:
    seen = {result.id for result in done}
    return done + [_result(cid, Status.SKIP, message) for cid in CHECK_IDS if cid not in seen]


def _is_public(address: str) -> bool:
    return ipaddress.ip_address(address).is_global


def _addresses(*lookups: Any) -> list[str]:
    from diagnose.checks.dnsquery import Outcome

    found: list[str] = []
    for item in lookups:
        if item.outcome is Outcome.OK:
            found.extend(record.address for record in item.records)
    return found


async def check_domain_async(
    domain: str, dns: DnsSettings, *, resolver: Any = None
) -> DomainReport:
    """Check one domain; ``resolver`` (from ``make_resolver``) may be shared by a batch.

    Never raises for anything about the domain or the network: a defect found on the
    way is reported as undetermined checks rather than ending a whole batch.
    """
    from diagnose.checks.dnsquery import close_resolver, make_resolver

    own = resolver is None
    try:
        if own:
            resolver = make_resolver(dns)
        return await _check_domain(domain, dns, resolver)
    except (asyncio.CancelledError, DiagnoseError):
        raise  # DiagnoseError: no resolver at all, which is the caller's to report
    except Exception as error:  # a bug; the batch goes on, and the report says so
        shown = domain.strip().lower().rstrip(".")
        message = f"The check could not be completed because of an internal error: {error!r}."
        checks = [_result(cid, Status.ERROR, message) for cid in CHECK_IDS]
        return _report(domain, shown, checks, ())
    finally:
        if own and resolver is not None:
            close_resolver(resolver)


async def _check_domain(domain: str, dns: DnsSettings, resolver: Any) -> DomainReport:
    from diagnose.checks import dnsquery

    try:
        name = normalize_domain(domain)
    except DomainSyntaxError as error:
        shown = domain.strip().lower().rstrip(".")
        checks = _skip_rest(
            [_result("domain-syntax", Status.FAIL, str(error))],
            "Skipped: the domain name is not valid.",
        )
        return _report(domain, shown, checks, ())
    budget = dnsquery.Budget(dns.timeout)
    checks = [_result("domain-syntax", Status.PASS, f"{name} is a valid domain name.")]

    # Round 1: MX, TXT (SPF) and _dmarc TXT, at once. Round 2 (below) starts as soon
    # as the MX answer is in, without waiting for the TXT answers; SPF includes are
    # walked as soon as TXT is in.
    def start(qname: str, rdtype: str) -> asyncio.Future[Any]:
        return asyncio.ensure_future(dnsquery.lookup(resolver, qname, rdtype, budget))

    mx_t, txt_t, dmarc_t = start(name, "MX"), start(name, "TXT"), start(f"_dmarc.{name}", "TXT")
    spf_t = asyncio.ensure_future(_check_spf(resolver, name, txt_t, budget))
    mx_l = await mx_t
    Outcome = dnsquery.Outcome
    a_l = aaaa_l = None
    if mx_l.outcome is Outcome.NXDOMAIN:
        for task in (txt_t, dmarc_t, spf_t):
            task.cancel()
        await asyncio.gather(txt_t, dmarc_t, spf_t, return_exceptions=True)
        txt_l = mx_l
        targets_t: asyncio.Future[Any] = asyncio.ensure_future(asyncio.sleep(0))
    else:
        # Round 2 starts as soon as the MX answer is in: the MX targets' addresses, or,
        # with no MX (NODATA), the domain's own A/AAAA for the implicit MX (RFC 5321
        # §5.1). Either way one round trip after the first, and the domain's own
        # addresses are asked only when they matter.
        targets_t = asyncio.ensure_future(_check_targets(resolver, name, _mx_targets(mx_l), budget))
        if mx_l.outcome is Outcome.NODATA:
            a_l, aaaa_l = await asyncio.gather(start(name, "A"), start(name, "AAAA"))
        txt_l, dmarc_l = await asyncio.gather(txt_t, dmarc_t)
    on_domain = [mx_l, txt_l, *(item for item in (a_l, aaaa_l) if item is not None)]
    if any(item.outcome is Outcome.NXDOMAIN for item in on_domain):
        checks.append(
            _result("domain-exists", Status.FAIL, f"{name} does not exist in the DNS (NXDOMAIN).")
        )
        for task in (spf_t, targets_t):
            task.cancel()
        await asyncio.gather(spf_t, targets_t, return_exceptions=True)
        return _report(domain, name, _skip_rest(checks, "Skipped: the domain does not exist."), ())
    if any(item.concluded for item in on_domain):
        checks.append(_result("domain-exists", Status.PASS, f"{name} exists in the DNS."))
    else:
        checks.append(
            _result(
                "domain-exists",
                Status.ERROR,
                f"Could not tell whether {name} exists: {mx_l.reason}",
            )
        )

    mx_hosts: list[MxHost] = []
    if mx_l.outcome is Outcome.OK:
        records = sorted(
            ((r.preference, r.exchange.to_text(omit_final_dot=True).lower()) for r in mx_l.records),
        )
        null = [(pref, ex) for pref, ex in records if ex in ("", ".")]
        listed = ", ".join(f"{pref} {ex or '.'}" for pref, ex in records)
        checks.append(
            _result(
                "mx-present",
                Status.PASS,
                f"{name} has MX records: {listed}" + ("" if listed.endswith(".") else "."),
                count=len(records),
            )
        )
        if not null:
            checks.append(_result("null-mx", Status.PASS, f"{name} has no null MX record."))
        elif len(records) == 1 and null[0][0] == 0:
            checks.append(
                _result(
                    "null-mx",
                    Status.FAIL,
                    f"{name} publishes a null MX (MX 0 .): it accepts no mail (RFC 7505).",
                )
            )
        else:
            checks.append(
                _result(
                    "null-mx",
                    Status.FAIL,
                    f"{name} has a malformed null MX: 'MX {null[0][0]} .' next to other MX "
                    "records or with a preference other than 0 (RFC 7505 §3).",
                )
            )
    elif mx_l.outcome is Outcome.NODATA:
        assert a_l is not None and aaaa_l is not None
        implicit = _addresses(a_l, aaaa_l)
        public = [address for address in implicit if _is_public(address)]
        if implicit:
            mx_hosts.append(MxHost(0, name, tuple(implicit), implicit=True))
        if public:
            checks.append(
                _result(
                    "mx-present",
                    Status.WARN,
                    f"{name} has no MX record; mail goes to its own address "
                    f"({', '.join(public)}) as an implicit MX (RFC 5321 §5.1).",
                )
            )
        elif implicit:
            checks.append(
                _result(
                    "mx-present",
                    Status.FAIL,
                    f"{name} has no MX record, and its own addresses "
                    f"({', '.join(implicit)}) are not public.",
                )
            )
        elif a_l.concluded and aaaa_l.concluded:
            checks.append(
                _result("mx-present", Status.FAIL, f"{name} has no MX record and no address.")
            )
        else:
            reason = a_l.reason or aaaa_l.reason
            checks.append(
                _result(
                    "mx-present",
                    Status.ERROR,
                    f"{name} has no MX record, and its address lookup is undetermined: {reason}",
                )
            )
        checks.append(_result("null-mx", Status.PASS, f"{name} has no null MX record."))
    else:
        checks.append(
            _result("mx-present", Status.ERROR, f"The MX lookup for {name} failed: {mx_l.reason}")
        )
        checks.append(_result("null-mx", Status.SKIP, "Skipped: the MX lookup failed."))

    target_results, mx_hosts_found = await targets_t
    spf_result = await spf_t
    if mx_l.outcome is Outcome.OK:
        mx_hosts = mx_hosts_found
        checks.extend(target_results)
    else:
        why = (
            "Skipped: the domain has no MX record; mx-present judged its own address."
            if mx_l.outcome is Outcome.NODATA
            else "Skipped: the MX lookup failed."
        )
        checks.extend(_result(cid, Status.SKIP, why) for cid in CHECK_IDS[4:8])
    checks.append(spf_result)
    checks.append(_check_dmarc(name, dmarc_l))
    return _report(domain, name, checks, tuple(mx_hosts))


async def _check_targets(
    resolver: Any, name: str, targets: list[tuple[int, str]], budget: Any
) -> tuple[list[CheckResult], list[MxHost]]:
    """mx-target-syntax, -cname, -resolves and -public for the real MX targets."""
    from diagnose.checks import dnsquery

    if not targets:
        why = "Skipped: the domain has no MX target (only a null MX) or no MX record."
        return [_result(cid, Status.SKIP, why) for cid in CHECK_IDS[4:8]], []
    results: list[CheckResult] = []
    problems = {ex: host_name_problem(ex) for _, ex in targets}
    bad = [problem for problem in problems.values() if problem]
    hints = [
        f"The MX target {ex} ends with {name} twice: the zone file probably lacks the "
        f"final dot after the host name (write 'MX {pref} {ex[: -len(name) - 1]}.')."
        for pref, ex in targets
        if doubled_domain(ex, name)
    ]
    hint_text = (" Hint: " + " ".join(hints)) if hints else ""
    if bad:
        results.append(_result("mx-target-syntax", Status.FAIL, " ".join(bad) + hint_text))
    else:
        results.append(
            _result(
                "mx-target-syntax",
                Status.PASS,
                "Every MX target is a host name." + hint_text,
                **({"hints": hints} if hints else {}),
            )
        )
    valid = sorted({ex for _, ex in targets if not problems[ex]})
    lookups = await asyncio.gather(
        *(dnsquery.lookup(resolver, ex, rdtype, budget) for ex in valid for rdtype in ("A", "AAAA"))
    )
    by_target = {ex: (lookups[2 * i], lookups[2 * i + 1]) for i, ex in enumerate(valid)}

    aliases = [
        f"{ex} (-> {pair[0].canonical_name or pair[1].canonical_name})"
        for ex, pair in by_target.items()
        if any(item.is_alias for item in pair)
    ]
    if aliases:
        results.append(
            _result(
                "mx-target-cname",
                Status.WARN,
                "An MX target is an alias (CNAME), which RFC 2181 §10.3 forbids: "
                + ", ".join(aliases)
                + ".",
            )
        )
    elif valid:
        results.append(_result("mx-target-cname", Status.PASS, "No MX target is an alias."))
    else:
        results.append(_result("mx-target-cname", Status.SKIP, "Skipped: no valid MX target."))

    resolved: dict[str, list[str]] = {}
    none: list[str] = [ex for _, ex in targets if problems[ex]]
    unknown: list[tuple[str, str]] = []
    for ex, (a_l, aaaa_l) in by_target.items():
        found = _addresses(a_l, aaaa_l)
        if found:
            resolved[ex] = found
        if not a_l.concluded or not aaaa_l.concluded:
            if not found:
                unknown.append((ex, a_l.reason or aaaa_l.reason))
        elif not found:
            none.append(ex)
    none = sorted(set(none))
    if unknown:
        listed = "; ".join(f"{ex}: {reason}" for ex, reason in unknown)
        results.append(
            _result("mx-target-resolves", Status.ERROR, f"Address lookup undetermined for {listed}")
        )
    elif not none:
        results.append(
            _result("mx-target-resolves", Status.PASS, "Every MX target has an address.")
        )
    elif not resolved:
        results.append(
            _result(
                "mx-target-resolves",
                Status.FAIL,
                f"No MX target has an address: {', '.join(none)}.{hint_text}",
            )
        )
    else:
        results.append(
            _result(
                "mx-target-resolves",
                Status.WARN,
                f"Some MX targets have no address: {', '.join(none)}.{hint_text}",
            )
        )

    addresses = [address for found in resolved.values() for address in found]
    private = sorted({address for address in addresses if not _is_public(address)})
    if not addresses:
        results.append(_result("mx-target-public", Status.SKIP, "Skipped: no MX address found."))
    elif not private:
        results.append(_result("mx-target-public", Status.PASS, "Every MX address is public."))
    elif len(private) < len(set(addresses)):
        results.append(
            _result(
                "mx-target-public",
                Status.WARN,
                "Some MX addresses are private, loopback or reserved: " + ", ".join(private) + ".",
            )
        )
    else:
        results.append(
            _result(
                "mx-target-public",
                Status.FAIL,
                "Every MX address is private, loopback or reserved, so the internet cannot "
                "reach them: " + ", ".join(private) + ".",
            )
        )
    hosts = [MxHost(pref, ex, tuple(resolved.get(ex, ()))) for pref, ex in targets]
    return results, hosts


def _mx_targets(mx_l: Any) -> list[tuple[int, str]]:
    """(preference, exchange) of the real MX targets (not the null MX's root)."""
    if not mx_l.records:
        return []
    pairs = sorted(
        (r.preference, r.exchange.to_text(omit_final_dot=True).lower()) for r in mx_l.records
    )
    return [(pref, ex) for pref, ex in pairs if ex not in ("", ".")]


async def _check_spf(
    resolver: Any, name: str, txt_future: Awaitable[Any], budget: Any
) -> CheckResult:
    """RFC 7208: one record, valid syntax, at most 10 lookups and 2 void lookups."""
    from diagnose.checks import dnsquery

    txt_l = await txt_future
    Outcome = dnsquery.Outcome
    if not txt_l.concluded:
        return _result("spf", Status.ERROR, f"The TXT lookup for {name} failed: {txt_l.reason}")
    found = [text for text in dnsquery.txt_strings(txt_l.records) if is_spf(text)]
    if not found:
        return _result("spf", Status.WARN, f"{name} has no SPF record: anyone may send as it.")
    if len(found) > 1:
        return _result(
            "spf",
            Status.FAIL,
            f"{name} has {len(found)} SPF records; RFC 7208 §4.5 allows one (permerror).",
            records=found,
        )
    top = parse_spf(found[0])
    if top.error:
        return _result(
            "spf", Status.FAIL, f"The SPF record of {name} is invalid: {top.error}", record=top.text
        )
    # Walk include: and redirect= level by level, each level's lookups at once.
    lookups, void = top.lookups, 0
    records = {name: top}
    level = [name]
    while level and lookups <= MAX_LOOKUPS:
        wanted: list[str] = []
        for domain in level:
            record = records[domain]
            follow = list(record.includes)
            # RFC 7208 §6.1: redirect is ignored when the record has an "all".
            if record.redirect and "%" not in record.redirect and record.all_qualifier is None:
                follow.append(record.redirect)
            wanted.extend(target for target in follow if target not in records)
        wanted = list(dict.fromkeys(wanted))
        if not wanted:
            break
        answers = await asyncio.gather(
            *(dnsquery.lookup(resolver, target, "TXT", budget) for target in wanted)
        )
        level = []
        missing: list[str] = []
        for target, answer in zip(wanted, answers, strict=True):
            if not answer.concluded:
                return _result(
                    "spf",
                    Status.ERROR,
                    f"The SPF record of {name} includes {target}, whose lookup failed: "
                    f"{answer.reason}",
                    record=top.text,
                )
            texts = (
                [t for t in dnsquery.txt_strings(answer.records) if is_spf(t)]
                if answer.outcome is Outcome.OK
                else []
            )
            if answer.outcome is not Outcome.OK:
                void += 1
            if len(texts) != 1:
                # RFC 7208 §5.2 / §6.1: an include or redirect to a domain without
                # exactly one SPF record is a permerror.
                missing.append(f"{target} ({'no' if not texts else len(texts)} SPF records)")
                continue
            parsed = parse_spf(texts[0])
            if parsed.error:
                return _result(
                    "spf",
                    Status.FAIL,
                    f"The SPF record of {target} (used by {name}) is invalid: {parsed.error}",
                    record=top.text,
                )
            records[target] = parsed
            lookups += parsed.lookups
            level.append(target)
        if void > MAX_VOID:
            return _result(
                "spf",
                Status.FAIL,
                f"The SPF record of {name} causes {void} void lookups; RFC 7208 §4.6.4 allows "
                f"{MAX_VOID} (permerror).",
                record=top.text,
            )
        if missing:
            return _result(
                "spf",
                Status.FAIL,
                f"The SPF record of {name} refers to domains without exactly one SPF record "
                f"(permerror): {', '.join(missing)}.",
                record=top.text,
            )
    details = {"record": top.text, "lookups": lookups}
    if lookups > MAX_LOOKUPS:
        return _result(
            "spf",
            Status.FAIL,
            f"The SPF record of {name} needs {lookups} DNS lookups; RFC 7208 §4.6.4 allows "
            f"{MAX_LOOKUPS} (permerror).",
            **details,
        )
    if void > MAX_VOID:
        return _result(
            "spf",
            Status.FAIL,
            f"The SPF record of {name} causes {void} void lookups; RFC 7208 §4.6.4 allows "
            f"{MAX_VOID} (permerror).",
            **details,
        )
    qualifier = _effective_all(records, name)
    if qualifier == "+":
        return _result(
            "spf",
            Status.FAIL,
            f"The SPF record of {name} ends in +all: anyone may send as it.",
            **details,
        )
    if qualifier is None:
        return _result(
            "spf",
            Status.WARN,
            f"The SPF record of {name} has no 'all' term, so it does not reject other senders.",
            **details,
        )
    if qualifier == "?":
        return _result(
            "spf",
            Status.WARN,
            f"The SPF record of {name} ends in ?all, which protects nothing.",
            **details,
        )
    return _result(
        "spf", Status.PASS, f"{name} has one valid SPF record ending in {qualifier}all.", **details
    )


def _effective_all(records: dict[str, Any], domain: str) -> str | None:
    seen: set[str] = set()
    while domain in records and domain not in seen:
        seen.add(domain)
        record = records[domain]
        if record.all_qualifier is not None or not record.redirect:
            return record.all_qualifier
        domain = record.redirect
    return None


def _check_dmarc(name: str, dmarc_l: Any) -> CheckResult:
    """RFC 7489 §6.6.3: one record at _dmarc.<domain>; p=quarantine or reject protects."""
    from diagnose.checks import dnsquery

    where = f"_dmarc.{name}"
    if not dmarc_l.concluded:
        return _result(
            "dmarc", Status.ERROR, f"The TXT lookup for {where} failed: {dmarc_l.reason}"
        )
    texts = [t for t in dnsquery.txt_strings(dmarc_l.records) if is_dmarc(t)]
    if not texts:
        # RFC 7489 §6.6.3: receivers fall back to the organizational domain's record,
        # which needs the public suffix list to find; say so rather than guess.
        fallback = (
            " The record of its organizational domain may apply (RFC 7489 §6.6.3)."
            if name.count(".") >= 2
            else ""
        )
        return _result("dmarc", Status.WARN, f"{name} has no DMARC record at {where}.{fallback}")
    if len(texts) > 1:
        return _result(
            "dmarc",
            Status.FAIL,
            f"{where} has {len(texts)} DMARC records, so none applies (RFC 7489 §6.6.3).",
            records=texts,
        )
    record = parse_dmarc(texts[0])
    if record.error:
        return _result(
            "dmarc",
            Status.FAIL,
            f"The DMARC record at {where} is invalid: {record.error}",
            record=record.text,
        )
    if record.policy == "none":
        return _result(
            "dmarc",
            Status.WARN,
            f"The DMARC policy of {name} is p=none: it only monitors.",
            record=record.text,
            policy="none",
        )
    return _result(
        "dmarc",
        Status.PASS,
        f"{name} has a DMARC record with p={record.policy}.",
        record=record.text,
        policy=record.policy,
    )


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
        fixes = {
            "mx-present": f"publish an MX record for {domain} naming your mail server",
            "mx-target-syntax": f"make the MX records of {domain} name host names",
            "mx-target-resolves": "add A/AAAA records for the MX hosts or fix the MX records",
            "mx-target-public": "publish public A/AAAA records for the MX hosts",
        }
        fix = fixes.get(first.id, f"fix the MX records of {domain}")
        return f"{domain} cannot receive mail: {_lower_first(first.message)} Fix: {fix}."
    receiving_error = [
        by_id[cid] for cid in RECEIVING_IDS if cid in by_id and by_id[cid].status is Status.ERROR
    ]
    if receiving_error:
        return (
            f"Could not determine whether {domain} can receive mail: "
            f"{_lower_first(receiving_error[0].message)} Try again, or check the DNS server."
        )
    found: list[str] = []  # sentences: what is wrong or weak
    fixes: list[str] = []  # the records to fix
    if any(status(cid) is Status.WARN for cid in RECEIVING_IDS):
        found.extend(by_id[cid].message for cid in RECEIVING_IDS if status(cid) is Status.WARN)
        fixes.append(f"the MX records of {domain}")
    records = {
        "spf": f"the SPF record (TXT at {domain})",
        "dmarc": f"the DMARC record (TXT at _dmarc.{domain})",
    }
    for cid in ("spf", "dmarc"):
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


def _lower_first(text: str) -> str:
    # "The MX lookup ..." -> "the MX lookup ...", but "MX ..." and "SPF ..." stay.
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _report(
    raw: str, domain: str, checks: list[CheckResult], mx: tuple[MxHost, ...]
) -> DomainReport:
    status = overall(result.status for result in checks)
    return DomainReport(raw, domain, status, tuple(checks), mx, verdict_for(domain, checks))


def _run_sync(coroutine: Any) -> Any:
    """Run a coroutine to completion, even when the caller is inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def check_domain(domain: str, dns: DnsSettings) -> DomainReport:
    """Check one domain (synchronous wrapper around ``check_domain_async``)."""
    return _run_sync(check_domain_async(domain, dns))


async def ordered_map(
    items: Iterable[str],
    func: Callable[[str], Awaitable[T]],
    concurrency: int = DEFAULT_CONCURRENCY,
) -> AsyncIterator[T]:
    """``func`` over ``items``, at most ``concurrency`` at a time, yielding in input order.

    ``items`` is consumed lazily and the window of started-but-unreported items is
    bounded, so memory stays flat for any input length. A slow item at the head holds
    back only the output, not the other lookups (the window is larger than the
    concurrency).
    """
    concurrency = max(1, concurrency)
    gate = asyncio.Semaphore(concurrency)
    window: deque[asyncio.Task[T]] = deque()
    limit = concurrency * 4 + 16

    async def one(item: str) -> T:
        async with gate:
            return await func(item)

    try:
        for item in items:
            window.append(asyncio.ensure_future(one(item)))
            while window and (len(window) >= limit or window[0].done()):
                yield await window.popleft()
            await asyncio.sleep(0)  # let the new task start before reading more input
        while window:
            yield await window.popleft()
    finally:
        for task in window:
            task.cancel()
        if window:
            await asyncio.gather(*window, return_exceptions=True)


def drive(reports: AsyncIterator[T]) -> Iterator[T]:
    """Iterate an async generator from synchronous code, on a private event loop."""
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                yield loop.run_until_complete(reports.__anext__())
            except StopAsyncIteration:
                break
    finally:
        aclose = getattr(reports, "aclose", None)
        if aclose is not None:
            loop.run_until_complete(aclose())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def check_domains_async(
    domains: Iterable[str], dns: DnsSettings, concurrency: int = DEFAULT_CONCURRENCY
) -> AsyncIterator[DomainReport]:
    """Check many domains, at most ``concurrency`` at a time, yielding in input order."""
    from diagnose.checks.dnsquery import close_resolver, make_resolver

    resolver = make_resolver(dns)
    try:
        async for report in ordered_map(
            domains, lambda domain: check_domain_async(domain, dns, resolver=resolver), concurrency
        ):
            yield report
    finally:
        close_resolver(resolver)


def check_domains(
    domains: Iterable[str], dns: DnsSettings, concurrency: int = DEFAULT_CONCURRENCY
) -> Iterator[DomainReport]:
    """Synchronous, ordered, streaming form of ``check_domains_async``."""
    return drive(check_domains_async(domains, dns, concurrency))


class MailDomainCheck:
    """Live check ``mail-domain``: can the domain (or an address's domain) receive mail?"""

    id = "mail-domain"
    input_types = frozenset({"domain", "email"})
    description = "Checks whether a domain can receive mail (MX, addresses, SPF, DMARC)."

    def run(self, value: str, dns: DnsSettings) -> CheckResult:
        domain = value.rsplit("@", 1)[1] if "@" in value else value
        report = check_domain(domain, dns)
        return CheckResult(
            "mail-domain",
            report.status,
            report.verdict,
            {
                "domain": report.domain,
                "checks": [result.to_dict() for result in report.checks],
                "mx": [host.to_dict() for host in report.mx],
            },
        )
