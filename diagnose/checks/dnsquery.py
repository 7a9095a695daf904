"""DNS lookups for the live checks: the resolver, nameserver parsing, outcome classes.

Every lookup ends in one of four outcomes. Two are facts about the zone: the records
(``OK``), the name exists without records of that type (``NODATA``, dnspython's
``NoAnswer``) and the name does not exist (``NXDOMAIN``). The fourth, ``UNDETERMINED``,
is everything else: a timeout, SERVFAIL or REFUSED from every server (``NoNameservers``),
transport trouble. RFC 5321 §5.1 treats those as "try again later", never as "no
record", and so do the checks: an undetermined lookup is a check with status error.

dnspython is imported by this module, and this module only by the checks that run.
"""

from __future__ import annotations

import asyncio
import enum
import math
import random
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.query
import dns.rdata
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA
import dns.rdtypes.mxbase
import dns.rdtypes.txtbase
import dns.resolver

from diagnose.checks.nameservers import parse_nameserver
from diagnose.checks.settings import DnsSettings
from diagnose.exceptions import UsageError
from diagnose.i18n import _

if TYPE_CHECKING:
    from collections.abc import Sequence

    # dns.asyncbackend imports Backend from here without re-exporting it
    import dns._asyncbackend

#: The shortest per-attempt timeout: a lost UDP packet is retried, or the next server
#: asked, after ``attempt_timeout()`` seconds, never sooner than this (unless the whole
#: budget is shorter).
MIN_ATTEMPT_TIMEOUT = 1.0
#: At most this many DNS queries for one domain, whatever its records hold (2,000 MX
#: targets, long SPF chains): a lookup past the cap is undetermined, not sent.
MAX_QUERIES = 100
#: RFC 9715 / DNS Flag Day 2020: advertise 1232 bytes so that large answers are
#: truncated (TC bit) rather than fragmented, and repeated over TCP (RFC 7766).
EDNS_PAYLOAD = 1232


class _UdpChannel(asyncio.DatagramProtocol):
    """One connected UDP socket carrying many queries at once, matched by query ID."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, asyncio.Future[bytes]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: object) -> None:
        if len(data) >= 2:
            waiter = self.pending.get(int.from_bytes(data[:2], "big"))
            if waiter is not None and not waiter.done():
                waiter.set_result(data)

    def error_received(self, exc: Exception) -> None:
        # An ICMP error (port unreachable) on the connected socket: every query on it
        # failed; the resolver reports them as undetermined.
        for waiter in self.pending.values():
            if not waiter.done():
                waiter.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.error_received(exc or ConnectionResetError(_("The UDP socket was closed.")))


class SharedUdpNameserver(dns.nameserver.Do53Nameserver):
    """A Do53 nameserver whose UDP queries share a few sockets (IDs tell them apart).

    dnspython's own Do53Nameserver opens a socket (and an asyncio endpoint) for every
    query; at thousands of queries a second that is most of the client's CPU time.
    Here each event loop gets ``POOL`` connected sockets, a query goes out on a random
    one with a random free ID, and the answer must match the question
    (``is_response``). TCP (after a truncated answer) is dnspython's, unchanged.
    """

    POOL = 4

    def __init__(self, address: str, port: int = 53) -> None:
        super().__init__(address, port)
        self._channels: dict[asyncio.AbstractEventLoop, list[_UdpChannel]] = {}

    async def _channel(self) -> _UdpChannel:
        loop = asyncio.get_running_loop()
        channels = self._channels.setdefault(loop, [])
        if len(channels) < self.POOL:
            family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
            _, channel = await loop.create_datagram_endpoint(
                _UdpChannel, remote_addr=(self.address, self.port), family=family
            )
            channels.append(channel)
            return channel
        return random.choice(channels)

    async def async_query(
        self,
        request: dns.message.QueryMessage,
        timeout: float,
        source: str | None,
        source_port: int,
        max_size: bool,
        backend: dns._asyncbackend.Backend,
        one_rr_per_rrset: bool = False,
        ignore_trailing: bool = False,
    ) -> dns.message.Message:
        if max_size or source or source_port:
            response = await super().async_query(
                request,
                timeout,
                source,
                source_port,
                max_size,
                backend,
                one_rr_per_rrset,
                ignore_trailing,
            )
            if max_size and response.flags & dns.flags.TC:
                # Truncated again over TCP (RFC 7766 §8 leaves no further retry): the
                # records are incomplete, so the answer is unknown, never "no records".
                # dnspython's resolver drops this server and asks the next one.
                raise dns.message.Truncated()  # type: ignore[no-untyped-call]
            return response
        channel = await self._channel()
        while request.id in channel.pending:
            request.id = random.randint(0, 65535)
        wire_request = request.to_wire()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        assert channel.transport is not None
        channel.transport.sendto(wire_request)
        try:
            while True:
                # A datagram that carries our ID but is no answer to our question
                # (garbage, another name, a late answer to an earlier query that had
                # the same ID) is dropped, and the wait goes on: an off-path sender
                # cannot end the lookup, and only a real answer or the timeout can.
                waiter: asyncio.Future[bytes] = loop.create_future()
                channel.pending[request.id] = waiter
                try:
                    wire = await asyncio.wait_for(waiter, max(0.0, deadline - loop.time()))
                except TimeoutError:
                    raise dns.exception.Timeout(timeout=timeout) from None  # type: ignore[no-untyped-call]
                answer = _answer_to(request, wire, one_rr_per_rrset, ignore_trailing)
                if answer is not None:
                    return answer
        finally:
            channel.pending.pop(request.id, None)

    def close(self) -> None:
        """Close the sockets of every loop (call when the batch is done)."""
        for channels in self._channels.values():
            for channel in channels:
                if channel.transport is not None:
                    channel.transport.close()
        self._channels.clear()


def _answer_to(
    request: dns.message.QueryMessage, wire: bytes, one_rr_per_rrset: bool, ignore_trailing: bool
) -> dns.message.Message | None:
    """``wire`` parsed, when it answers ``request``; None for anything else. A truncated
    answer raises ``dns.message.Truncated``: the resolver repeats the query over TCP."""
    try:
        response = dns.message.from_wire(
            wire,
            keyring=request.keyring,
            request_mac=request.mac,
            one_rr_per_rrset=one_rr_per_rrset,
            ignore_trailing=ignore_trailing,
            raise_on_truncation=True,
        )
    except dns.message.Truncated as truncated:
        # Only a truncated answer to our own question counts as one.
        partial = truncated.message()  # type: ignore[no-untyped-call]
        if isinstance(partial, dns.message.Message) and request.is_response(partial):
            raise
        return None
    except Exception:  # any malformed datagram is noise, not an answer
        return None
    return response if request.is_response(response) else None


def close_resolver(resolver: dns.asyncresolver.Resolver) -> None:
    """Release the sockets a resolver from ``make_resolver`` holds."""
    for nameserver in resolver.nameservers:
        if isinstance(nameserver, SharedUdpNameserver):
            nameserver.close()


def attempt_timeout(budget: float, servers: int) -> float:
    """How long one query to one server may take, for a domain's whole ``budget``.

    The budget is shared out so that every server gets an attempt and the first one a
    second (a lost UDP packet is retried): ``budget / (servers + 1)``, never under
    ``MIN_ATTEMPT_TIMEOUT`` nor over the budget. So it grows with the budget: with one
    server and ``--timeout 12`` an attempt waits 6 s, and a server that answers in 3 s
    is heard; with three servers and the default 5 s, a silent first server costs 1.25 s
    before the second is asked.
    """
    share = budget / (max(1, servers) + 1)
    return min(budget, max(MIN_ATTEMPT_TIMEOUT, share))


def make_resolver(settings: DnsSettings) -> dns.asyncresolver.Resolver:
    """An asyncio resolver that queries ``settings.nameservers`` (or the system's).

    Raises ``UsageError`` when no nameserver is given and the system has none.
    """
    if settings.nameservers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [
            SharedUdpNameserver(host, port) for host, port in settings.nameservers
        ]
    else:
        try:
            resolver = dns.asyncresolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise UsageError(
                _("The system has no DNS resolver configured; give one with --nameserver.")
            ) from None
    if not (math.isfinite(settings.timeout) and settings.timeout > 0):
        raise UsageError(
            _("The DNS time budget must be a positive number, not {value}.").format(
                value=settings.timeout
            )
        )
    resolver.timeout = attempt_timeout(settings.timeout, len(resolver.nameservers))
    resolver.lifetime = settings.timeout
    resolver.use_edns(0, 0, EDNS_PAYLOAD)
    # A SERVFAIL from the only server is an answer ("undetermined"), not a reason to
    # hammer it until the budget runs out.
    resolver.retry_servfail = False
    return resolver


class Outcome(enum.StrEnum):
    OK = "ok"
    NODATA = "nodata"
    NXDOMAIN = "nxdomain"
    UNDETERMINED = "undetermined"


@dataclass(frozen=True)
class Lookup:
    """One lookup's outcome. ``records`` holds dnspython's rdata objects, all of the
    type asked for (read them with ``mx_records``, ``addresses``, ``txt_strings``);
    ``reason`` is a sentence."""

    name: str
    rdtype: str
    outcome: Outcome
    records: tuple[dns.rdata.Rdata, ...] = ()
    canonical_name: str | None = None
    reason: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def concluded(self) -> bool:
        """True when the lookup established a fact (records, NODATA or NXDOMAIN)."""
        return self.outcome is not Outcome.UNDETERMINED

    @property
    def is_alias(self) -> bool:
        """True when the answer followed a CNAME (``canonical_name`` differs)."""
        return self.canonical_name is not None and self.canonical_name != self.name


def classify(error: BaseException) -> tuple[Outcome, str]:
    """The note's table: which dnspython exceptions are facts and which are unknowns."""
    if isinstance(error, dns.resolver.NXDOMAIN):
        return Outcome.NXDOMAIN, _("The name does not exist (NXDOMAIN).")
    if isinstance(error, dns.resolver.NoAnswer):
        return Outcome.NODATA, _("The name has no record of that type.")
    if isinstance(error, dns.resolver.NoNameservers):
        return Outcome.UNDETERMINED, _no_nameservers_reason(error)
    if isinstance(error, dns.exception.Timeout | TimeoutError):
        return Outcome.UNDETERMINED, _("The DNS server did not answer in time.")
    if isinstance(error, dns.exception.DNSException):
        return Outcome.UNDETERMINED, _("The lookup failed: {error}").format(error=error)
    if isinstance(error, OSError):
        return Outcome.UNDETERMINED, _("The DNS server could not be reached: {error}.").format(
            error=error
        )
    return Outcome.UNDETERMINED, _("The lookup failed: {error}.").format(error=repr(error))


def _no_nameservers_reason(error: dns.resolver.NoNameservers) -> str:
    # dnspython's (server, tcp, port, error or rcode text, answer) for each attempt
    errors: Sequence[tuple[object, ...]] = error.kwargs.get("errors") or ()
    rcodes: set[str] = set()
    for entry in errors:
        detail = entry[3] if len(entry) > 3 else None
        text = str(detail or "")
        for rcode in ("SERVFAIL", "REFUSED", "FORMERR", "NOTIMP"):
            if rcode in text:
                rcodes.add(rcode)
        if isinstance(detail, OSError):
            rcodes.add("unreachable")
        if isinstance(detail, dns.message.Truncated):
            rcodes.add("truncated")
        if isinstance(detail, dns.message.ChainTooLong):
            rcodes.add("chain")
    if rcodes == {"unreachable"}:
        return _("The DNS server could not be reached.")
    if "chain" in rcodes:
        return _(
            "The name is an alias in a CNAME chain that loops or is longer than {n} links."
        ).format(n=dns.message.MAX_CHAIN)
    if "truncated" in rcodes:
        return _("The answer was truncated even over TCP, so its records are incomplete.")
    if rcodes:
        # the rcodes are RFC 1035 §4.1.1 tokens, joined by a translated "or"
        answer = _(" or ").join(sorted(rcodes - {"unreachable", "truncated", "chain"}))
        return _("The DNS server answered {rcode}, so the answer is unknown.").format(rcode=answer)
    return _("No DNS server gave a usable answer.")


class Budget:
    """What one domain's lookups may still spend: time (``DnsSettings.timeout`` in all,
    counted from when its first lookup starts) and queries (``MAX_QUERIES``)."""

    def __init__(self, seconds: float, max_queries: int = MAX_QUERIES) -> None:
        # NaN would make every comparison false and the deadline never come.
        if not (math.isfinite(seconds) and seconds > 0):
            seconds = 0.0
        self.deadline = time.monotonic() + seconds
        self.max_queries = max_queries
        self.queries_left = max_queries

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def take_query(self) -> bool:
        """Count one lookup against the cap; False when the cap is reached."""
        if self.queries_left <= 0:
            return False
        self.queries_left -= 1
        return True


async def lookup(
    resolver: dns.asyncresolver.Resolver, name: str, rdtype: str, budget: Budget
) -> Lookup:
    """Resolve ``name``/``rdtype`` within ``budget``; never raises for DNS trouble."""
    left = budget.remaining()
    if left <= 0:
        return Lookup(name, rdtype, Outcome.UNDETERMINED, reason=_("The time budget ran out."))
    if not budget.take_query():
        return Lookup(
            name,
            rdtype,
            Outcome.UNDETERMINED,
            reason=_("The cap of {n} DNS queries for one domain was reached.").format(
                n=budget.max_queries
            ),
        )
    try:
        qname = dns.name.from_text(name)  # absolute: no search list is ever applied
        # The resolver keeps its lifetime only between attempts (a back-off sleep may
        # overrun it); the budget is a hard deadline.
        async with asyncio.timeout(left):
            answer = await resolver.resolve(
                qname, rdtype, search=False, lifetime=left, raise_on_no_answer=False
            )
    except Exception as error:  # classify() sorts facts from unknowns
        outcome, reason = classify(error)
        return Lookup(name, rdtype, outcome, reason=reason)
    canonical = answer.canonical_name.to_text(omit_final_dot=True).lower()
    if answer.rrset is None:
        return Lookup(name, rdtype, Outcome.NODATA, canonical_name=canonical)
    return Lookup(name, rdtype, Outcome.OK, tuple(answer.rrset), canonical_name=canonical)


R = TypeVar("R", bound=dns.rdata.Rdata)


def _all_of(kind: type[R], records: Sequence[dns.rdata.Rdata]) -> list[R]:
    """``records`` as ``kind``; a lookup's records are all of the type it asked for, and
    anything else is a bug (raised, so that the check reports it, never guesses)."""
    typed = [record for record in records if isinstance(record, kind)]
    if len(typed) != len(records):
        found = ", ".join(sorted({type(record).__name__ for record in records}))
        raise TypeError(f"Expected {kind.__name__} records, got {found}.")
    return typed


def txt_strings(records: Sequence[dns.rdata.Rdata]) -> list[str]:
    """Each TXT record as one string: its character-strings joined without spaces
    (RFC 7208 §3.3), decoded leniently."""
    return [
        b"".join(record.strings).decode("utf-8", "replace")
        for record in _all_of(dns.rdtypes.txtbase.TXTBase, records)
    ]


def mx_records(records: Sequence[dns.rdata.Rdata]) -> list[tuple[int, str]]:
    """(preference, exchange) of each MX record, sorted; the exchange in lower case
    without its final dot (the root of a null MX is ".")."""
    return sorted(
        (record.preference, record.exchange.to_text(omit_final_dot=True).lower())
        for record in _all_of(dns.rdtypes.mxbase.MXBase, records)
    )


def addresses(records: Sequence[dns.rdata.Rdata]) -> list[str]:
    """The addresses of A and AAAA records, as text."""
    found: list[str] = []
    for record in records:
        if not isinstance(record, dns.rdtypes.IN.A.A | dns.rdtypes.IN.AAAA.AAAA):
            raise TypeError(f"Expected A or AAAA records, got {type(record).__name__}.")
        found.append(str(record.address))
    return found


__all__ = [
    "Budget",
    "Lookup",
    "Outcome",
    "addresses",
    "classify",
    "close_resolver",
    "lookup",
    "make_resolver",
    "mx_records",
    "parse_nameserver",
    "txt_strings",
]
