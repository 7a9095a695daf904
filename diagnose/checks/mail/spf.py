"""SPF (RFC 7208): the whole grammar of a record, and a check that walks it as a receiver.

``parse_spf`` (pure, no DNS) implements the ABNF of RFC 7208 §12 term by term: the
mechanisms of §5 with their domain-specs and CIDR lengths, the modifiers of §6, the
macro syntax of §7.1, and the rule that only spaces separate terms (§4.6.1). It never
raises: every input gives a record, valid or carrying ``error`` (a sentence).

``check_spf`` then evaluates the record the way a receiver does for a sender that no
mechanism matches (the path that reaches every term): terms in order up to the first
``all``, ``include:`` records evaluated in place, ``redirect=`` last (§6.1). Every term
that causes a DNS lookup is counted each time it is reached, also when one domain is
reached through two paths, and more than 10 is a permerror (§4.6.4); every mechanism's
lookup that finds nothing (NXDOMAIN or no records) is a void lookup, and more than 2
is a permerror (§4.6.4); an ``mx`` mechanism naming more than 10 hosts is a permerror
(§4.6.4); an include or redirect that comes back to a record on its own path is a
loop, a permerror. A lookup that could not be completed is a temperror (§2.6.6):
status error, never "no record". Targets written with macros cannot be expanded
without a message to check; they are counted but not looked up.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from diagnose.checks.mail.report import make_result
from diagnose.checks.results import CheckResult, Status
from diagnose.i18n import _, ngettext

if TYPE_CHECKING:
    from dns.asyncresolver import Resolver

    from diagnose.checks.dnsquery import Budget, Lookup

#: RFC 7208 §4.6.4: these terms each cost one DNS lookup; at most 10 in all.
LOOKUP_TERMS = frozenset({"include", "a", "mx", "ptr", "exists", "redirect"})
MAX_LOOKUPS = 10
#: RFC 7208 §4.6.4: more than 2 "void" lookups (NXDOMAIN or no answer) is a permerror.
MAX_VOID = 2
#: RFC 7208 §4.6.4: an "mx" mechanism may name at most 10 hosts.
MAX_MX_NAMES = 10

MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})

# RFC 7208 §12 (ABNF). name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)=(.*)", re.DOTALL)
# directive = [ qualifier ] mechanism; the mechanism's name, then its arguments
_DIRECTIVE = re.compile(r"([+?~-]?)([A-Za-z0-9]+)(.*)", re.DOTALL)
# toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
_TOPLABEL = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9]")
# macro-expand = "%{" macro-letter transformers *delimiter "}"; transformers = *DIGIT ["r"]
_MACRO_BODY = re.compile(r"([A-Za-z])([0-9]*)([rR]?)([.+,/_=-]*)")
_MACRO_LETTERS = frozenset("slodiphcrtv")
#: RFC 7208 §7.2: c, r and t are for explanation text only, never in a domain-spec.
_EXPLANATION_ONLY = frozenset("crt")
# dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ], at the end of a / mx
_DUAL_CIDR = re.compile(r"(?:/([0-9]+))?(?://([0-9]+))?\Z")
# ip4-network = qnum "." qnum "." qnum "." qnum (no leading zeros)
_QNUM = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])"
_IP4 = re.compile(rf"{_QNUM}(?:\.{_QNUM}){{3}}")


def is_spf(text: str) -> bool:
    """RFC 7208 §4.5: the record starts with ``v=spf1`` followed by a space or the end."""
    lowered = text.lower()
    return lowered.startswith("v=spf1") and (len(lowered) == 6 or lowered[6] == " ")


@dataclass(frozen=True)
class Term:
    """One term of a record: a directive (qualifier and mechanism) or a modifier."""

    name: str  # lower case: "include", "ip4", "redirect", an unknown modifier's name
    qualifier: str = ""  # "+", "-", "~", "?" for a directive; "" for a modifier
    target: str | None = None  # a domain-spec, a network, or a modifier's value
    modifier: bool = False

    @property
    def has_macro(self) -> bool:
        return self.target is not None and "%" in self.target


@dataclass(frozen=True)
class SpfRecord:
    """A parsed SPF record. ``error`` is a sentence when its syntax is invalid (a
    permerror, RFC 7208 §4.6); ``terms`` then holds the terms before the bad one."""

    text: str
    terms: tuple[Term, ...] = ()
    error: str | None = None

    @property
    def evaluated(self) -> tuple[Term, ...]:
        """The directives a receiver reaches when nothing matches: all of them up to
        the first ``all`` (§5.1: later ones are never tested); then ``redirect``, which
        applies only when the record has no ``all`` (§6.1)."""
        reached: list[Term] = []
        for term in self.terms:
            if not term.modifier:
                reached.append(term)
                if term.name == "all":
                    return tuple(reached)
        redirect = self.modifier("redirect")
        return (*reached, redirect) if redirect is not None else tuple(reached)

    def modifier(self, name: str) -> Term | None:
        return next((t for t in self.terms if t.modifier and t.name == name), None)

    @property
    def lookups(self) -> int:
        """Terms of this record alone that cause a DNS lookup when reached (§4.6.4)."""
        return sum(1 for term in self.evaluated if term.name in LOOKUP_TERMS)

    @property
    def includes(self) -> list[str]:
        """Domains named by include: mechanisms (without macros), in order."""
        return [
            _domain(term.target)
            for term in self.terms
            if term.name == "include" and term.target and not term.has_macro
        ]

    @property
    def redirect(self) -> str | None:
        term = self.modifier("redirect")
        return _domain(term.target) if term and term.target else None

    @property
    def all_qualifier(self) -> str | None:
        """The qualifier of the first ``all`` (``+`` when none is written), or None."""
        return next((t.qualifier for t in self.terms if t.name == "all"), None)


def _domain(spec: str) -> str:
    return spec.lower().rstrip(".")


class _SyntaxProblem(Exception):
    """A term does not follow the grammar; the message is the reason, a sentence."""


def parse_spf(text: str) -> SpfRecord:
    """Parse one SPF record (``text`` starts with ``v=spf1``, see ``is_spf``).

    Never raises: an invalid record comes back with ``error`` set.
    """
    # RFC 7208 §4.6.1 and §12: terms = *( 1*SP ( directive / modifier ) ); only the
    # space (%x20) separates terms, so a tab, CR or LF inside a record is an error.
    for char in text:
        if char.isspace() and char != " ":
            return SpfRecord(
                text,
                error=_(
                    "The record holds the character {char}; only spaces may separate terms "
                    "(RFC 7208 §4.6.1)."
                ).format(char=repr(char)),
            )
    terms: list[Term] = []
    seen: set[str] = set()
    for word in text.split(" ")[1:]:  # the first word is the version (is_spf)
        if not word:
            continue
        try:
            term = _parse_term(word)
        except _SyntaxProblem as problem:
            return SpfRecord(
                text,
                tuple(terms),
                _("The term '{word}' is invalid: {problem}").format(word=word, problem=problem),
            )
        if term is None:
            return SpfRecord(
                text,
                tuple(terms),
                _("The term '{word}' is not a valid SPF mechanism or modifier.").format(word=word),
            )
        if term.modifier and term.name in ("redirect", "exp"):
            # RFC 7208 §6: each of these modifiers may appear at most once.
            if term.name in seen:
                return SpfRecord(
                    text,
                    tuple(terms),
                    _("The modifier '{name}=' appears more than once.").format(name=term.name),
                )
            seen.add(term.name)
        terms.append(term)
    return SpfRecord(text, tuple(terms))


def _parse_term(word: str) -> Term | None:
    """One term as a ``Term``; None when it is neither a directive nor a modifier."""
    modifier = _MODIFIER.fullmatch(word)
    if modifier:
        name, value = modifier.group(1).lower(), modifier.group(2)
        if name in ("redirect", "exp"):
            # §6.1 redirect = "redirect" "=" domain-spec; §6.2 explanation likewise
            _check_domain_spec(value)
        else:
            # §6: unknown-modifier = name "=" macro-string (ignored, but well-formed)
            _check_macro_string(value, explanation=True)
        return Term(name, target=value, modifier=True)
    directive = _DIRECTIVE.fullmatch(word)
    if directive is None:
        return None
    qualifier, name, rest = directive.group(1), directive.group(2).lower(), directive.group(3)
    if name not in MECHANISMS:
        return None
    qualifier = qualifier or "+"
    if name == "all":  # §5.1 all = "all"
        if rest:
            raise _SyntaxProblem(_("'all' takes no argument."))
        return Term(name, qualifier)
    if name in ("include", "exists"):  # §5.2, §5.7: name ":" domain-spec
        if not rest.startswith(":"):
            raise _SyntaxProblem(
                _("'{name}' needs a domain, as {name}:example.com.").format(name=name)
            )
        _check_domain_spec(rest[1:])
        return Term(name, qualifier, rest[1:])
    if name == "ptr":  # §5.5 ptr = "ptr" [ ":" domain-spec ]
        if rest and not rest.startswith(":"):
            raise _SyntaxProblem(_("'ptr' takes only a domain, as ptr:example.com."))
        if rest:
            _check_domain_spec(rest[1:])
        return Term(name, qualifier, rest[1:] or None)
    if name in ("a", "mx"):  # §5.3, §5.4: name [ ":" domain-spec ] [ dual-cidr-length ]
        cidr = _DUAL_CIDR.search(rest)
        assert cidr is not None  # the empty match at the end always matches
        spec = rest[: cidr.start()]
        if cidr.group(1) is not None:
            _check_prefix(cidr.group(1), 32)
        if cidr.group(2) is not None:
            _check_prefix(cidr.group(2), 128)
        if spec and not spec.startswith(":"):
            raise _SyntaxProblem(
                _("'{name}' takes a domain after ':' and prefix lengths as /24 or //64.").format(
                    name=name
                )
            )
        if spec:
            _check_domain_spec(spec[1:])
        return Term(name, qualifier, spec[1:] or None)
    # ip4 / ip6 (§5.6): name ":" network [ "/" prefix length ]
    if not rest.startswith(":") or len(rest) == 1:
        raise _SyntaxProblem(
            _("'{name}' needs an address, as {name}:{example}.").format(
                name=name, example=_EXAMPLE[name]
            )
        )
    network, slash, length = rest[1:].partition("/")
    if name == "ip4":
        if not _IP4.fullmatch(network):
            raise _SyntaxProblem(_("'{network}' is not an IPv4 address.").format(network=network))
        if slash:
            _check_prefix(length, 32)
    else:
        if not _is_ip6(network):
            raise _SyntaxProblem(_("'{network}' is not an IPv6 address.").format(network=network))
        if slash:
            _check_prefix(length, 128)
    return Term(name, qualifier, rest[1:])


_EXAMPLE = {"ip4": "192.0.2.0/24", "ip6": "2001:db8::/32"}


def _is_ip6(text: str) -> bool:
    # RFC 4291 §2.2 text forms; Python also takes a "%scope", which SPF does not.
    if not text or "%" in text:
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _check_prefix(digits: str, most: int) -> None:
    """§12: ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT), at most 32; ip6 likewise,
    at most 128: a number without leading zeros."""
    if not digits.isdigit() or (len(digits) > 1 and digits[0] == "0") or len(digits) > 3:
        raise _SyntaxProblem(
            _("the prefix length '/{digits}' is not a number from 0 to {most}.").format(
                digits=digits, most=most
            )
        )
    if int(digits) > most:
        raise _SyntaxProblem(
            _("the prefix length /{digits} is over {most}.").format(digits=digits, most=most)
        )


def _check_macro_string(text: str, explanation: bool = False) -> bool:
    """§7.1 macro-string = *( macro-expand / macro-literal ); True when it ends with a
    macro-expand (a domain-end of its own). Raises ``_SyntaxProblem`` when malformed."""
    index, ends_with_macro = 0, False
    while index < len(text):
        char = text[index]
        if char != "%":
            # macro-literal = %x21-24 / %x26-7E: visible ASCII but "%"
            if not "\x21" <= char <= "\x7e":
                raise _SyntaxProblem(
                    _("the character {char} is not allowed here.").format(char=repr(char))
                )
            index, ends_with_macro = index + 1, False
            continue
        after = text[index + 1 : index + 2]
        if after in ("%", "_", "-"):  # "%%", "%_", "%-"
            index, ends_with_macro = index + 2, True
            continue
        if after != "{":
            # .format() with nothing to fill turns the message's {{ }} into braces
            raise _SyntaxProblem(
                _(
                    "a '%' must start a macro: %{{letter}}, or %% for a percent sign "
                    "(RFC 7208 §7.1)."
                ).format()
            )
        close = text.find("}", index)
        if close < 0:
            raise _SyntaxProblem(_("a macro '%{{' has no closing '}}'.").format())
        body = text[index + 2 : close]
        macro = _MACRO_BODY.fullmatch(body)
        if macro is None or macro.group(1).lower() not in _MACRO_LETTERS:
            raise _SyntaxProblem(
                _(
                    "'%{{{body}}}' is not a macro; the letters are s, l, o, d, i, p, h, c, r, t "
                    "and v (RFC 7208 §7.1)."
                ).format(body=body)
            )
        if not explanation and macro.group(1).lower() in _EXPLANATION_ONLY:
            raise _SyntaxProblem(
                _(
                    "the macro '%{{{body}}}' is allowed only in explanation text (RFC 7208 §7.2)."
                ).format(body=body)
            )
        digits = macro.group(2)
        if digits and not digits.strip("0"):
            raise _SyntaxProblem(
                _(
                    "the macro '%{{{body}}}' keeps zero labels; the number must be nonzero "
                    "(RFC 7208 §7.3)."
                ).format(body=body)
            )
        index, ends_with_macro = close + 1, True
    return ends_with_macro


def _check_domain_spec(spec: str) -> None:
    """§7.1 domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] )
    / macro-expand. So a literal domain needs a dot and a top label that is not all
    digits (``a:foo-bar`` and ``a:abc.123`` are errors), while any visible characters
    may come before it (``foo:bar/baz.example.com`` is a legal target)."""
    if not spec:
        raise _SyntaxProblem(_("the domain is empty."))
    if _check_macro_string(spec):
        return
    body = spec[:-1] if spec.endswith(".") else spec
    head, dot, top = body.rpartition(".")
    if not dot:
        raise _SyntaxProblem(
            _("'{spec}' is not a domain with a top-level label (as example.com).").format(spec=spec)
        )
    if not _TOPLABEL.fullmatch(top):
        raise _SyntaxProblem(
            _(
                "'{top}' is not a valid top-level label (letters, digits and inner hyphens, "
                "not all digits)."
            ).format(top=top)
        )
    if "%" not in spec:
        # Without macros the domain is looked up as written: it must be a DNS name.
        labels = [*head.split("."), top]
        if any(not label for label in labels) or any(len(label) > 63 for label in labels):
            raise _SyntaxProblem(
                _("'{spec}' has an empty label or one over 63 characters.").format(spec=spec)
            )
        if len(body) > 253:
            raise _SyntaxProblem(
                _("'{spec}...' is longer than 253 characters.").format(spec=spec[:40])
            )


# -- the check ---------------------------------------------------------------------------


class _Stop(Exception):
    """Evaluation ends: a permerror (status fail) or a temperror (status error)."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Walk:
    """One evaluation: the counters of §4.6.4 and the lookups made so far (a domain
    reached twice is counted twice but asked once)."""

    def __init__(
        self,
        resolver: Resolver,
        budget: Budget,
        name: str,
        seeds: dict[tuple[str, str], Awaitable[Lookup]],
    ) -> None:
        self.resolver, self.budget, self.name = resolver, budget, name
        self.lookups = 0
        self.void = 0
        self.asked: dict[tuple[str, str], asyncio.Future[Lookup]] = {
            key: asyncio.ensure_future(value) for key, value in seeds.items()
        }
        self.seeded = set(self.asked)  # the caller's lookups: never cancelled here

    def ask(self, name: str, rdtype: str) -> asyncio.Future[Lookup]:
        from diagnose.checks import dnsquery

        key = (name, rdtype)
        if key not in self.asked:
            self.asked[key] = asyncio.ensure_future(
                dnsquery.lookup(self.resolver, name, rdtype, self.budget)
            )
        return self.asked[key]

    async def close(self) -> None:
        pending = [
            future
            for key, future in self.asked.items()
            if key not in self.seeded and not future.done()
        ]
        for future in pending:
            future.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _prefetch(self, domain: str, record: SpfRecord) -> None:
        # Everything the record will ask, at once (one round trip per include level).
        for term in record.evaluated:
            target = _domain(term.target) if term.target else domain
            if term.name not in LOOKUP_TERMS or term.has_macro:
                continue
            for rdtype in _RDTYPES.get(term.name, ()):
                self.ask(target, rdtype)

    def count(self, term: Term, domain: str) -> None:
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            raise _Stop(
                Status.FAIL,
                _(
                    "The SPF record of {name} needs more than {most} DNS lookups (the {term} "
                    "term in the record of {domain} is number {count}); RFC 7208 §4.6.4 allows "
                    "{most} (permerror)."
                ).format(
                    name=self.name,
                    most=MAX_LOOKUPS,
                    term=term.name,
                    domain=domain,
                    count=self.lookups,
                ),
            )

    def count_void(self, what: str) -> None:
        self.void += 1
        if self.void > MAX_VOID:
            raise _Stop(
                Status.FAIL,
                _(
                    "The SPF record of {name} causes more than {most} void lookups (the last: "
                    "{what} found nothing); RFC 7208 §4.6.4 allows {most} (permerror)."
                ).format(name=self.name, most=MAX_VOID, what=what),
            )

    def undetermined(self, what: str, lookup: Lookup) -> _Stop:
        return _Stop(
            Status.ERROR,
            _(
                "The SPF record of {name} could not be evaluated: the lookup of {what} failed "
                "(temperror): {reason}"
            ).format(name=self.name, what=what, reason=lookup.reason),
        )

    async def record_of(self, target: str, how: str, parent: str) -> SpfRecord:
        """The one SPF record of an include or redirect target (§5.2, §6.1)."""
        from diagnose.checks import dnsquery

        answer = await self.ask(target, "TXT")
        # "example.net (include of example.com)": the target, and where it is named
        reached = _("{target} ({how} of {parent})").format(target=target, how=how, parent=parent)
        if not answer.concluded:
            raise self.undetermined(reached, answer)
        texts = (
            [t for t in dnsquery.txt_strings(answer.records) if is_spf(t)]
            if answer.outcome is dnsquery.Outcome.OK
            else []
        )
        if answer.outcome is not dnsquery.Outcome.OK:
            self.count_void(f"{how}:{target}")
        # §5.2 / §6.1: a target without exactly one SPF record is a permerror.
        if not texts:
            raise _Stop(
                Status.FAIL,
                _(
                    "The SPF record of {name} refers to a domain without exactly one SPF record "
                    "(permerror): {reached} has no SPF record."
                ).format(name=self.name, reached=reached),
            )
        if len(texts) > 1:
            raise _Stop(
                Status.FAIL,
                ngettext(
                    "The SPF record of {name} refers to a domain without exactly one SPF record "
                    "(permerror): {reached} has {n} SPF record.",
                    "The SPF record of {name} refers to a domain without exactly one SPF record "
                    "(permerror): {reached} has {n} SPF records.",
                    len(texts),
                ).format(name=self.name, reached=reached, n=len(texts)),
            )
        record = parse_spf(texts[0])
        if record.error:
            raise _Stop(
                Status.FAIL,
                _("The SPF record of {target} (used by {name}) is invalid: {error}").format(
                    target=target, name=self.name, error=record.error
                ),
            )
        return record

    async def evaluate(self, domain: str, record: SpfRecord, path: tuple[str, ...]) -> str | None:
        """Walk ``record`` (of ``domain``) as a receiver for which nothing matches;
        the result is the effective ``all`` qualifier (through redirect), or None."""
        from diagnose.checks import dnsquery

        self._prefetch(domain, record)
        Outcome = dnsquery.Outcome
        for term in record.evaluated:
            if term.name == "all":
                return term.qualifier
            if term.name not in LOOKUP_TERMS:
                continue  # ip4, ip6: no DNS
            self.count(term, domain)
            if term.has_macro or term.name == "ptr":
                # A macro needs the message being checked, and ptr the sender's address
                # (§5.5, which also says not to use it): counted, not looked up.
                continue
            target = _domain(term.target) if term.target else domain
            if term.name in ("include", "redirect"):
                if target in path:
                    loop = " -> ".join((*path, target))
                    raise _Stop(
                        Status.FAIL,
                        _(
                            "The SPF record of {name} loops through include or redirect "
                            "(permerror): {loop}."
                        ).format(name=self.name, loop=loop),
                    )
                how = "include" if term.name == "include" else "redirect"
                child = await self.record_of(target, how, domain)
                result = await self.evaluate(target, child, (*path, target))
                if term.name == "redirect":
                    return result  # §6.1: the redirect's result is the record's result
                if result == "+":
                    # §5.2: an include matches when the included record passes; one
                    # that passes everyone ("+all") lets anyone send as this domain.
                    return "+"
                continue
            lookups = [await self.ask(target, rdtype) for rdtype in _RDTYPES[term.name]]
            for item in lookups:
                if not item.concluded:
                    raise self.undetermined(
                        _("{target} ({mechanism} in {domain})").format(
                            target=target, mechanism=term.name, domain=domain
                        ),
                        item,
                    )
            if all(item.outcome is not Outcome.OK for item in lookups):
                self.count_void(f"{term.name}:{target}")
            if term.name == "mx" and lookups[0].outcome is Outcome.OK:
                names = {ex for _, ex in dnsquery.mx_records(lookups[0].records)}
                if len(names) > MAX_MX_NAMES:
                    raise _Stop(
                        Status.FAIL,
                        ngettext(
                            "The mx mechanism of {domain} names {n} host; RFC 7208 §4.6.4 "
                            "allows {most} (permerror).",
                            "The mx mechanism of {domain} names {n} hosts; RFC 7208 §4.6.4 "
                            "allows {most} (permerror).",
                            len(names),
                        ).format(domain=domain, n=len(names), most=MAX_MX_NAMES),
                    )
        return None


#: What each mechanism asks (§5): a and exists the addresses, mx the MX records,
#: include and redirect the TXT record. ("a" asks both A and AAAA, and only when both
#: find nothing is it one void lookup: a receiver asks the one of the sender's family.)
_RDTYPES: dict[str, tuple[str, ...]] = {
    "a": ("A", "AAAA"),
    "mx": ("MX",),
    "exists": ("A",),  # §5.7: always A, whatever the sender's family
    "include": ("TXT",),
    "redirect": ("TXT",),
}


async def check_spf(
    resolver: Resolver,
    name: str,
    txt_future: Awaitable[Lookup],
    budget: Budget,
    mx_future: Awaitable[Lookup] | None = None,
) -> CheckResult:
    """RFC 7208: one valid record, evaluated within the limits of §4.6.4.

    ``mx_future`` is round 1's MX lookup of ``name``, reused by an ``mx`` mechanism.
    """
    from diagnose.checks import dnsquery

    txt_l = await txt_future
    if not txt_l.concluded:
        return make_result(
            "spf",
            Status.ERROR,
            _("The TXT lookup for {where} failed: {reason}").format(
                where=name, reason=txt_l.reason
            ),
        )
    found = [text for text in dnsquery.txt_strings(txt_l.records) if is_spf(text)]
    if not found:
        return make_result(
            "spf",
            Status.WARN,
            _("{name} has no SPF record: anyone may send as it.").format(name=name),
        )
    if len(found) > 1:
        return make_result(
            "spf",
            Status.FAIL,
            ngettext(
                "{name} has {n} SPF record; RFC 7208 §4.5 allows one (permerror).",
                "{name} has {n} SPF records; RFC 7208 §4.5 allows one (permerror).",
                len(found),
            ).format(name=name, n=len(found)),
            records=found,
        )
    top = parse_spf(found[0])
    if top.error:
        return make_result(
            "spf",
            Status.FAIL,
            _("The SPF record of {name} is invalid: {error}").format(name=name, error=top.error),
            record=top.text,
        )
    answered: asyncio.Future[Lookup] = asyncio.get_running_loop().create_future()
    answered.set_result(txt_l)
    seeds: dict[tuple[str, str], Awaitable[Lookup]] = {(name, "TXT"): answered}
    if mx_future is not None:
        seeds[(name, "MX")] = mx_future
    walk = _Walk(resolver, budget, name, seeds)
    try:
        qualifier = await walk.evaluate(name, top, (name,))
    except _Stop as stop:
        return make_result("spf", stop.status, stop.message, record=top.text)
    finally:
        await walk.close()
    details = {"record": top.text, "lookups": walk.lookups, "void_lookups": walk.void}
    if qualifier == "+":
        return make_result(
            "spf",
            Status.FAIL,
            _(
                "The SPF record of {name} passes every sender (+all, in the record or in an "
                "include): anyone may send as it."
            ).format(name=name),
            **details,
        )
    if qualifier is None:
        return make_result(
            "spf",
            Status.WARN,
            _(
                "The SPF record of {name} has no 'all' term, so it does not reject other senders."
            ).format(name=name),
            **details,
        )
    if qualifier == "?":
        return make_result(
            "spf",
            Status.WARN,
            _("The SPF record of {name} ends in ?all, which protects nothing.").format(name=name),
            **details,
        )
    return make_result(
        "spf",
        Status.PASS,
        _("{name} has one valid SPF record ending in {qualifier}all.").format(
            name=name, qualifier=qualifier
        ),
        **details,
    )
