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
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Iterator
from typing import TypeVar

from diagnose.checks.mail.extras import MailOptions
from diagnose.checks.mail.report import DomainReport
from diagnose.checks.mail.rounds import check_domain_async
from diagnose.checks.results import CheckResult
from diagnose.checks.settings import DnsSettings

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
) -> AsyncIterator[T]:
    """``func`` over ``items``, at most ``concurrency`` at a time, yielding in input order.

    ``items`` is consumed lazily and the window of started-but-unreported items is
    bounded, so memory stays flat for any input length. A slow item at the head holds
    back only the output, not the other lookups (the window is larger than the
    concurrency).
    """
    concurrency = max(1, concurrency)
    gate = asyncio.Semaphore(concurrency)
    window: deque[asyncio.Task[T]] = deque()
    limit = concurrency * 4 + 16

    async def one(item: str) -> T:
        async with gate:
            return await func(item)

    try:
        for item in items:
            window.append(asyncio.ensure_future(one(item)))
            while window and (len(window) >= limit or window[0].done()):
                yield await window.popleft()
            await asyncio.sleep(0)  # let the new task start before reading more input
        while window:
            yield await window.popleft()
    finally:
        for task in window:
            task.cancel()
        if window:
            await asyncio.gather(*window, return_exceptions=True)


def drive(reports: AsyncIterator[T]) -> Iterator[T]:
    """Iterate an async generator from synchronous code, on a private event loop."""
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                yield loop.run_until_complete(reports.__anext__())
            except StopAsyncIteration:
                break
    finally:
        aclose = getattr(reports, "aclose", None)
        if aclose is not None:
            loop.run_until_complete(aclose())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def check_domains_async(
    domains: Iterable[str],
    dns: DnsSettings,
    concurrency: int = DEFAULT_CONCURRENCY,
    options: MailOptions | None = None,
) -> AsyncIterator[DomainReport]:
    """Check many domains, at most ``concurrency`` at a time, yielding in input order."""
    from diagnose.checks.dnsquery import close_resolver, make_resolver

    resolver = make_resolver(dns)
    try:
        async for report in ordered_map(
            domains,
            lambda domain: check_domain_async(domain, dns, resolver=resolver, options=options),
            concurrency,
        ):
            yield report
    finally:
        close_resolver(resolver)


def check_domains(
    domains: Iterable[str],
    dns: DnsSettings,
    concurrency: int = DEFAULT_CONCURRENCY,
    options: MailOptions | None = None,
) -> Iterator[DomainReport]:
    """Synchronous, ordered, streaming form of ``check_domains_async``."""
    return drive(check_domains_async(domains, dns, concurrency, options))


class MailDomainCheck:
    """Live check ``mail-domain``: can the domain (or an address's domain) receive mail?"""

    id = "mail-domain"
    input_types = frozenset({"domain", "email"})
    description = "Checks whether a domain can receive mail (MX, addresses, SPF, DMARC)."

    def run(self, value: str, dns: DnsSettings) -> CheckResult:
        domain = value.rsplit("@", 1)[1] if "@" in value else value
        report = check_domain(domain, dns)
        return CheckResult(
            "mail-domain",
            report.status,
            report.verdict,
            {
                "domain": report.domain,
                "checks": [result.to_dict() for result in report.checks],
                "mx": [host.to_dict() for host in report.mx],
            },
        )
