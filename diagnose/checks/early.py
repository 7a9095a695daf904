"""The first domain's queries, sent while dnspython and asyncio are still being imported.

``diagnose mail DOMAIN`` spends about 70 ms (far more on a busy machine) importing
asyncio and dnspython before it can ask anything; over a link with 100 ms per DNS
answer that is most of a round trip. So the command builds round 1's queries (MX,
TXT, and the TXT of ``_dmarc``, ``_mta-sts`` and ``_smtp._tls``; the RFC 1035 §4.1
message format, with the same EDNS0 OPT record and 1232-byte payload as the
resolver, RFC 6891) with the standard library alone, sends them to the nameserver
the resolver would ask, and only then imports the rest. A reader thread keeps the answers, and as soon as the MX answer is in it sends
round 2 too (every MX target's A and AAAA, or, with no MX record, the domain's own),
so that both rounds can be under way while the imports run.

The resolver then answers a question from these when it can (``attach``): a clean
answer from that server becomes the very ``Answer`` or ``NXDOMAIN`` dnspython would
have made of it (``dns.resolver.Answer`` reads the message). Anything else (a
truncated answer, a CNAME to follow, SERVFAIL or any other rcode, no answer within
one attempt) is left to the resolver, which asks again in its own way (over TCP, and
so on), so that every outcome stays what it was without the early queries. A datagram
that is no answer to our question is noise and is dropped (the wait goes on). Only
with exactly one nameserver: with several, a silent first one would cost an attempt
more before the resolver's failover reached the next. Nothing here imports dnspython
or asyncio at module level.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio
    import threading
    from collections.abc import Awaitable, Callable

    import dns.asyncresolver
    import dns.resolver

    from diagnose.checks.settings import DnsSettings

#: RFC 1035 §3.2.2 (and RFC 3596 for AAAA): the types the early rounds ask.
_TYPES = {"A": 1, "MX": 15, "TXT": 16, "AAAA": 28}
_CNAME = 5
#: The resolver's EDNS0 payload (``dnsquery.EDNS_PAYLOAD``; RFC 9715).
_PAYLOAD = 1232
_RESOLV_CONF = "/etc/resolv.conf"
#: Round 1 of a domain (``{}``): what ``mail.rounds`` and ``mail.extras`` ask at once.
ROUND_ONE = (
    ("{}", "MX"),
    ("{}", "TXT"),
    ("_dmarc.{}", "TXT"),
    ("_mta-sts.{}", "TXT"),
    ("_smtp._tls.{}", "TXT"),
)
#: Round 2 is sent early only for this many MX hosts at most (else the checks ask).
MAX_EARLY_TARGETS = 10


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


def _read_name(wire: bytes, offset: int) -> tuple[str, int]:
    """A domain name at ``offset`` (RFC 1035 §4.1.4 compression followed), lowercase,
    and the offset after it in the record. Raises ValueError for a malformed name."""
    labels: list[str] = []
    end = -1
    jumps = 0
    while True:
        if offset >= len(wire):
            raise ValueError("The name runs past the message.")
        length = wire[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(wire) or jumps > 64:
                raise ValueError("A compression pointer is malformed or loops.")
            if end < 0:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | wire[offset + 1]
            jumps += 1
            continue
        if length & 0xC0:
            raise ValueError("A label type is unknown.")
        offset += 1
        if length == 0:
            break
        label = wire[offset : offset + length]
        if len(label) != length:
            raise ValueError("A label runs past the message.")
        labels.append(label.decode("ascii", "replace").lower())
        offset += length
    return ".".join(labels), (end if end >= 0 else offset)


def mx_exchanges(wire: bytes, qid: int, name: str) -> list[str] | None:
    """The MX targets a clean answer to (``name``, MX) gives, [] for NODATA; None for
    anything the resolver must judge itself (not our answer, TC, an rcode other than
    NOERROR, a CNAME, a malformed message)."""
    try:
        rid, flags, qdcount, ancount = struct.unpack_from("!HHHH", wire)
        if rid != qid or not flags & 0x8000 or flags & 0x0200 or flags & 0x000F or qdcount != 1:
            return None
        qname, offset = _read_name(wire, 12)
        qtype, _ = struct.unpack_from("!HH", wire, offset)
        if qname != name or qtype != _TYPES["MX"]:
            return None
        offset += 4
        found: list[str] = []
        for _ in range(ancount):
            owner, offset = _read_name(wire, offset)
            rtype, _, _, length = struct.unpack_from("!HHIH", wire, offset)
            offset += 10
            if rtype == _CNAME or owner != name:
                return None
            if rtype == _TYPES["MX"]:
                exchange, _ = _read_name(wire, offset + 2)
                found.append(exchange)
            offset += length
        return found
    except (struct.error, ValueError):
        return None


class _Sent:
    """One query sent, the datagrams that came back with its ID, and what became of it:
    ``result`` (an Answer, or the NXDOMAIN to raise) once ``settled``, or ``declined``
    when it is the resolver's to ask. A plain class: dataclasses would cost an import
    before the queries go out."""

    __slots__ = ("datagrams", "declined", "qid", "result", "settled", "wire")

    def __init__(self, qid: int, wire: bytes) -> None:
        self.qid = qid
        self.wire = wire
        self.datagrams: list[bytes] = []
        self.settled = False
        self.declined = False
        self.result: Any = None


class EarlyQueries:
    """One domain's rounds, already on the wire; ``attach`` lets a resolver use them."""

    def __init__(self, sock: socket.socket, server: tuple[str, int], name: str) -> None:
        self._sock = sock
        self._server = server
        self._name = name
        self._sent: dict[tuple[str, str], _Sent] = {}
        self._by_id: dict[int, _Sent] = {}
        self._closed = False
        self._mx: _Sent | None = None
        self._round2 = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrived: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._lock: threading.Lock | None = None
        self._wake_r, self._wake_w = -1, -1  # a pipe that wakes the reader to stop

    @classmethod
    def start(cls, settings: DnsSettings, domain: str) -> EarlyQueries | None:
        """Send round 1 (``ROUND_ONE``) for ``domain`` and start the reader; None
        when that cannot be done (an invalid name, not exactly one nameserver, a socket
        error): the checks then ask as usual."""
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
        early = cls(socket.socket(family, socket.SOCK_DGRAM), server, name)
        try:
            early._sock.connect(server)
            early._sock.setblocking(False)
            # round 1 as ``rounds`` and ``extras`` ask it (MTA-STS, RFC 8461 §3.1;
            # TLS-RPT, RFC 8460 §3); DKIM selectors and the rest are the resolver's
            for qname, rdtype in ROUND_ONE:
                early._send(qname.format(name), rdtype)
        except OSError:
            early._sock.close()
            return None
        early._mx = early._sent[(name, "MX")]
        import threading  # after the queries are out: asyncio imports it anyway

        early._lock = threading.Lock()
        early._wake_r, early._wake_w = os.pipe()
        early._thread = threading.Thread(target=early._read, name="diagnose-early", daemon=True)
        early._thread.start()
        return early

    def _send(self, name: str, rdtype: str) -> None:
        qid = int.from_bytes(os.urandom(2), "big")
        while qid in self._by_id:
            qid = int.from_bytes(os.urandom(2), "big")
        entry = _Sent(qid, query_wire(qid, name, rdtype))
        self._sent[(name, rdtype)] = entry
        self._by_id[qid] = entry
        self._sock.send(entry.wire)

    # -- the reader thread -------------------------------------------------------------

    def _read(self) -> None:
        import select

        while not self._closed:
            try:
                ready, _, _ = select.select([self._sock.fileno(), self._wake_r], [], [])
                if self._closed or self._wake_r in ready:
                    return
                data = self._sock.recv(65535)
            except (BlockingIOError, InterruptedError):
                continue
            except (OSError, ValueError):  # closed, or ICMP unreachable: the resolver tells
                self._give_up()
                return
            assert self._lock is not None
            with self._lock:
                entry = self._by_id.get(int.from_bytes(data[:2], "big")) if len(data) > 1 else None
                if entry is None:
                    continue
                entry.datagrams.append(data)
                if entry is self._mx and not self._round2:
                    self._round2 = self._send_round2(entry, data)
            loop, arrived = self._loop, self._arrived
            if loop is not None and arrived is not None:
                try:
                    loop.call_soon_threadsafe(arrived.set)
                except RuntimeError:  # the loop is closed: nobody waits any more
                    return

    def _give_up(self) -> None:
        """The socket failed: every question not answered yet is the resolver's, now."""
        assert self._lock is not None
        with self._lock:
            for entry in self._by_id.values():
                if not entry.settled:
                    entry.declined = True
        loop, arrived = self._loop, self._arrived
        if loop is not None and arrived is not None:
            import contextlib

            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits
                loop.call_soon_threadsafe(arrived.set)

    def _send_round2(self, mx: _Sent, data: bytes) -> bool:
        """Round 2 from the MX answer (what ``mx.check_targets`` or the implicit MX of
        RFC 5321 §5.1 will ask); True once decided, sent or not."""
        from diagnose.checks.names import host_name_problem

        exchanges = mx_exchanges(data, mx.qid, self._name)
        if exchanges is None:
            return False  # not a clean answer (yet): a later datagram may be
        if not exchanges:
            hosts = [self._name]  # NODATA: the implicit MX, the domain's own addresses
        else:
            hosts = sorted({ex for ex in exchanges if ex and not host_name_problem(ex)})
        if len(hosts) > MAX_EARLY_TARGETS:
            return True
        try:
            for host in hosts:
                for rdtype in ("A", "AAAA"):
                    if (host, rdtype) not in self._sent:
                        self._send(host, rdtype)
        except OSError:
            pass
        return True

    # -- the resolver's side -----------------------------------------------------------

    def attach(self, resolver: dns.asyncresolver.Resolver) -> None:
        """Let ``resolver`` answer from the early queries when it can (only this
        resolver object; its class is untouched)."""
        original = resolver.resolve
        # An instance attribute shadows the method for this resolver only.
        resolver.resolve = self._resolver(original, float(resolver.timeout))  # type: ignore[method-assign,assignment]

    def _resolver(
        self, original: Callable[..., Awaitable[dns.resolver.Answer]], attempt: float
    ) -> Callable[..., Awaitable[dns.resolver.Answer]]:
        async def resolve(qname: Any, rdtype: Any = "A", *args: Any, **kwargs: Any) -> Any:
            import dns.name
            import dns.resolver

            plain = not args and set(kwargs) <= {"search", "lifetime", "raise_on_no_answer"}
            entry = None
            if plain and isinstance(qname, dns.name.Name) and isinstance(rdtype, str):
                key = (qname.to_text(omit_final_dot=True).lower(), rdtype.upper())
                assert self._lock is not None
                with self._lock:
                    entry = self._sent.get(key)
            if entry is None or entry.declined:
                return await original(qname, rdtype, *args, **kwargs)
            lifetime = kwargs.get("lifetime")
            wait = attempt if lifetime is None else min(attempt, float(lifetime))
            waited, answer = await self._answer(entry, qname, wait)
            if answer is not None:
                if answer.rrset is None and kwargs.get("raise_on_no_answer", True):
                    raise dns.resolver.NoAnswer(response=answer.response)  # type: ignore[no-untyped-call]
                return answer
            if lifetime is not None:
                left = float(lifetime) - waited
                if left <= 0:  # what the resolver says when its lifetime ends in silence
                    raise dns.resolver.LifetimeTimeout(timeout=waited, errors=[])  # type: ignore[no-untyped-call]
                kwargs = {**kwargs, "lifetime": left}
            return await original(qname, rdtype, *args, **kwargs)

        return resolve

    async def _answer(self, entry: _Sent, qname: Any, wait: float) -> tuple[float, Any]:
        """(seconds waited, the Answer), or (waited, None) to leave it to the resolver.
        Raises NXDOMAIN as the resolver would. A question asked twice (the MX hosts'
        addresses by the MX check and by SPF's mx) gets the same answer, as from a
        cache; one asked while another waits for it waits too."""
        import asyncio

        loop = asyncio.get_running_loop()
        if self._arrived is None:
            self._arrived = asyncio.Event()
            self._loop = loop
        started = loop.time()
        while True:
            if entry.settled:
                if isinstance(entry.result, BaseException):
                    raise entry.result
                return loop.time() - started, entry.result
            if entry.declined:
                return loop.time() - started, None
            assert self._lock is not None
            with self._lock:
                pending = list(entry.datagrams)
                entry.datagrams.clear()
            for data in pending:
                try:
                    verdict = self._judge(entry, data, qname)
                except BaseException as nxdomain:  # NXDOMAIN, a fact like an answer
                    entry.settled, entry.result = True, nxdomain
                    self._arrived.set()  # others waiting for this question see it
                    raise
                if verdict is False:
                    continue  # noise
                if verdict is None:
                    entry.declined = True
                else:
                    entry.settled, entry.result = True, verdict
                self._arrived.set()
                return loop.time() - started, verdict
            left = started + wait - loop.time()
            if left <= 0:
                entry.declined = True  # one attempt in silence: the resolver goes on
                return loop.time() - started, None
            self._arrived.clear()
            with self._lock:  # what came (or was settled) before the clear is not lost
                more = bool(entry.datagrams) or entry.settled or entry.declined
            if more:
                continue
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except TimeoutError:
                entry.declined = True
                return loop.time() - started, None

    def _judge(self, entry: _Sent, data: bytes, qname: Any) -> Any:
        """The Answer ``data`` gives; None to leave the question to the resolver; False
        when ``data`` is no answer to it (noise: keep waiting). Raises NXDOMAIN."""
        import dns.flags
        import dns.message
        import dns.rcode
        import dns.rdatatype
        import dns.resolver

        query = dns.message.from_wire(entry.wire)
        try:
            response = dns.message.from_wire(data)
        except Exception:  # a malformed datagram is noise, not an answer
            return False
        if not query.is_response(response):
            return False
        if response.flags & dns.flags.TC:
            return None  # truncated: the resolver repeats it over TCP (RFC 7766)
        if any(rrset.rdtype == dns.rdatatype.CNAME for rrset in response.answer):
            return None  # an alias: the resolver follows the chain its own way
        question = query.question[0]
        rcode = response.rcode()
        if rcode == dns.rcode.NXDOMAIN and not response.answer:
            raise dns.resolver.NXDOMAIN(qnames=[qname], responses={qname: response})  # type: ignore[no-untyped-call]
        if rcode != dns.rcode.NOERROR:
            return None  # SERVFAIL, REFUSED, FORMERR...: the resolver's to handle
        if any(rrset.name != question.name for rrset in response.answer):
            return None  # records of another name: the resolver's to judge
        if not isinstance(response, dns.message.QueryMessage):
            return None
        answer = dns.resolver.Answer(
            question.name,
            question.rdtype,
            question.rdclass,
            response,
            self._server[0],
            self._server[1],
        )
        return answer

    def close(self) -> None:
        """Stop the reader and close the socket (the batch is done). The reader is
        woken through its pipe, so that closing waits for nothing."""
        self._closed = True
        if self._thread is not None:
            os.write(self._wake_w, b"x")
            self._thread.join(1.0)
            os.close(self._wake_r)
            os.close(self._wake_w)
            self._thread = None
        self._sock.close()
