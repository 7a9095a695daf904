"""DMARC (RFC 9989, "DMARCbis", which replaced RFC 7489 and RFC 9091 in May 2026).

The record's grammar (``parse_dmarc``, pure, no DNS) and the check of the domain's
policy (``check_dmarc``). One TXT record at ``_dmarc.<domain>`` (asked in round 1),
beginning with ``v=DMARC1`` (RFC 9989 §4.7); several records mean none applies
(§4.10 step 2). ``p=quarantine`` or ``p=reject`` protects the domain's name,
``p=none`` only monitors.

When the domain has no record of its own, the policy that applies is found by the DNS
tree walk of RFC 9989 §4.10, which replaced RFC 7489's public suffix list: the
``_dmarc`` records of the parent names, at most 8 queries in all (the first one
included), a name of more than 8 labels being shortened to 7 before the walk. The
walk also gives the organizational domain (§4.10.2): the first record with ``psd=n``,
or the name one label below a record with ``psd=y`` (a public suffix domain), or
else the record with the fewest labels. The parents' lookups are independent of each
other, so they are sent at once (one round trip, overlapping round 2 of the MX
targets); which answers count is decided afterwards, in the walk's order.

RFC 9989 tags understood here: ``p``, ``sp``, ``np`` (policy for non-existent
subdomains), ``psd`` (y, n, u), ``t`` (testing: receivers apply one level less),
``adkim``, ``aspf``, ``rua``, ``ruf``, ``fo``. ``pct``, ``rf`` and ``ri`` were removed
(RFC 9989 Appendix A; ``t`` replaces ``pct``): a record that still has them is
reported with a warning naming them, never as invalid. Reports (``rua``, ``ruf``)
are RFC 9990 and RFC 9991; their URIs are not checked here.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from diagnose.checks.mail.report import make_result
from diagnose.checks.results import CheckResult, Status
from diagnose.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from dns.asyncresolver import Resolver

    from diagnose.checks.dnsquery import Budget, Lookup

POLICIES = ("none", "quarantine", "reject")
#: Tags RFC 9989 removed (Appendix A): receivers ignore them.
OBSOLETE_TAGS = ("pct", "rf", "ri")
#: RFC 9989 §4.10: a whole walk costs at most this many queries, the first included.
MAX_WALK_QUERIES = 8
#: t=y asks receivers to apply one level less than the policy (RFC 9989 §4.7).
_TESTING = {"reject": "quarantine", "quarantine": "none", "none": "none"}


@dataclass(frozen=True)
class DmarcRecord:
    """A parsed DMARC record: its tags, and its policy (p=) unless ``error`` says why
    the record is invalid."""

    text: str
    error: str | None
    policy: str | None
    tags: dict[str, str]

    @property
    def obsolete(self) -> list[str]:
        """The tags of RFC 7489 that RFC 9989 removed, in the record's order."""
        return [key for key in self.tags if key in OBSOLETE_TAGS]

    @property
    def psd(self) -> str:
        """``y`` (a public suffix domain), ``n`` (an organizational domain) or ``u``."""
        return self.tags.get("psd", "u").lower()

    @property
    def testing(self) -> bool:
        return self.tags.get("t", "n").lower() == "y"


def is_dmarc(text: str) -> bool:
    """RFC 9989 §4.7: the record begins with the tag ``v=DMARC1``."""
    return re.match(r"^v\s*=\s*DMARC1\s*(;|$)", text, re.IGNORECASE) is not None


def parse_dmarc(text: str) -> DmarcRecord:
    """Parse one DMARC record; ``error`` is a sentence when it is invalid."""
    tags: dict[str, str] = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            return DmarcRecord(
                text, _("The part '{part}' is not a tag=value pair.").format(part=part), None, tags
            )
        key, value = (piece.strip() for piece in part.split("=", 1))
        key = key.lower()
        if key in tags:
            return DmarcRecord(
                text, _("The tag '{key}' appears more than once.").format(key=key), None, tags
            )
        tags[key] = value
    # RFC 9989 §4.7: p is RECOMMENDED, no longer required; a record without it is
    # treated as p=none (RFC 7489 §6.6.3 did so too, when the record asked for reports).
    policy = tags.get("p", "none").lower()
    if policy not in POLICIES:
        return DmarcRecord(
            text,
            _("The policy p={value} is not none, quarantine or reject.").format(value=tags["p"]),
            None,
            tags,
        )
    # RFC 9989 §4.7: sp and np take the values of p; psd is y, n or u; t is y or n.
    # (The sentences are marked whole here and translated when one is needed.)
    checks = (
        ("sp", POLICIES, N_("The subdomain policy sp={value} is not valid.")),
        ("np", POLICIES, N_("The non-existent subdomain policy np={value} is not valid.")),
        ("psd", ("y", "n", "u"), N_("psd={value} is not y, n or u.")),
        ("t", ("y", "n"), N_("t={value} is not y or n.")),
        ("adkim", ("r", "s"), N_("adkim={value} is not r or s.")),
        ("aspf", ("r", "s"), N_("aspf={value} is not r or s.")),
    )
    for key, allowed, sentence in checks:
        if key in tags and tags[key].lower() not in allowed:
            return DmarcRecord(text, _(sentence).format(value=tags[key]), policy, tags)
    return DmarcRecord(text, None, policy, tags)


def walk_targets(name: str) -> list[str]:
    """The parent names the tree walk asks about, in order (RFC 9989 §4.10, §4.10.1).

    A name of more than 8 labels is first shortened to 7; then one label at a time is
    removed, down to the top-level domain. With the query for ``name`` itself, at most
    ``MAX_WALK_QUERIES`` in all.
    """
    labels = name.split(".")
    first = len(labels) - (MAX_WALK_QUERIES - 1) if len(labels) > MAX_WALK_QUERIES else 1
    labels = labels[first:]
    return [".".join(labels[i:]) for i in range(len(labels))]


@dataclass(frozen=True)
class Walk:
    """What the tree walk found: the organizational domain, and where the policy that
    applies is published (empty when no record applies); ``error`` when a lookup the
    walk depends on was undetermined."""

    organizational_domain: str
    policy_domain: str = ""
    record: DmarcRecord | None = None
    error: str = ""


def judge_walk(name: str, found: list[tuple[str, Lookup]]) -> Walk:
    """RFC 9989 §4.10: read the parents' answers in the walk's order, stopping at a
    record with psd=y or psd=n; then §4.10.2 (organizational domain) and §4.10.1
    (which record applies to ``name``, which has none of its own)."""
    from diagnose.checks import dnsquery

    records: list[tuple[str, DmarcRecord]] = []
    for target, lookup in found:
        if not lookup.concluded:
            return Walk(
                name,
                error=_("The TXT lookup for {where} failed: {reason}").format(
                    where=f"_dmarc.{target}", reason=lookup.reason
                ),
            )
        texts = [t for t in dnsquery.txt_strings(lookup.records) if is_dmarc(t)]
        if len(texts) != 1:
            continue  # none, or several (all discarded, step 6)
        record = parse_dmarc(texts[0])
        records.append((target, record))
        if record.psd in ("y", "n"):
            break
    if not records:
        return Walk(name)
    organizational = records[-1][0]  # rule 3: the record with the fewest labels
    for target, record in records:
        if record.psd == "n":  # rule 1
            organizational = target
            break
        if record.psd == "y":  # rule 2: one label below the public suffix domain
            organizational = ".".join(name.split(".")[-(target.count(".") + 2) :])
            break
    by_name = dict(records)
    if organizational in by_name:
        return Walk(organizational, organizational, by_name[organizational])
    psd = next(((t, r) for t, r in records if r.psd == "y"), None)
    if psd is not None:  # the public suffix domain's record (§4.10.1, last choice)
        return Walk(organizational, psd[0], psd[1])
    return Walk(organizational)


async def check_dmarc(
    resolver: Resolver, name: str, dmarc_t: asyncio.Future[Lookup], budget: Budget
) -> CheckResult:
    """The dmarc check: the domain's own record (round 1), else the tree walk."""
    from diagnose.checks import dnsquery

    dmarc_l = await dmarc_t
    where = f"_dmarc.{name}"
    if not dmarc_l.concluded:
        return make_result(
            "dmarc",
            Status.ERROR,
            _("The TXT lookup for {where} failed: {reason}").format(
                where=where, reason=dmarc_l.reason
            ),
        )
    texts = [t for t in dnsquery.txt_strings(dmarc_l.records) if is_dmarc(t)]
    if len(texts) > 1:
        return make_result(
            "dmarc",
            Status.FAIL,
            ngettext(
                "{where} has {n} DMARC record, so none applies (RFC 9989 §4.10).",
                "{where} has {n} DMARC records, so none applies (RFC 9989 §4.10).",
                len(texts),
            ).format(where=where, n=len(texts)),
            records=texts,
        )
    if texts:
        return _judge_record(name, name, parse_dmarc(texts[0]))
    targets = walk_targets(name)
    lookups = await asyncio.gather(
        *(dnsquery.lookup(resolver, f"_dmarc.{target}", "TXT", budget) for target in targets)
    )
    walk = judge_walk(name, list(zip(targets, lookups, strict=True)))
    if walk.error:
        return make_result(
            "dmarc",
            Status.ERROR,
            _(
                "{name} has no DMARC record at {where}, and the DNS tree walk for the one that "
                "applies could not be completed: {error}"
            ).format(name=name, where=where, error=_lower_first(walk.error)),
        )
    if walk.record is None:
        return make_result(
            "dmarc",
            Status.WARN,
            _(
                "{name} has no DMARC record at {where}, and no parent domain publishes one that "
                "applies (DNS tree walk, RFC 9989 §4.10)."
            ).format(name=name, where=where),
            organizational_domain=walk.organizational_domain,
        )
    return _judge_record(name, walk.policy_domain, walk.record, walk.organizational_domain)


def _judge_record(
    name: str, source: str, record: DmarcRecord, organizational: str | None = None
) -> CheckResult:
    """The status of the record published at ``_dmarc.<source>`` as it applies to
    ``name`` (its own, or a parent's found by the tree walk)."""
    where = f"_dmarc.{source}"
    inherited = source != name
    extra: dict[str, object] = {"record": record.text}
    if inherited:
        extra["policy_domain"] = source
    if organizational is not None:
        extra["organizational_domain"] = organizational
    if record.error:
        invalid = (
            _("The DMARC record at {where}, which applies to {name}, is invalid: {error}")
            if inherited
            else _("The DMARC record at {where} is invalid: {error}")
        )
        return make_result(
            "dmarc",
            Status.FAIL,
            invalid.format(where=where, name=name, error=record.error),
            **extra,
        )
    assert record.policy is not None
    # RFC 9989 §4.10.1: a parent's record applies to an existing subdomain with its sp
    # (np only to names that do not exist), else with its p.
    tag = "sp" if inherited and "sp" in record.tags else "p"
    policy = record.tags[tag].lower() if tag == "sp" else record.policy
    applied = _TESTING[policy] if record.testing else policy
    extra["policy"] = policy
    # Only a policy of none "only monitors"; t=y on quarantine also leaves none applied,
    # but that is said by the test-mode note instead.
    monitors = policy == "none"
    if inherited:
        kind = (
            _("a public suffix domain, psd=y")
            if record.psd == "y"
            else _("its organizational domain")
            if source == organizational
            else _("a parent domain")
        )
        said = (
            _(
                "{name} has no DMARC record of its own; the record at {where} ({kind}, found "
                "by the DNS tree walk of RFC 9989 §4.10) applies with {tag}={policy}: it only "
                "monitors."
            )
            if monitors
            else _(
                "{name} has no DMARC record of its own; the record at {where} ({kind}, found "
                "by the DNS tree walk of RFC 9989 §4.10) applies with {tag}={policy}."
            )
        ).format(name=name, where=where, kind=kind, tag=tag, policy=policy)
    elif monitors:
        # the wording before RFC 9989
        said = _("The DMARC policy of {name} is p=none: it only monitors.").format(name=name)
    else:
        said = _("{name} has a DMARC record with p={policy}.").format(name=name, policy=policy)
    notes: list[str] = []
    if "p" not in record.tags:
        notes.append(
            _("The record has no p= tag, so receivers treat it as p=none (RFC 9989 §4.7).")
        )
    if record.testing and policy != "none":
        notes.append(
            _("It is in test mode (t=y): receivers apply {applied} instead.").format(
                applied=applied
            )
        )
    if record.obsolete:
        count = len(record.obsolete)
        obsolete = (
            ngettext(
                "The record still has {listed}, which RFC 9989 removed; receivers ignore it "
                "(use t=y to test a policy).",
                "The record still has {listed}, which RFC 9989 removed; receivers ignore them "
                "(use t=y to test a policy).",
                count,
            )
            if "pct" in record.obsolete
            else ngettext(
                "The record still has {listed}, which RFC 9989 removed; receivers ignore it.",
                "The record still has {listed}, which RFC 9989 removed; receivers ignore them.",
                count,
            )
        )
        notes.append(obsolete.format(listed=", ".join(record.obsolete)))
        extra["obsolete"] = record.obsolete
    status = Status.WARN if applied == "none" or record.obsolete else Status.PASS
    return make_result("dmarc", status, " ".join([said, *notes]), **extra)


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:] if len(text) > 1 and text[1].islower() else text
