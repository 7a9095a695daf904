"""MTA-STS, TLS-RPT, DKIM and the SMTP probe, fitted into a domain's rounds.

``start`` is called with round 1: it asks ``_mta-sts`` and ``_smtp._tls`` TXT and the
DKIM selectors' TXT together with MX, TXT and ``_dmarc`` (so no round trip is added
for a domain without MTA-STS), and goes on to the MTA-STS policy host and policy
when there is a record. ``Extras.finish`` is called once the MX hosts and their
addresses are known (round 2): it compares the policy's mx patterns with them and,
with ``--smtp``, probes them. Everything shares the domain's time budget.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from diagnose.checks.mail import dkim, mta_sts, smtp, tls_rpt
from diagnose.checks.results import CheckResult
from diagnose.i18n import _

if TYPE_CHECKING:
    from dns.asyncresolver import Resolver

    from diagnose.checks.dnsquery import Budget, Lookup
    from diagnose.checks.mail.report import MxHost


@dataclass(frozen=True)
class MailOptions:
    """What ``diagnose mail`` adds to the DNS checks.

    ``dkim_selectors``: the selectors whose keys the ``dkim`` check looks up (none: the
    check is skipped). ``smtp``: run the SMTP probe. ``smtp_port`` and
    ``mta_sts_port``: where the probe and the MTA-STS policy fetch connect (25 and 443;
    tests point them at loopback servers).
    """

    dkim_selectors: tuple[str, ...] = ()
    smtp: bool = False
    smtp_port: int = 25
    mta_sts_port: int = 443


class Extras:
    """The new checks of one domain, started in round 1."""

    def __init__(
        self,
        resolver: Resolver,
        name: str,
        budget: Budget,
        options: MailOptions,
        start: Callable[[str, str], asyncio.Future[Lookup]],
    ) -> None:
        """``start(qname, rdtype)`` starts a round-1 lookup the way the round's own
        MX, TXT and ``_dmarc`` lookups are started."""
        self.name = name
        self.budget = budget
        self.options = options
        self.mta_sts = asyncio.ensure_future(
            mta_sts.discover(
                resolver, name, budget, options.mta_sts_port, start(f"_mta-sts.{name}", "TXT")
            )
        )
        self.tls_rpt = start(f"_smtp._tls.{name}", "TXT")
        # Without a selector there is nothing to ask: no task (batches feel each one).
        self.dkim = (
            asyncio.ensure_future(dkim.check_dkim(resolver, name, options.dkim_selectors, budget))
            if options.dkim_selectors
            else None
        )
        self._tasks: tuple[asyncio.Future[Any], ...] = tuple(
            task for task in (self.mta_sts, self.tls_rpt, self.dkim) if task is not None
        )

    async def cancel(self) -> None:
        """The domain does not exist: stop every lookup (``skip_rest`` skips the checks)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def finish(
        self, mx_l: Lookup, hosts: tuple[MxHost, ...] | list[MxHost]
    ) -> list[CheckResult]:
        """The four results, in ``CHECK_IDS`` order, once the MX hosts are known."""
        found = await self.mta_sts
        sts = mta_sts.judge(self.name, found, mx_l, hosts)
        if self.options.smtp and not mx_l.concluded:
            probe = smtp.skipped(True, _("the MX lookup failed"))
        elif self.options.smtp:
            enforced = found.policy is not None and found.policy.mode == "enforce"
            probe = await smtp.check_smtp(hosts, self.options.smtp_port, self.budget, enforced)
        else:
            probe = smtp.skipped(False)
        return [
            sts,
            tls_rpt.check_tls_rpt(self.name, await self.tls_rpt),
            await self.dkim if self.dkim is not None else dkim.skipped(),
            probe,
        ]
