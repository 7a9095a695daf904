"""DMARC (RFC 7489): the record's grammar, and the check of the domain's policy.

One TXT record at ``_dmarc.<domain>`` (asked in round 1, §6.6.3), beginning with
``v=DMARC1`` (§6.4); ``p=quarantine`` or ``p=reject`` protects the domain's name,
``p=none`` only monitors. The parsing (``parse_dmarc``) is pure, no DNS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from diagnose.checks.mail.report import make_result
from diagnose.checks.results import CheckResult, Status

if TYPE_CHECKING:
    from diagnose.checks.dnsquery import Lookup


@dataclass(frozen=True)
class DmarcRecord:
    """A parsed DMARC record: its tags, and its policy (p=) unless ``error`` says why
    the record is invalid."""

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


def check_dmarc(name: str, dmarc_l: Lookup) -> CheckResult:
    """RFC 7489 §6.6.3: one record at _dmarc.<domain>; p=quarantine or reject protects."""
    from diagnose.checks import dnsquery

    where = f"_dmarc.{name}"
    if not dmarc_l.concluded:
        return make_result(
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
        return make_result(
            "dmarc", Status.WARN, f"{name} has no DMARC record at {where}.{fallback}"
        )
    if len(texts) > 1:
        return make_result(
            "dmarc",
            Status.FAIL,
            f"{where} has {len(texts)} DMARC records, so none applies (RFC 7489 §6.6.3).",
            records=texts,
        )
    record = parse_dmarc(texts[0])
    if record.error:
        return make_result(
            "dmarc",
            Status.FAIL,
            f"The DMARC record at {where} is invalid: {record.error}",
            record=record.text,
        )
    if record.policy == "none":
        return make_result(
            "dmarc",
            Status.WARN,
            f"The DMARC policy of {name} is p=none: it only monitors.",
            record=record.text,
            policy="none",
        )
    return make_result(
        "dmarc",
        Status.PASS,
        f"{name} has a DMARC record with p={record.policy}.",
        record=record.text,
        policy=record.policy,
    )
