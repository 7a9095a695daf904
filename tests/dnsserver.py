"""A small authoritative DNS server for tests and benchmarks (UDP and TCP).

It serves every zone file in a directory (``NAME.zone``, origin ``NAME.``; or the
file's own $ORIGIN) and answers as if it were a recursive resolver for those names: a
CNAME is followed within the zones, NXDOMAIN and NODATA are told apart. Fault modes
make the hard cases reproducible:

- ``timeout``: never answer; ``servfail``/``refused``: answer with that rcode;
- ``nxdomain``: say that every name does not exist (a resolver that lies, or a portal);
- ``truncate``: over UDP, answer with the TC bit and no records (the client must retry
  over TCP, RFC 7766), over TCP answer normally;
- ``delay=SECONDS``: every answer waits that long (a slow link), per name or for all;
- ``late=SECONDS``: the first query for a name and type is answered that late, every
  later one (a retry) at once: the late answer reaches a client that moved on.

Hostile modes, for what a broken or malicious server (or an off-path spoofer) sends:

- ``wrongid``: the answer with another query ID; ``garbage``: random bytes behind the
  query's own ID; ``othername``: a well-formed answer, right ID, for another name;
- ``wrongid+answer``, ``garbage+answer``, ``othername+answer``: that decoy first, then
  the real answer (a client must skip the decoy and keep waiting);
- ``truncate-tcp``: the TC bit over UDP, and over TCP again (with only the first
  record): the answer stays incomplete;
- ``noerror-loop``: a CNAME loop in the zones is served as it is (NOERROR with the
  looping chain) instead of SERVFAIL.

Zone data covers the rest: long CNAME chains, thousands of MX records (over TCP),
non-UTF-8 bytes and escape sequences in TXT.

Faults come from the server's ``faults`` argument and from a file ``faults`` in the
zones directory, one rule a line: ``NAME TYPE MODE`` where NAME is a name or
``*.name`` (the name and everything under it) and TYPE is a record type or ``*``.

Standalone: ``python tests/dnsserver.py --zones DIR --port N [--host H] [--delay 0.1]
[--fault timeout]``. In a test: ``DnsServer(zones_dir).start()`` runs it on a thread.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

FAULT_MODES = (
    "timeout",
    "servfail",
    "refused",
    "truncate",
    "truncate-tcp",
    "wrongid",
    "garbage",
    "othername",
    "wrongid+answer",
    "garbage+answer",
    "othername+answer",
    "noerror-loop",
    "nxdomain",
)


@dataclass(frozen=True)
class Fault:
    name: str  # "name." or "*.name."
    rdtype: str  # "A", "TXT", ... or "*"
    mode: str  # one of FAULT_MODES, delay=SECONDS or late=SECONDS

    def matches(self, qname: dns.name.Name, rdtype: str) -> bool:
        if self.rdtype != "*" and self.rdtype.upper() != rdtype:
            return False
        if self.name.startswith("*."):
            return qname.is_subdomain(dns.name.from_text(self.name[2:]))
        return qname == dns.name.from_text(self.name)


def parse_faults(lines: Iterable[str]) -> list[Fault]:
    faults = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, rdtype, mode = line.split()
            faults.append(Fault(name, rdtype, mode))
    return faults


@dataclass
class Zones:
    zones: list[dns.zone.Zone] = field(default_factory=list)
    #: every name that exists, including empty non-terminals (RFC 8020)
    names: set[dns.name.Name] = field(default_factory=set)

    @classmethod
    def load(cls, directory: Path) -> Zones:
        loaded = []
        names: set[dns.name.Name] = set()
        for path in sorted(directory.glob("*.zone")):
            origin = path.name[: -len(".zone")]
            zone = dns.zone.from_file(str(path), origin=origin, relativize=False)
            loaded.append(zone)
            for name in zone.nodes:
                while name.is_subdomain(zone.origin) and name not in names:
                    names.add(name)
                    name = name.parent()
        return cls(loaded, names)

    def zone_for(self, qname: dns.name.Name) -> dns.zone.Zone | None:
        best = None
        for zone in self.zones:
            if qname.is_subdomain(zone.origin) and (
                best is None or len(zone.origin) > len(best.origin)
            ):
                best = zone
        return best

    def exists(self, zone: dns.zone.Zone, qname: dns.name.Name) -> bool:
        # An empty non-terminal (a name with only descendants) exists too (RFC 8020).
        return zone.get_node(qname) is not None or qname in self.names

    def answer(
        self, qname: dns.name.Name, rdtype: int, loop_rcode: int = dns.rcode.SERVFAIL
    ) -> tuple[int, list[dns.rrset.RRset]]:
        """The rcode and answer section for a query, following CNAMEs in the zones; a
        CNAME loop gets ``loop_rcode`` (with the chain as far as it went)."""
        records: list[dns.rrset.RRset] = []
        seen: set[dns.name.Name] = set()
        while qname not in seen:
            seen.add(qname)
            zone = self.zone_for(qname)
            if zone is None:
                return (dns.rcode.NOERROR if records else dns.rcode.REFUSED), records
            node = zone.get_node(qname)
            if node is None:
                rcode = dns.rcode.NOERROR if self.exists(zone, qname) else dns.rcode.NXDOMAIN
                return rcode, records
            rdataset = node.get_rdataset(dns.rdataclass.IN, rdtype)
            if rdataset is not None:
                rrset = dns.rrset.RRset(qname, dns.rdataclass.IN, rdtype)
                rrset.update(rdataset)
                records.append(rrset)
                return dns.rcode.NOERROR, records
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None or rdtype == dns.rdatatype.CNAME:
                return dns.rcode.NOERROR, records
            rrset = dns.rrset.RRset(qname, dns.rdataclass.IN, dns.rdatatype.CNAME)
            rrset.update(cname)
            records.append(rrset)
            qname = cname[0].target
        return loop_rcode, records  # a CNAME loop


class DnsServer:
    """Serve ``zones_dir`` on ``host``:``port`` (0 = a free port), UDP and TCP."""

    def __init__(
        self,
        zones_dir: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 0.0,
        faults: Iterable[Fault] = (),
        fault: str | None = None,
    ) -> None:
        self.zones_dir = Path(zones_dir)
        self.zones = Zones.load(self.zones_dir)
        self.host = host
        self.port = port
        self.delay = delay
        self.fault = fault  # a fault for every query (server-wide), or None
        file_faults = self.zones_dir / "faults"
        self.faults = list(faults) + (
            parse_faults(file_faults.read_text().splitlines()) if file_faults.exists() else []
        )
        self.queries = 0
        self._asked: set[tuple[dns.name.Name, str]] = set()  # for late=SECONDS
        self._cache: dict[tuple[bool, bytes], bytes] = {}
        self.tcp_queries = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def address(self) -> str:
        """``HOST:PORT`` as ``--nameserver`` takes it."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    # -- answering -------------------------------------------------------------

    def _fault_for(self, qname: dns.name.Name, rdtype: str) -> tuple[str | None, float]:
        mode, delay = self.fault, self.delay
        for fault in self.faults:
            if fault.matches(qname, rdtype):
                if fault.mode.startswith("delay="):
                    delay = float(fault.mode.split("=", 1)[1])
                elif fault.mode.startswith("late="):
                    if (qname, rdtype) not in self._asked:
                        self._asked.add((qname, rdtype))
                        delay = float(fault.mode.split("=", 1)[1])
                elif mode is None:
                    mode = fault.mode
        return mode, delay

    def cached(self, wire: bytes, over_tcp: bool) -> bytes | None:
        """A stored answer to the same question (everything after the ID), ID patched.

        Only without faults: answers are then a function of the query bytes alone. This
        keeps the server from being what a benchmark measures (dnspython parsing and
        rendering cost ~0.5 ms per query; a cache hit costs microseconds).
        """
        if self.fault is not None or self.faults or len(wire) < 12:
            return None
        body = self._cache.get((over_tcp, wire[2:]))
        if body is None:
            return None
        self.queries += 1
        if over_tcp:
            self.tcp_queries += 1
        return wire[:2] + body

    async def respond(self, wire: bytes, over_tcp: bool) -> list[bytes]:
        """The messages to send back, in order (none: never answer)."""
        hit = self.cached(wire, over_tcp)
        if hit is not None:
            if self.delay > 0:
                await asyncio.sleep(self.delay)
            return [hit]
        answers = await self._respond(wire, over_tcp)
        if len(answers) == 1 and self.fault is None and not self.faults:
            self._cache[(over_tcp, wire[2:])] = answers[0][2:]
        return answers

    async def _respond(self, wire: bytes, over_tcp: bool) -> list[bytes]:
        self.queries += 1
        if over_tcp:
            self.tcp_queries += 1
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return []
        if not query.question:
            return []
        question = query.question[0]
        rdtype_text = dns.rdatatype.to_text(question.rdtype)
        mode, delay = self._fault_for(question.name, rdtype_text)
        if delay > 0:
            await asyncio.sleep(delay)
        if mode == "timeout":
            return []
        decoy, _, then = (mode or "").partition("+")
        if decoy in ("wrongid", "garbage", "othername"):
            bad = self._decoy(decoy, query)
            return [bad, self._answer(query, None, over_tcp)] if then == "answer" else [bad]
        return [self._answer(query, mode, over_tcp)]

    def _answer(self, query: dns.message.Message, mode: str | None, over_tcp: bool) -> bytes:
        question = query.question[0]
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        if mode in ("servfail", "refused", "nxdomain"):
            rcodes = {"servfail": dns.rcode.SERVFAIL, "refused": dns.rcode.REFUSED}
            response.set_rcode(rcodes.get(mode, dns.rcode.NXDOMAIN))
            return response.to_wire(max_size=65535)
        loop_rcode = dns.rcode.NOERROR if mode == "noerror-loop" else dns.rcode.SERVFAIL
        rcode, answer = self.zones.answer(question.name, question.rdtype, loop_rcode)
        response.set_rcode(rcode)
        if rcode != dns.rcode.REFUSED:
            response.flags |= dns.flags.AA
        response.answer = answer
        if mode == "truncate-tcp":
            if not over_tcp:
                return self._truncated(response)
            # Truncated again: the TC bit, and only the first record of the answer.
            for rrset in response.answer[:1]:
                first = rrset[0]
                rrset.clear()
                rrset.add(first)
            response.answer = response.answer[:1]
            response.flags |= dns.flags.TC
            return response.to_wire(max_size=65535)
        if over_tcp:
            return response.to_wire(max_size=65535)
        limit = max(512, query.payload) if query.edns >= 0 else 512
        if mode in ("truncate", "truncate-tcp"):
            return self._truncated(response)
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            return self._truncated(response)

    def _decoy(self, kind: str, query: dns.message.Message) -> bytes:
        """What a hostile server or an off-path spoofer sends instead of the answer."""
        real = self._answer(query, None, over_tcp=True)
        if kind == "wrongid":
            return struct.pack("!H", query.id ^ 0x5A5A) + real[2:]
        if kind == "garbage":
            # Behind the right ID, so it reaches the query's waiter: bytes that do not
            # parse as DNS (a header claiming records that are not there).
            return (
                struct.pack("!H", query.id)
                + bytes.fromhex("8180 0001 0005 0000 0000")
                + os.urandom(7)
            )
        # othername: a complete, well-formed answer with the right ID, for another name
        other = dns.message.make_query(
            dns.name.Name((b"spoofed", *query.question[0].name.labels)),
            query.question[0].rdtype,
        )
        other.id = query.id
        fake = dns.message.make_response(other)
        rrset = dns.rrset.from_text(other.question[0].name, 300, "IN", "A", "192.0.2.66")
        fake.answer = [rrset] if query.question[0].rdtype == dns.rdatatype.A else []
        return fake.to_wire(max_size=65535)

    @staticmethod
    def _truncated(response: dns.message.Message) -> bytes:
        response.answer = []
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=65535)

    # -- transports ----------------------------------------------------------

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server = self

        class Udp(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport
                self.pending: set[asyncio.Task[None]] = set()

            def datagram_received(self, data: bytes, addr: tuple) -> None:
                if server.delay <= 0:
                    hit = server.cached(data, over_tcp=False)
                    if hit is not None:
                        self.transport.sendto(hit, addr)
                        return
                task = loop.create_task(self.reply(data, addr))
                self.pending.add(task)  # keep a reference until it is done
                task.add_done_callback(self.pending.discard)

            async def reply(self, data: bytes, addr: tuple) -> None:
                for number, wire in enumerate(await server.respond(data, over_tcp=False)):
                    if number:
                        await asyncio.sleep(0.05)  # the decoy first, the answer after
                    if not self.transport.is_closing():
                        self.transport.sendto(wire, addr)

        async def tcp_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    header = await reader.readexactly(2)
                    data = await reader.readexactly(struct.unpack("!H", header)[0])
                    # "timeout": no message; the connection stays open, never answered
                    for wire in await server.respond(data, over_tcp=True):
                        writer.write(struct.pack("!H", len(wire)) + wire)
                        await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        # Bind UDP first (port 0 picks a free port), then TCP on the same port.
        for _ in range(20):
            udp_sock = socket.socket(family, socket.SOCK_DGRAM)
            udp_sock.bind((self.host, self.port))
            port = udp_sock.getsockname()[1]
            try:
                tcp_server = await asyncio.start_server(
                    tcp_client, self.host, port, family=family, reuse_address=True
                )
            except OSError:
                udp_sock.close()
                if self.port:
                    raise
                continue
            break
        else:
            raise OSError("Could not bind UDP and TCP on the same port.")
        self.port = port
        transport, _ = await loop.create_datagram_endpoint(Udp, sock=udp_sock)
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            transport.close()
            tcp_server.close()
            await tcp_server.wait_closed()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as error:  # reported to start()
            self._error = error
            self._ready.set()
        finally:
            loop.close()

    def start(self) -> DnsServer:
        """Run on a daemon thread; returns once the sockets are bound."""
        self._thread = threading.Thread(target=self._run, name="dnsserver", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> DnsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve zone files for tests and benchmarks.")
    parser.add_argument("--zones", required=True, help="directory of NAME.zone files")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5353)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--fault", choices=FAULT_MODES, help="apply to every query")
    args = parser.parse_args(argv)
    server = DnsServer(args.zones, args.host, args.port, args.delay, fault=args.fault)
    print(f"serving {args.zones} on {args.host} port {args.port}", flush=True)
    asyncio.run(server._serve())


if __name__ == "__main__":
    main()
