"""SPF (RFC 7208) and DMARC (RFC 7489) record parsing: pure functions, no DNS.

The lookups (and the include/redirect walk) live in ``diagnose.checks.mail``; here are
the record grammars, kept small: enough to tell a valid record from a broken one and to
find the terms that cost DNS lookups.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class DmarcRecord:
    text: str
    error: str | None
    policy: str | None
    tags: dict[str, str]


def is_dmarc(text: str) -> bool:
    """RFC 7489 §6.4: the record begins with the tag ``v=DMARC1``."""
    return re.match(r"^v\s*=\s*DMARC1\s*(;|$)", text, re.IGNORECASE) is not None


def parse_dmarc(text: str) -> DmarcRecord:
    """Parse one DMARC record; ``error`` is a sentence when it is invalid."""
    tags: dict[str, str] = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            return DmarcRecord(text, f"The part '{part}' is not a tag=value pair.", None, tags)
        key, value = (piece.strip() for piece in part.split("=", 1))
        key = key.lower()
        if key in tags:
            return DmarcRecord(text, f"The tag '{key}' appears more than once.", None, tags)
        tags[key] = value
    policy = tags.get("p", "").lower()
    if "p" not in tags:
        return DmarcRecord(text, "The record has no p= (policy) tag.", None, tags)
    if policy not in ("none", "quarantine", "reject"):
        return DmarcRecord(
            text, f"The policy p={tags['p']} is not none, quarantine or reject.", None, tags
        )
    if "sp" in tags and tags["sp"].lower() not in ("none", "quarantine", "reject"):
        return DmarcRecord(
            text, f"The subdomain policy sp={tags['sp']} is not valid.", policy, tags
        )
    if "pct" in tags and not (tags["pct"].isdigit() and 0 <= int(tags["pct"]) <= 100):
        return DmarcRecord(text, f"pct={tags['pct']} is not a number from 0 to 100.", policy, tags)
    for key in ("adkim", "aspf"):
        if key in tags and tags[key].lower() not in ("r", "s"):
            return DmarcRecord(text, f"{key}={tags[key]} is not r or s.", policy, tags)
    return DmarcRecord(text, None, policy, tags)
