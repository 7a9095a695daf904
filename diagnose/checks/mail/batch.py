"""The entry points: one domain from synchronous code, and batches of many domains.

A batch shares one resolver (and its few UDP sockets) and checks at most
``concurrency`` domains at a time, reporting them in input order as they complete
(``ordered_map``), with memory flat for any length of input. ``drive`` and
``run_sync`` run the asynchronous checks from synchronous code; the email checks
(``diagnose.checks.email``) use them too. ``MailDomainCheck`` is the live check the
knowledge base's rules name (``diagnose.checks.registry``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
)
from typing import TYPE_CHECKING, Any, TypeVar

from diagnose.checks.mail.extras import MailOptions
from diagnose.checks.mail.report import OPT_IN_IDS, RECEIVING, SENDING, DomainReport
from diagnose.checks.mail.rounds import check_domain_async
from diagnose.checks.mail.verdict import group_status, receiving_verdict
from diagnose.checks.results import CheckResult, Status
from diagnose.checks.settings import DnsSettings
from diagnose.i18n import N_

if TYPE_CHECKING:
    from diagnose.checks.early import EarlyQueries

DEFAULT_CONCURRENCY = 50

T = TypeVar("T")


def run_sync(coroutine: Coroutine[object, None, T]) -> T:
    """Run a coroutine to completion, even when the caller is inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def check_domain(domain: str, dns: DnsSettings, options: MailOptions | None = None) -> DomainReport:
    """Check one domain (synchronous wrapper around ``check_domain_async``)."""
    return run_sync(check_domain_async(domain, dns, options=options))


async def ordered_map(
    items: Iterable[str],
    func: Callable[[str], Awaitable[T]],
    concurrency: int = DEFAULT_CONCURRENCY,
) -> AsyncGenerator[T, None]:
    """``func`` over ``items``, at most ``concurrency`` at a time, yielding in input order.

    ``items`` is read on a thread of its own (``_Feed``), so a slow source (a pipe,
    a terminal) never stops the event loop: lookups already started go on, a domain's
    time budget starts when its lookups start (not when it was read), and each result
    is yielded as soon as it and those before it are known, while the next input is
    still awaited. The window of started-but-unreported items is bounded, so memory
    stays flat for any input length; a slow item at the head holds back only the
    output, not the other lookups (the window is larger than the concurrency).
    """
    concurrency = max(1, concurrency)
    gate = asyncio.Semaphore(concurrency)
    limit = concurrency * 4 + 16
    window: deque[asyncio.Task[T]] = deque()
    feed = _Feed(items, asyncio.get_running_loop(), limit)

    async def one(item: str) -> T:
        async with gate:
            return await func(item)

    next_item: asyncio.Task[tuple[str, object]] | None = asyncio.ensure_future(feed.get())
    try:
        while next_item is not None or window:
            while window and window[0].done():
                yield window.popleft().result()
            if next_item is None or len(window) >= limit:
                if window:
                    yield await window.popleft()
                continue
            waiting: set[asyncio.Future[Any]] = {next_item}
            if window:
                waiting.add(window[0])
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if not next_item.done():
                continue
            kind, value = next_item.result()
            if kind == "end":
                next_item = None
            elif kind == "error":
                assert isinstance(value, BaseException)
                raise value
            else:
                assert isinstance(value, str)
                window.append(asyncio.ensure_future(one(value)))
                next_item = asyncio.ensure_future(feed.get())
    finally:
        feed.close()
        pending = [*window, *([next_item] if next_item is not None else [])]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


class _Feed:
    """``items`` read on a daemon thread, at most ``ahead`` items before they are taken.

    A daemon thread, because a read from a terminal or a pipe cannot be interrupted:
    when the batch ends early (Ctrl-C, an error), the process exits without waiting for
    the next line. What the iterator raises (an unreadable file) is raised by ``get``.
    """

    def __init__(self, items: Iterable[str], loop: asyncio.AbstractEventLoop, ahead: int) -> None:
        import threading

        self._loop = loop
        self._queue: asyncio.Queue[tuple[str, object]] = asyncio.Queue()
        self._slots = threading.Semaphore(ahead)
        self._closed = threading.Event()
        self._thread = threading.Thread(
            target=self._read, args=(iter(items),), name="diagnose-input", daemon=True
        )
        self._thread.start()

    def _put(self, kind: str, value: object) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, (kind, value))
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            self._closed.set()

    def _read(self, items: Iterator[str]) -> None:
        try:
            for item in items:
                self._slots.acquire()
                if self._closed.is_set():
                    return
                self._put("item", item)
        except BaseException as error:  # handed to the event loop's side, raised there
            self._put("error", error)
        else:
            self._put("end", None)

    async def get(self) -> tuple[str, object]:
        """The next ("item", text), ("end", None) or ("error", exception)."""
        entry = await self._queue.get()
        if entry[0] == "item":
            self._slots.release()
        return entry

    def close(self) -> None:
        self._closed.set()
        self._slots.release()  # a reader waiting for a slot sees the close and ends


def drive(reports: AsyncIterator[T]) -> Iterator[T]:
    """Iterate an async generator from synchronous code, on a private event loop.

    When the loop is interrupted (Ctrl-C arrives while it waits), the step under way
    is cancelled first, so that the generator's own clean-up runs (its lookups are
    cancelled, its sockets closed) and nothing is left pending.
    """
    loop = asyncio.new_event_loop()
    step: asyncio.Future[T] | None = None
    try:
        while True:
            step = asyncio.ensure_future(reports.__anext__(), loop=loop)
            try:
                yield loop.run_until_complete(step)
            except StopAsyncIteration:
                break
    finally:
        try:
            if step is not None and not step.done():
                step.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    loop.run_until_complete(step)
            aclose = getattr(reports, "aclose", None)
            if aclose is not None:
                # "already running" when an interrupt left the generator mid-step; the
                # tasks' cancellation below then ends it.
                with contextlib.suppress(RuntimeError):
                    loop.run_until_complete(aclose())
        finally:
            _cancel_all(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel whatever is still running on ``loop`` (as ``asyncio.run`` does) and let
    it finish: an interrupt can leave lookups and checks half-way, and a task left
    pending when the loop closes is a warning on stderr."""
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


async def check_domains_async(
    domains: Iterable[str],
    dns: DnsSettings,
    concurrency: int = DEFAULT_CONCURRENCY,
    options: MailOptions | None = None,
    early: EarlyQueries | None = None,
) -> AsyncIterator[DomainReport]:
    """Check many domains, at most ``concurrency`` at a time, yielding in input order;
    ``early`` holds queries already sent (``diagnose.checks.early``), which the resolver
    answers from when it can (closed here when the batch ends)."""
    from diagnose.checks.dnsquery import close_resolver, make_resolver

    try:
        resolver = make_resolver(dns)
        if early is not None:
            early.attach(resolver)
        # aclosing: when the reader stops early (a closed pipe, Ctrl-C), the window of
        # lookups is cancelled here and now, not by a finalizer task that outlives the
        # loop ("Task was destroyed but it is pending!" at exit).
        try:
            async with contextlib.aclosing(
                ordered_map(
                    domains,
                    lambda domain: check_domain_async(
                        domain, dns, resolver=resolver, options=options
                    ),
                    concurrency,
                )
            ) as reports:
                async for report in reports:
                    yield report
        finally:
            close_resolver(resolver)
    finally:
        if early is not None:
            early.close()


def check_domains(
    domains: Iterable[str],
    dns: DnsSettings,
    concurrency: int = DEFAULT_CONCURRENCY,
    options: MailOptions | None = None,
    early: EarlyQueries | None = None,
) -> Iterator[DomainReport]:
    """Synchronous, ordered, streaming form of ``check_domains_async``."""
    return drive(check_domains_async(domains, dns, concurrency, options, early))


class MailDomainCheck:
    """Live check ``mail-domain``: can the domain (or an address's domain) receive mail?

    Its status is the receiving group's alone (``receiving_verdict``): the rules that
    say "your domain cannot receive mail" or "could not be checked" see only what
    decides whether mail arrives. SPF and DMARC findings are a note in the message
    (and make a pass a warn); every sub-check is still listed under ``checks``, but
    for the opt-in ones (DKIM, the SMTP probe): a consultation has no option to ask for
    them, so their skip, which tells how to, would be advice nobody can follow.
    """

    id = "mail-domain"
    input_types = frozenset({"domain", "email"})
    description = N_(
        "Checks whether a domain can receive mail (MX and its hosts); "
        "SPF and DMARC findings are a note."
    )

    def run(self, value: str, dns: DnsSettings) -> CheckResult:
        domain = value.rsplit("@", 1)[1] if "@" in value else value
        report = check_domain(domain, dns)
        status, message = receiving_verdict(report.domain, report.checks)
        return CheckResult(
            "mail-domain",
            status,
            message,
            {
                "domain": report.domain,
                "receiving": str(group_status(report.checks, RECEIVING)),
                "sending": str(group_status(report.checks, SENDING)),
                "checks": [
                    result.to_dict()
                    for result in report.checks
                    if not (result.id in OPT_IN_IDS and result.status is Status.SKIP)
                ],
                "mx": [host.to_dict() for host in report.mx],
            },
        )
