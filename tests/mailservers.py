"""Loopback servers for the MTA-STS policy fetch and the SMTP probe (tests only).

- ``PolicyServer``: HTTPS on one address and port, answering by the Host header with
  the response ``POLICIES`` holds for that name (a policy, a 404, a redirect, ...).
- ``start_smtp``: aiosmtpd servers (with or without STARTTLS, with a given certificate),
  and ``RawServer`` for what aiosmtpd will not do (a 554 greeting, no greeting).

Every server binds a 127.0.0.0/8 address; several share one port on different
addresses, because the checks take one port (``--mta-sts-port``, ``--smtp-port``)
and the addresses come from the DNS answers (tests/zones/transport/lab.zone).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GOOD = "version: STSv1\nmode: enforce\nmx: {mx}\nmax_age: 604800\n"

#: Host -> (status, headers, body); the body may be a callable for odd framings.
POLICIES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "mta-sts.stsok.lab": (
        200,
        {"Content-Type": "text/plain; charset=utf-8"},
        b"version: STSv1\r\nmode: enforce\r\nmx: *.stsok.lab\r\nmax_age: 1209600\r\n",
    ),
    "mta-sts.stsmiss.lab": (
        200,
        {"Content-Type": "text/plain"},
        GOOD.format(mx="mx.stsmiss.lab").encode(),
    ),
    "mta-sts.ststesting.lab": (
        200,
        {"Content-Type": "text/plain"},
        b"version: STSv1\nmode: testing\nmx: mx.ststesting.lab\nmax_age: 604800\n",
    ),
    "mta-sts.stsshort.lab": (
        200,
        {"Content-Type": "text/plain"},
        b"version: STSv1\nmode: enforce\nmx: mx.stsshort.lab\nmax_age: 300\n",
    ),
    "mta-sts.stsmodenone.lab": (
        200,
        {"Content-Type": "text/plain"},
        b"version: STSv1\nmode: none\nmax_age: 86400\n",
    ),
    "mta-sts.sts404.lab": (404, {"Content-Type": "text/html"}, b"<h1>Not found</h1>"),
    "mta-sts.stsredirect.lab": (
        301,
        {"Location": "https://elsewhere.lab/.well-known/mta-sts.txt"},
        b"",
    ),
    "mta-sts.ststype.lab": (
        200,
        {"Content-Type": "text/html"},
        GOOD.format(mx="mx.stsnone.lab").encode(),
    ),
    "mta-sts.stsbig.lab": (
        200,
        {"Content-Type": "text/plain"},
        GOOD.format(mx="mx.stsnone.lab").encode() + b"x-padding: " + b"a" * 70_000 + b"\n",
    ),
    "mta-sts.stsbadpolicy.lab": (
        200,
        {"Content-Type": "text/plain"},
        b"version: STSv1\nmode: maybe\nmx: mx.stsnone.lab\nmax_age: 604800\n",
    ),
    "mta-sts.stsmxerr.lab": (
        200,
        {"Content-Type": "text/plain"},
        GOOD.format(mx="mx.stsmxerr.lab").encode(),
    ),
    "mta-sts.smtpsts.lab": (
        200,
        {"Content-Type": "text/plain"},
        GOOD.format(mx="mx.smtpplain.lab").encode(),
    ),
}
#: Served with chunked transfer coding (RFC 9112 §7.1) instead of Content-Length.
CHUNKED = {
    "mta-sts.stschunked.lab": b"version: STSv1\nmode: enforce\nmx: mx.stschunked.lab\nmax_age: 604800\n"
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        self.server.requests.append((host, self.path))  # type: ignore[attr-defined]
        if self.path != "/.well-known/mta-sts.txt":
            self.send_error(404)
            return
        if host in CHUNKED:
            body = CHUNKED[host]
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            half = len(body) // 2
            for part in (body[:half], body[half:]):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        status, headers, body = POLICIES.get(host, (404, {"Content-Type": "text/plain"}, b""))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-body (diagnose does, past its size limit) is what
        the tests ask for, not an error: socketserver's default prints a traceback onto
        whichever test's stderr is being captured at that moment."""
        import sys

        if not isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class PolicyServer:
    """An HTTPS server on ``host``:``port`` with ``context`` (its certificate)."""

    def __init__(self, host: str, port: int, context: ssl.SSLContext) -> None:
        self.httpd = _QuietServer((host, port), _Handler)
        self.httpd.requests = []  # type: ignore[attr-defined]
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def requests(self) -> list[tuple[str, str]]:
        return self.httpd.requests  # type: ignore[attr-defined,no-any-return]

    def start(self) -> PolicyServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RawServer:
    """A TCP server whose every connection is handled by ``talk(socket)`` on a thread."""

    def __init__(self, host: str, port: int, talk: Callable[[socket.socket], None]) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(8)
        self.talk = talk
        self.open: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.open.append(conn)
            threading.Thread(target=self.talk, args=(conn,), daemon=True).start()

    def start(self) -> RawServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        for conn in self.open:
            conn.close()
        self.sock.close()


def refuse_mail(conn: socket.socket) -> None:
    """RFC 5321 §3.1: 554 instead of the 220 greeting ("no SMTP service here")."""
    try:
        conn.sendall(b"554 mx.smtp554.lab no mail here\r\n")
        conn.recv(1024)  # QUIT, or the close
    except OSError:
        pass
    finally:
        conn.close()


def never_greet(conn: socket.socket) -> None:
    """Accept and say nothing (a tarpit, or a greeting delayed past the budget)."""
    with contextlib.suppress(OSError):
        conn.recv(1024)


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
