"""The MX records: present, null, implicit, and what their targets resolve to.

From the round-1 answers (``judge_mx``): the MX records themselves (RFC 5321 §5),
the null MX of RFC 7505 ("MX 0 ." alone: the domain accepts no mail; anything else
with a root target is malformed, §3), and, with no MX record at all, the implicit MX
of RFC 5321 §5.1 (mail goes to the domain's own A/AAAA addresses).

From round 2 (``check_targets``, which asks every target's A and AAAA at once): each
target must be a host name, not an alias (RFC 2181 §10.3), resolve to an address, and
that address must be public for the internet to reach it.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import TYPE_CHECKING

from diagnose.checks.mail.report import TARGET_IDS, MxHost, make_result
from diagnose.checks.names import doubled_domain, host_name_problem
from diagnose.checks.results import CheckResult, Status
from diagnose.i18n import _

if TYPE_CHECKING:
    from dns.asyncresolver import Resolver

    from diagnose.checks.dnsquery import Budget, Lookup


#: The MX targets whose addresses are looked up, most preferred first (two queries
#: each). A sender tries only a few of them anyway; the rest are reported as not
#: checked (undetermined), so that 2,000 MX records cost 2 x 20 queries, not 4,000.
MAX_TARGETS = 20
#: Names listed in one message before "and N more".
MAX_LISTED = 10


def listed(items: list[str], separator: str = ", ") -> str:
    """``items`` joined, at most ``MAX_LISTED`` of them, then how many more."""
    shown = separator.join(items[:MAX_LISTED])
    more = len(items) - MAX_LISTED
    if more <= 0:
        return shown
    return shown + separator + _("and {n} more").format(n=more)


def is_public(address: str) -> bool:
    return ipaddress.ip_address(address).is_global


def found_addresses(*lookups: Lookup) -> list[str]:
    """The addresses the A/AAAA ``lookups`` found, in order."""
    from diagnose.checks.dnsquery import Outcome, addresses

    found: list[str] = []
    for item in lookups:
        if item.outcome is Outcome.OK:
            found.extend(addresses(item.records))
    return found


def judge_mx(
    name: str, mx_l: Lookup, a_l: Lookup | None, aaaa_l: Lookup | None
) -> tuple[list[CheckResult], list[MxHost]]:
    """mx-present and null-mx from the MX answer (and, with no MX record, from the
    domain's own A/AAAA answers); the implicit MX host when there is one."""
    from diagnose.checks.dnsquery import Outcome, mx_records

    checks: list[CheckResult] = []
    mx_hosts: list[MxHost] = []
    if mx_l.outcome is Outcome.OK:
        records = mx_records(mx_l.records)
        null = [(pref, ex) for pref, ex in records if ex in ("", ".")]
        shown = listed([f"{pref} {ex or '.'}" for pref, ex in records])
        checks.append(
            make_result(
                "mx-present",
                Status.PASS,
                _("{domain} has MX records: {records}").format(domain=name, records=shown)
                + ("" if shown.endswith(".") else "."),
                count=len(records),
            )
        )
        if not null:
            checks.append(make_result("null-mx", Status.PASS, _no_null_mx(name)))
        elif len(records) == 1 and null[0][0] == 0:
            checks.append(
                make_result(
                    "null-mx",
                    Status.FAIL,
                    _(
                        "{domain} publishes a null MX (MX 0 .): it accepts no mail (RFC 7505)."
                    ).format(domain=name),
                )
            )
        else:
            checks.append(
                make_result(
                    "null-mx",
                    Status.FAIL,
                    _(
                        "{domain} has a malformed null MX: 'MX {preference} .' next to other MX "
                        "records or with a preference other than 0 (RFC 7505 §3)."
                    ).format(domain=name, preference=null[0][0]),
                )
            )
    elif mx_l.outcome is Outcome.NODATA:
        assert a_l is not None and aaaa_l is not None
        implicit = found_addresses(a_l, aaaa_l)
        public = [address for address in implicit if is_public(address)]
        if implicit:
            mx_hosts.append(MxHost(0, name, tuple(implicit), implicit=True))
        if public:
            checks.append(
                make_result(
                    "mx-present",
                    Status.WARN,
                    _(
                        "{domain} has no MX record; mail goes to its own address "
                        "({addresses}) as an implicit MX (RFC 5321 §5.1)."
                    ).format(domain=name, addresses=", ".join(public)),
                )
            )
        elif implicit:
            checks.append(
                make_result(
                    "mx-present",
                    Status.FAIL,
                    _(
                        "{domain} has no MX record, and its own addresses ({addresses}) are not "
                        "public."
                    ).format(domain=name, addresses=", ".join(implicit)),
                )
            )
        elif a_l.concluded and aaaa_l.concluded:
            checks.append(
                make_result(
                    "mx-present",
                    Status.FAIL,
                    _("{domain} has no MX record and no address.").format(domain=name),
                )
            )
        else:
            reason = a_l.reason or aaaa_l.reason
            checks.append(
                make_result(
                    "mx-present",
                    Status.ERROR,
                    _(
                        "{domain} has no MX record, and its address lookup is undetermined: "
                        "{reason}"
                    ).format(domain=name, reason=reason),
                )
            )
        checks.append(make_result("null-mx", Status.PASS, _no_null_mx(name)))
    else:
        checks.append(
            make_result(
                "mx-present",
                Status.ERROR,
                _("The MX lookup for {domain} failed: {reason}").format(
                    domain=name, reason=mx_l.reason
                ),
            )
        )
        checks.append(make_result("null-mx", Status.SKIP, _("Skipped: the MX lookup failed.")))
    return checks, mx_hosts


def _no_null_mx(name: str) -> str:
    return _("{domain} has no null MX record.").format(domain=name)


def targets_skipped(mx_l: Lookup) -> list[CheckResult]:
    """The mx-target-* checks when the domain has no MX record or its lookup failed."""
    from diagnose.checks.dnsquery import Outcome

    why = (
        _("Skipped: the domain has no MX record; mx-present judged its own address.")
        if mx_l.outcome is Outcome.NODATA
        else _("Skipped: the MX lookup failed.")
    )
    return [make_result(cid, Status.SKIP, why) for cid in TARGET_IDS]


def mx_targets(mx_l: Lookup) -> list[tuple[int, str]]:
    """(preference, exchange) of the real MX targets (not the null MX's root)."""
    from diagnose.checks.dnsquery import mx_records

    return [(pref, ex) for pref, ex in mx_records(mx_l.records) if ex not in ("", ".")]


async def check_targets(
    resolver: Resolver, name: str, targets: list[tuple[int, str]], budget: Budget
) -> tuple[list[CheckResult], list[MxHost]]:
    """mx-target-syntax, -cname, -resolves and -public for the real MX targets."""
    from diagnose.checks import dnsquery

    if not targets:
        why = _("Skipped: the domain has no MX target (only a null MX) or no MX record.")
        return [make_result(cid, Status.SKIP, why) for cid in TARGET_IDS], []
    results: list[CheckResult] = []
    problems = {ex: host_name_problem(ex) for _, ex in targets}
    bad = [problem for problem in problems.values() if problem]
    hints = [
        _(
            "The MX target {target} ends with {domain} twice: the zone file probably lacks "
            "the final dot after the host name (write 'MX {preference} {fixed}.')."
        ).format(target=ex, domain=name, preference=pref, fixed=ex[: -len(name) - 1])
        for pref, ex in targets
        if doubled_domain(ex, name)
    ]
    hints = hints[:3]  # one typo is usually repeated on every line; three say enough
    hint_text = (" " + _("Hint: {hints}").format(hints=" ".join(hints))) if hints else ""
    if bad:
        results.append(make_result("mx-target-syntax", Status.FAIL, listed(bad, " ") + hint_text))
    else:
        results.append(
            make_result(
                "mx-target-syntax",
                Status.PASS,
                _("Every MX target is a host name.") + hint_text,
                **({"hints": hints} if hints else {}),
            )
        )
    # Most preferred first (``targets`` is sorted), each name once, at most MAX_TARGETS.
    ordered = list(dict.fromkeys(ex for _, ex in targets if not problems[ex]))
    valid, unchecked = ordered[:MAX_TARGETS], ordered[MAX_TARGETS:]
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
            make_result(
                "mx-target-cname",
                Status.WARN,
                _(
                    "An MX target is an alias (CNAME), which RFC 2181 §10.3 forbids: {targets}."
                ).format(targets=listed(aliases)),
            )
        )
    elif valid:
        results.append(make_result("mx-target-cname", Status.PASS, _("No MX target is an alias.")))
    else:
        results.append(
            make_result("mx-target-cname", Status.SKIP, _("Skipped: no valid MX target."))
        )

    resolved: dict[str, list[str]] = {}
    none: list[str] = [ex for _, ex in targets if problems[ex]]
    unknown: list[tuple[str, str]] = []
    for ex, (a_l, aaaa_l) in by_target.items():
        found = found_addresses(a_l, aaaa_l)
        if found:
            resolved[ex] = found
        if not a_l.concluded or not aaaa_l.concluded:
            if not found:
                unknown.append((ex, a_l.reason or aaaa_l.reason))
        elif not found:
            none.append(ex)
    none = sorted(set(none))
    if unknown or unchecked:
        parts = (
            [
                _("Address lookup undetermined for {targets}").format(
                    targets=listed([f"{ex}: {why}" for ex, why in unknown], "; ")
                )
            ]
            if unknown
            else []
        )
        if unchecked:
            parts.append(
                _(
                    "Only the {n} most preferred of {total} MX targets were looked up; "
                    "{targets} were not checked."
                ).format(n=MAX_TARGETS, total=len(ordered), targets=listed(unchecked))
            )
        results.append(make_result("mx-target-resolves", Status.ERROR, " ".join(parts)))
    elif not none:
        results.append(
            make_result("mx-target-resolves", Status.PASS, _("Every MX target has an address."))
        )
    elif not resolved:
        results.append(
            make_result(
                "mx-target-resolves",
                Status.FAIL,
                _("No MX target has an address: {targets}.").format(targets=listed(none))
                + hint_text,
            )
        )
    else:
        results.append(
            make_result(
                "mx-target-resolves",
                Status.WARN,
                _("Some MX targets have no address: {targets}.").format(targets=listed(none))
                + hint_text,
            )
        )

    addresses = [address for found in resolved.values() for address in found]
    private = sorted({address for address in addresses if not is_public(address)})
    if not addresses:
        results.append(
            make_result("mx-target-public", Status.SKIP, _("Skipped: no MX address found."))
        )
    elif not private:
        results.append(
            make_result("mx-target-public", Status.PASS, _("Every MX address is public."))
        )
    elif len(private) < len(set(addresses)):
        results.append(
            make_result(
                "mx-target-public",
                Status.WARN,
                _("Some MX addresses are private, loopback or reserved: {addresses}.").format(
                    addresses=listed(private)
                ),
            )
        )
    else:
        results.append(
            make_result(
                "mx-target-public",
                Status.FAIL,
                _(
                    "Every MX address is private, loopback or reserved, so the internet cannot "
                    "reach them: {addresses}."
                ).format(addresses=listed(private)),
            )
        )
    hosts = [MxHost(pref, ex, tuple(resolved.get(ex, ()))) for pref, ex in targets]
    return results, hosts
