"""SPF (RFC 7208): the record's grammar, and the check that walks its includes.

The grammar is kept small (``parse_spf``, pure, no DNS): enough to tell a valid record
from a broken one and to find the terms that cost DNS lookups. The check
(``check_spf``) starts from the domain's TXT answer of round 1 and follows include:
and redirect= level by level, each level's TXT lookups at once, counting towards the
limits of §4.6.4: at most 10 lookups and 2 void lookups, else a permerror.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from diagnose.checks.mail.report import make_result
from diagnose.checks.results import CheckResult, Status

if TYPE_CHECKING:
    from dns.asyncresolver import Resolver

    from diagnose.checks.dnsquery import Budget, Lookup

#: RFC 7208 §4.6.4: these terms each cost one DNS lookup; at most 10 in all.
LOOKUP_TERMS = frozenset({"include", "a", "mx", "ptr", "exists", "redirect"})
MAX_LOOKUPS = 10
#: RFC 7208 §4.6.4: more than 2 "void" lookups (NXDOMAIN or no answer) is a permerror.
MAX_VOID = 2

_MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
_MODIFIER = re.compile(r"^([a-z][a-z0-9_.-]*)=(.*)$", re.IGNORECASE)
_MECHANISM = re.compile(r"^([+?~-]?)([a-z0-9]+)(?::([^/]*))?((?:/\d+)?(?://\d+)?)$", re.IGNORECASE)
# domain-spec (RFC 7208 §7.1): macros or LDH-ish labels; checked loosely on purpose.
_DOMAIN_SPEC = re.compile(r"^[A-Za-z0-9_.%{}+=/-]+$")


def is_spf(text: str) -> bool:
    """RFC 7208 §4.5: the record starts with ``v=spf1`` followed by a space or the end."""
    lowered = text.lower()
    return lowered.startswith("v=spf1") and (len(lowered) == 6 or lowered[6] == " ")


@dataclass
class SpfRecord:
    """A parsed SPF record: its lookup-costing targets and its ``all`` qualifier."""

    text: str
    error: str | None = None
    #: number of terms that cost a DNS lookup (RFC 7208 §4.6.4)
    lookups: int = 0
    #: domains named by include: mechanisms (without macros), in order
    includes: list[str] = field(default_factory=list)
    redirect: str | None = None
    #: the qualifier of the ``all`` mechanism (``+``, ``-``, ``~``, ``?``) or None
    all_qualifier: str | None = None


def parse_spf(text: str) -> SpfRecord:
    """Parse one SPF record; ``error`` is a sentence when its syntax is invalid."""
    record = SpfRecord(text)
    terms = text.split()[1:]  # the first term is the version, checked by is_spf()
    seen_modifiers: set[str] = set()
    for term in terms:
        modifier = _MODIFIER.match(term)
        if modifier and modifier.group(1).lower() not in _MECHANISMS:
            name, value = modifier.group(1).lower(), modifier.group(2)
            if name in ("redirect", "exp"):
                # RFC 7208 §6: each may appear at most once.
                if name in seen_modifiers:
                    record.error = f"The modifier '{name}=' appears more than once."
                    return record
                if not value or not _DOMAIN_SPEC.match(value):
                    record.error = f"The term '{term}' does not name a domain."
                    return record
                if name == "redirect":
                    record.redirect = value.lower().rstrip(".")
                    record.lookups += 1
            seen_modifiers.add(name)
            continue
        mechanism = _MECHANISM.match(term)
        if mechanism is None or mechanism.group(2).lower() not in _MECHANISMS:
            record.error = f"The term '{term}' is not a valid SPF mechanism or modifier."
            return record
        qualifier, name, value, cidr = mechanism.groups()
        name = name.lower()
        problem = _mechanism_problem(name, value, cidr)
        if problem:
            record.error = f"The term '{term}' is invalid: {problem}"
            return record
        if name in LOOKUP_TERMS:
            record.lookups += 1
        if name == "include" and value and "%" not in value:
            record.includes.append(value.lower().rstrip("."))
        if name == "all" and record.all_qualifier is None:
            record.all_qualifier = qualifier or "+"
    return record


def _mechanism_problem(name: str, value: str | None, cidr: str) -> str | None:
    if name == "all":
        return "'all' takes no argument." if value is not None or cidr else None
    if name in ("include", "exists"):
        if not value or cidr:
            return f"'{name}' needs a domain and takes no prefix length."
        return None if _DOMAIN_SPEC.match(value) else "the domain is malformed."
    if name in ("ip4", "ip6"):
        if not value:
            return f"'{name}' needs an address."
        try:
            network = ipaddress.ip_network(value + (cidr or ""), strict=False)
        except ValueError:
            return f"'{value}{cidr}' is not an IPv{name[-1]} address or network."
        if network.version != int(name[-1]):
            return f"'{value}' is not an IPv{name[-1]} address."
        return None
    # a, mx, ptr: optional domain, optional prefix lengths
    if value is not None and (not value or not _DOMAIN_SPEC.match(value)):
        return "the domain is malformed."
    return None


async def check_spf(
    resolver: Resolver, name: str, txt_future: Awaitable[Lookup], budget: Budget
) -> CheckResult:
    """RFC 7208: one record, valid syntax, at most 10 lookups and 2 void lookups."""
    from diagnose.checks import dnsquery

    txt_l = await txt_future
    Outcome = dnsquery.Outcome
    if not txt_l.concluded:
        return make_result("spf", Status.ERROR, f"The TXT lookup for {name} failed: {txt_l.reason}")
    found = [text for text in dnsquery.txt_strings(txt_l.records) if is_spf(text)]
    if not found:
        return make_result("spf", Status.WARN, f"{name} has no SPF record: anyone may send as it.")
    if len(found) > 1:
        return make_result(
            "spf",
            Status.FAIL,
            f"{name} has {len(found)} SPF records; RFC 7208 §4.5 allows one (permerror).",
            records=found,
        )
    top = parse_spf(found[0])
    if top.error:
        return make_result(
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
                return make_result(
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
                return make_result(
                    "spf",
                    Status.FAIL,
                    f"The SPF record of {target} (used by {name}) is invalid: {parsed.error}",
                    record=top.text,
                )
            records[target] = parsed
            lookups += parsed.lookups
            level.append(target)
        if void > MAX_VOID:
            return make_result(
                "spf",
                Status.FAIL,
                f"The SPF record of {name} causes {void} void lookups; RFC 7208 §4.6.4 allows "
                f"{MAX_VOID} (permerror).",
                record=top.text,
            )
        if missing:
            return make_result(
                "spf",
                Status.FAIL,
                f"The SPF record of {name} refers to domains without exactly one SPF record "
                f"(permerror): {', '.join(missing)}.",
                record=top.text,
            )
    details = {"record": top.text, "lookups": lookups}
    if lookups > MAX_LOOKUPS:
        return make_result(
            "spf",
            Status.FAIL,
            f"The SPF record of {name} needs {lookups} DNS lookups; RFC 7208 §4.6.4 allows "
            f"{MAX_LOOKUPS} (permerror).",
            **details,
        )
    if void > MAX_VOID:
        return make_result(
            "spf",
            Status.FAIL,
            f"The SPF record of {name} causes {void} void lookups; RFC 7208 §4.6.4 allows "
            f"{MAX_VOID} (permerror).",
            **details,
        )
    qualifier = _effective_all(records, name)
    if qualifier == "+":
        return make_result(
            "spf",
            Status.FAIL,
            f"The SPF record of {name} ends in +all: anyone may send as it.",
            **details,
        )
    if qualifier is None:
        return make_result(
            "spf",
            Status.WARN,
            f"The SPF record of {name} has no 'all' term, so it does not reject other senders.",
            **details,
        )
    if qualifier == "?":
        return make_result(
            "spf",
            Status.WARN,
            f"The SPF record of {name} ends in ?all, which protects nothing.",
            **details,
        )
    return make_result(
        "spf", Status.PASS, f"{name} has one valid SPF record ending in {qualifier}all.", **details
    )


def _effective_all(records: dict[str, SpfRecord], domain: str) -> str | None:
    seen: set[str] = set()
    while domain in records and domain not in seen:
        seen.add(domain)
        record = records[domain]
        if record.all_qualifier is not None or not record.redirect:
            return record.all_qualifier
        domain = record.redirect
    return None
