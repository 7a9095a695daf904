"""The first domain's round-1 queries, sent before dnspython and asyncio are imported.

``diagnose mail DOMAIN`` spends about 70 ms importing asyncio and dnspython before it
can ask anything. Over a link with 100 ms per DNS answer that is most of a round trip.
So the command builds round 1's three queries (MX, TXT, ``_dmarc`` TXT; RFC 1035
§4.1 message format, with the same EDNS0 OPT record and 1232-byte payload as the
resolver, RFC 6891) with the standard library alone, sends them to the first
nameserver, the one the resolver asks first, and only then imports the rest; the
answers wait in the socket meanwhile.

When the pipeline asks for one of these names (``EarlyQueries.lookup``), a clean
answer from that server is used as the resolver would use it: the records (OK), the
name without records of that type (NODATA) or NXDOMAIN. Anything else (a truncated
answer, a CNAME to follow, SERVFAIL or any other rcode, no answer within one attempt)
is left to the resolver, which asks again in its own way (over TCP, the next server,
and so on), so that every outcome stays what it was without the early queries. A
datagram that is no answer to our question is noise and is dropped (the wait goes
on). Nothing here imports dnspython or asyncio at module level.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

    from dns.asyncresolver import Resolver

    from diagnose.checks.dnsquery import Budget, Lookup
    from diagnose.checks.settings import DnsSettings

#: RFC 1035 §3.2.2 types: what round 1 asks.
_TYPES = {"MX": 15, "TXT": 16}
#: The resolver's EDNS0 payload (``dnsquery.EDNS_PAYLOAD``; RFC 9715).
_PAYLOAD = 1232
_RESOLV_CONF = "/etc/resolv.conf"


def query_wire(qid: int, name: str, rdtype: str) -> bytes:
    """A standard query (RD set) for ``name`` (ASCII, A-labels) with an EDNS0 OPT record."""
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1)
    qname = b"".join(
        bytes([len(label)]) + label.encode("ascii") for label in name.split(".") if label
    )
    question = qname + b"\0" + struct.pack("!HH", _TYPES[rdtype], 1)
    # OPT: root owner, type 41, class = payload size, TTL 0 (version 0, no flags), no data
    opt = b"\0" + struct.pack("!HHIH", 41, _PAYLOAD, 0, 0)
    return header + question + opt


def system_nameserver(path: str = _RESOLV_CONF) -> tuple[str, int] | None:
    """The nameserver of resolv.conf when it names exactly one (dnspython's reading of
    the same file), else None."""
    import ipaddress

    found: list[tuple[str, int]] = []
    try:
        with open(path, encoding="utf-8", errors="replace") as conf:
            for line in conf:
                words = line.split()
                if len(words) >= 2 and words[0] == "nameserver":
                    found.append((str(ipaddress.ip_address(words[1])), 53))
    except (OSError, ValueError):
        return None
    return found[0] if len(found) == 1 else None


class _Sent:
    """One query sent, and the datagrams that came back with its ID (a plain class:
    dataclasses would cost an import before the queries go out)."""

    __slots__ = ("datagrams", "qid", "wire")

    def __init__(self, qid: int, wire: bytes) -> None:
        self.qid = qid
        self.wire = wire
        self.datagrams: list[bytes] = []


class EarlyQueries:
    """Round 1 of one domain, already on the wire; ``lookup`` takes each answer once."""

    def __init__(self, sock: socket.socket, sent: dict[tuple[str, str], _Sent]) -> None:
        self._sock = sock
        self._sent = sent
        self._by_id = {entry.qid: entry for entry in sent.values()}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrived: asyncio.Event | None = None

    @classmethod
    def start(cls, settings: DnsSettings, domain: str) -> EarlyQueries | None:
        """Send MX, TXT and ``_dmarc`` TXT for ``domain``; None when that cannot be done
        (an invalid name, no nameserver, a socket error): the checks then ask as usual.

        Only with exactly one nameserver: with several, a silent first one would cost
        an attempt more before the resolver's failover reached the next.
        """
        from diagnose.checks.names import DomainSyntaxError, normalize_domain

        try:
            name = normalize_domain(domain)
        except DomainSyntaxError:
            return None
        if len(settings.nameservers) > 1:
            return None
        server = settings.nameservers[0] if settings.nameservers else system_nameserver()
        if server is None:
            return None
        family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sent: dict[tuple[str, str], _Sent] = {}
        try:
            sock.connect(server)
            sock.setblocking(False)
            ids = set()
            for qname, rdtype in ((name, "MX"), (name, "TXT"), (f"_dmarc.{name}", "TXT")):
                qid = int.from_bytes(os.urandom(2), "big")
                while qid in ids:
                    qid = int.from_bytes(os.urandom(2), "big")
                ids.add(qid)
                wire = query_wire(qid, qname, rdtype)
                sock.send(wire)
                sent[(qname, rdtype)] = _Sent(qid, wire)
        except OSError:
            sock.close()
            return None
        return cls(sock, sent)

    async def lookup(self, resolver: Resolver, name: str, rdtype: str, budget: Budget) -> Lookup:
        """``dnsquery.lookup``, answered from the early query when there is a clean one."""
        from diagnose.checks import dnsquery

        entry = self._sent.pop((name.lower(), rdtype), None)
        if entry is not None and budget.remaining() > 0:
            # One attempt, as the resolver's first would have been; then it goes on.
            wait = min(float(resolver.timeout), budget.remaining())
            answered, found = await self._answer(entry, name, rdtype, wait)
            if found is not None:
                return found
            if not answered and budget.remaining() <= 0:
                # what the resolver reports when the budget ends in silence
                outcome, reason = dnsquery.classify(TimeoutError())
                return dnsquery.Lookup(name, rdtype, outcome, reason=reason)
        return await dnsquery.lookup(resolver, name, rdtype, budget)

    async def _answer(
        self, entry: _Sent, name: str, rdtype: str, wait: float
    ) -> tuple[bool, Lookup | None]:
        """(answered, lookup): see ``_judge``; (False, None) when nothing came in time."""
        import asyncio

        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop, self._arrived = loop, asyncio.Event()
            loop.add_reader(self._sock.fileno(), self._read)
            self._read()  # answers that came while the imports ran
        assert self._arrived is not None
        deadline = loop.time() + wait
        while True:
            while entry.datagrams:
                answered, found = _judge(entry, entry.datagrams.pop(0), name, rdtype)
                if answered:
                    return True, found
            left = deadline - loop.time()
            if left <= 0:
                return False, None
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except TimeoutError:
                return False, None

    def _read(self) -> None:
        while True:
            try:
                data = self._sock.recv(65535)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # ICMP unreachable and the like: the resolver will tell
                break
            entry = self._by_id.get(int.from_bytes(data[:2], "big")) if len(data) >= 2 else None
            if entry is not None:
                entry.datagrams.append(data)
        if self._arrived is not None:
            self._arrived.set()

    def close(self) -> None:
        """Stop listening and close the socket (the batch is done)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._sock.fileno())
        self._sock.close()


def _judge(entry: _Sent, data: bytes, name: str, rdtype: str) -> tuple[bool, Lookup | None]:
    """(True, the lookup ``data`` answers with), or (True, None) to leave the question
    to the resolver, or (False, None) when ``data`` is no answer to it (noise)."""
    import dns.flags
    import dns.message
    import dns.rcode
    import dns.rdataclass
    import dns.rdatatype
    import dns.resolver

    from diagnose.checks import dnsquery

    query = dns.message.from_wire(entry.wire)
    try:
        response = dns.message.from_wire(data)
    except Exception:  # a malformed datagram is noise, not an answer
        return False, None
    if not query.is_response(response):
        return False, None
    if response.flags & dns.flags.TC:
        return True, None  # truncated: the resolver repeats it over TCP (RFC 7766)
    if any(rrset.rdtype == dns.rdatatype.CNAME for rrset in response.answer):
        return True, None  # an alias: the resolver follows the chain
    rcode = response.rcode()
    if rcode == dns.rcode.NXDOMAIN and not response.answer:
        nxdomain = dns.resolver.NXDOMAIN()  # type: ignore[no-untyped-call]
        outcome, reason = dnsquery.classify(nxdomain)
        return True, dnsquery.Lookup(name, rdtype, outcome, reason=reason)
    if rcode != dns.rcode.NOERROR:
        return True, None  # SERVFAIL, REFUSED, FORMERR...: the resolver's to handle
    qname = query.question[0].name
    canonical = qname.to_text(omit_final_dot=True).lower()
    rrset = response.get_rrset(
        response.answer, qname, dns.rdataclass.IN, dns.rdatatype.from_text(rdtype)
    )
    if rrset is None:
        if response.answer:
            return True, None  # records of another name or type: the resolver's to judge
        nodata = dnsquery.Lookup(name, rdtype, dnsquery.Outcome.NODATA, canonical_name=canonical)
        return True, nodata
    return True, dnsquery.Lookup(
        name, rdtype, dnsquery.Outcome.OK, tuple(rrset), canonical_name=canonical
    )
