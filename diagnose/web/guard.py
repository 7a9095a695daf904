"""What keeps the server safe to put on the internet, as one ASGI middleware and a
limiter: security headers, the request size limit, an access log without answers, no
traceback in any response, and the live checks' bounds (at once, and per client).

Pure ASGI rather than Starlette's BaseHTTPMiddleware: it adds no task per request and
it sees the body as it arrives, so a body over the limit is refused before it is read.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from diagnose import i18n
from diagnose.i18n import _

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The largest request body accepted (a consultation's state is a few kilobytes).
MAX_BODY = 64 * 1024

#: No inline script or style anywhere: the page's one script and one stylesheet are
#: files under /static. Forms post only to this site; nothing may frame the page.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # A deep link's query string holds answers: it must not leak to other sites.
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]

access_log = logging.getLogger("diagnose.access")
error_log = logging.getLogger("diagnose.web")


class BodyTooLarge(Exception):
    """Raised inside the app when the body grows past the limit while it is read."""


def _json(status: int, message: str) -> tuple[int, bytes, bytes]:
    body = json.dumps({"error": message}, ensure_ascii=False).encode()
    return status, body, b"application/json"


class Guard:
    """The outermost middleware of the app."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 0
        response_started = False

        async def send_guarded(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in {name for name, _ in HEADERS}
                ]
                message["headers"] = [*headers, *HEADERS]
            await send(message)

        length = _content_length(scope)
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge
            return message

        try:
            if length is not None and length > self.max_body:
                with i18n.speaking(request_language(scope)):
                    refused = _too_large(self.max_body)
                await _respond(send_guarded, *refused)
            else:
                await self.app(scope, receive_limited, send_guarded)
        except BodyTooLarge:
            if not response_started:
                with i18n.speaking(request_language(scope)):
                    refused = _too_large(self.max_body)
                await _respond(send_guarded, *refused)
        except Exception as error:
            # The class only: a message could quote what the person typed.
            error_log.error("internal error on %s: %s", scope.get("path"), type(error).__name__)
            if not response_started:
                with i18n.speaking(request_language(scope)):
                    message = _("Something went wrong on the server; please try again later.")
                await _respond(send_guarded, *_json(500, message))
        finally:
            # The path only, never the query string: a deep link's query holds answers.
            client = scope.get("client") or ("-", 0)
            access_log.info(
                '%s "%s %s" %d %.1fms',
                client[0],
                scope.get("method", "-"),
                scope.get("path", "-"),
                status,
                (time.monotonic() - started) * 1000,
            )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large(limit: int) -> tuple[int, bytes, bytes]:
    return _json(413, _("The request is larger than {n} KB.").format(n=limit // 1024))


def request_language(scope: Scope) -> str:
    """The language a request's errors are told in, known before its body is read:
    ``?lang=``, then the ``lang`` cookie, then Accept-Language, then English, as the
    page chooses its own (``diagnose.web.app.language``). A request refused for its
    size, or one the server failed, never gets as far as a ``lang`` in its body."""
    from starlette.requests import Request

    from diagnose.web.app import language

    request = Request(scope)
    try:
        return language(request, request.query_params.get("lang"))[0]
    except Exception:  # a header or a query string too broken to read: English
        return i18n.DEFAULT


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type + b"; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class TooManyChecks(Exception):
    """A live check refused: too many at once, or too many from one client a minute."""


class Limiter:
    """Live checks: at most ``at_once`` running in this process, and at most
    ``per_minute`` started by one client address in any 60 seconds (0: no limit).

    In memory, per worker process: with several workers or machines behind a load
    balancer, each bounds its own share (README: "Web page and API").
    """

    WINDOW = 60.0

    def __init__(self, per_minute: int, at_once: int) -> None:
        self.per_minute = per_minute
        self.at_once = at_once
        self.running = 0
        self._hits: dict[str, deque[float]] = {}

    def acquire(self, client: str) -> None:
        """Count one check for ``client``, or raise TooManyChecks with a sentence."""
        now = time.monotonic()
        if self.running >= self.at_once:
            raise TooManyChecks(
                _(
                    "The server is running as many live checks as it can; please try "
                    "again in a few seconds."
                )
            )
        if self.per_minute:
            hits = self._hits.setdefault(client, deque())
            while hits and now - hits[0] >= self.WINDOW:
                hits.popleft()
            if len(hits) >= self.per_minute:
                raise TooManyChecks(
                    _(
                        "Too many live checks from your address: at most {n} a minute. "
                        "Please wait a minute and try again."
                    ).format(n=self.per_minute)
                )
            hits.append(now)
            if len(self._hits) > 10_000:
                self._forget(now)
        self.running += 1

    def release(self) -> None:
        self.running -= 1

    def _forget(self, now: float) -> None:
        # Bounded memory: drop the clients with no check in the last minute.
        for client in [c for c, h in self._hits.items() if not h or now - h[-1] >= self.WINDOW]:
            del self._hits[client]
