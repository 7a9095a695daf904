"""One domain, start to finish: the name, then the DNS query rounds.

One domain costs about two DNS round trips. Round 1 asks for MX, TXT (SPF) and
``_dmarc`` TXT (DMARC) at once. Round 2 starts as soon as the MX answer is in,
without waiting for the TXT answers: every MX target's A and AAAA at once
(``mx.check_targets``), or, with no MX record, the domain's own A/AAAA (the implicit
MX of RFC 5321 §5.1). SPF include/redirect chains add rounds only when the record
has them (``spf.check_spf``, started as soon as TXT is in), each level's lookups
again at once; so does DMARC's tree walk (``dmarc.check_dmarc``, RFC 9989 §4.10),
only for a domain without a record of its own, all its parents at once. After an
NXDOMAIN, one more query checks that the servers resolve the top-level domain.
Every lookup shares one time budget per domain
(``DnsSettings.timeout``), and a lookup that runs out of it is undetermined (status
error), never "missing".

dnspython is imported (through ``diagnose.checks.dnsquery``) only when a check runs.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from diagnose.checks.mail.dmarc import check_dmarc
from diagnose.checks.mail.extras import Extras, MailOptions
from diagnose.checks.mail.mx import check_targets, judge_mx, mx_targets, targets_skipped
from diagnose.checks.mail.report import CHECK_IDS, DomainReport, MxHost, make_result, skip_rest
from diagnose.checks.mail.spf import check_spf
from diagnose.checks.mail.verdict import conclude
from diagnose.checks.names import DomainSyntaxError, normalize_domain
from diagnose.checks.results import CheckResult, Status
from diagnose.checks.settings import DnsSettings
from diagnose.exceptions import DiagnoseError
from diagnose.i18n import _

if TYPE_CHECKING:
    from dns.asyncresolver import Resolver

    from diagnose.checks.dnsquery import Budget, Lookup


async def check_domain_async(
    domain: str,
    dns: DnsSettings,
    *,
    resolver: Resolver | None = None,
    options: MailOptions | None = None,
) -> DomainReport:
    """Check one domain; ``resolver`` (from ``make_resolver``) may be shared by a batch;
    ``options``: DKIM selectors, the SMTP probe (``extras.MailOptions``).

    Never raises for anything about the domain or the network: a defect found on the
    way is reported as undetermined checks rather than ending a whole batch.
    """
    from diagnose.checks.dnsquery import close_resolver, make_resolver

    own = resolver is None
    try:
        if resolver is None:
            resolver = make_resolver(dns)
        return await _check_domain(domain, dns, resolver, options or MailOptions())
    except (asyncio.CancelledError, DiagnoseError):
        raise  # DiagnoseError: no resolver at all, which is the caller's to report
    except Exception as error:  # a bug; the batch goes on, and the report says so
        shown = domain.strip().lower().rstrip(".")
        message = _(
            "The check could not be completed because of an internal error: {error}."
        ).format(error=repr(error))
        checks = [make_result(cid, Status.ERROR, message) for cid in CHECK_IDS]
        return conclude(domain, shown, checks, ())
    finally:
        if own and resolver is not None:
            close_resolver(resolver)


async def _check_domain(
    domain: str, dns: DnsSettings, resolver: Resolver, options: MailOptions
) -> DomainReport:
    from diagnose.checks import dnsquery

    try:
        name = normalize_domain(domain)
    except DomainSyntaxError as error:
        shown = domain.strip().lower().rstrip(".")
        checks = skip_rest(
            [make_result("domain-syntax", Status.FAIL, str(error))],
            _("Skipped: the domain name is not valid."),
        )
        return conclude(domain, shown, checks, ())
    budget = dnsquery.Budget(dns.timeout)
    valid = _("{name} is a valid domain name.").format(name=name)
    checks = [make_result("domain-syntax", Status.PASS, valid)]

    # Round 1: MX, TXT (SPF) and _dmarc TXT, at once. Round 2 (below) starts as soon
    # as the MX answer is in, without waiting for the TXT answers; SPF includes are
    # walked as soon as TXT is in.
    def start(qname: str, rdtype: str) -> asyncio.Future[Lookup]:
        return asyncio.ensure_future(dnsquery.lookup(resolver, qname, rdtype, budget))

    mx_t, txt_t, dmarc_t = start(name, "MX"), start(name, "TXT"), start(f"_dmarc.{name}", "TXT")
    spf_t = asyncio.ensure_future(check_spf(resolver, name, txt_t, budget, mx_t))
    # DMARC: the domain's own record, else the tree walk (RFC 9989 §4.10), started as
    # soon as _dmarc TXT is in, alongside round 2.
    dmarc_c = asyncio.ensure_future(check_dmarc(resolver, name, dmarc_t, budget))
    extras = Extras(resolver, name, budget, options, start)  # MTA-STS, TLS-RPT, DKIM: round 1
    mx_l = await mx_t
    Outcome = dnsquery.Outcome
    a_l: Lookup | None = None
    aaaa_l: Lookup | None = None
    if mx_l.outcome is Outcome.NXDOMAIN:
        for task in (txt_t, dmarc_t, spf_t, dmarc_c):
            task.cancel()
        await asyncio.gather(
            txt_t, dmarc_t, spf_t, dmarc_c, extras.cancel(), return_exceptions=True
        )
        txt_l = mx_l
        targets_t = asyncio.ensure_future(_no_targets())
    else:
        # Round 2 starts as soon as the MX answer is in: the MX targets' addresses, or,
        # with no MX (NODATA), the domain's own A/AAAA for the implicit MX (RFC 5321
        # §5.1). Either way one round trip after the first, and the domain's own
        # addresses are asked only when they matter.
        targets_t = asyncio.ensure_future(check_targets(resolver, name, mx_targets(mx_l), budget))
        if mx_l.outcome is Outcome.NODATA:
            a_l, aaaa_l = await asyncio.gather(start(name, "A"), start(name, "AAAA"))
        txt_l = await txt_t
    on_domain = [mx_l, txt_l, *(item for item in (a_l, aaaa_l) if item is not None)]
    if any(item.outcome is Outcome.NXDOMAIN for item in on_domain):
        for pending in (spf_t, targets_t, dmarc_c):
            pending.cancel()
        doubt = await _resolver_doubt(resolver, name, budget)
        await asyncio.gather(spf_t, targets_t, dmarc_c, extras.cancel(), return_exceptions=True)
        if doubt:
            checks.append(make_result("domain-exists", Status.ERROR, doubt))
            why = _("Skipped: whether the domain exists is undetermined.")
            return conclude(domain, name, skip_rest(checks, why), ())
        missing = _("{name} does not exist in the DNS (NXDOMAIN).").format(name=name)
        checks.append(make_result("domain-exists", Status.FAIL, missing))
        skipped = skip_rest(checks, _("Skipped: the domain does not exist."))
        return conclude(domain, name, skipped, ())
    if any(item.concluded for item in on_domain):
        exists = _("{name} exists in the DNS.").format(name=name)
        checks.append(make_result("domain-exists", Status.PASS, exists))
    else:
        checks.append(
            make_result(
                "domain-exists",
                Status.ERROR,
                _("Could not tell whether {name} exists: {reason}").format(
                    name=name, reason=mx_l.reason
                ),
            )
        )
    mx_checks, mx_hosts = judge_mx(name, mx_l, a_l, aaaa_l)
    checks.extend(mx_checks)
    target_results, mx_hosts_found = await targets_t
    spf_result = await spf_t
    if mx_l.outcome is Outcome.OK:
        mx_hosts = mx_hosts_found
        checks.extend(target_results)
    else:
        checks.extend(targets_skipped(mx_l))
    checks.append(spf_result)
    checks.append(await dmarc_c)
    checks.extend(await extras.finish(mx_l, mx_hosts))
    return conclude(domain, name, checks, tuple(mx_hosts))


async def _resolver_doubt(resolver: Resolver, name: str, budget: Budget) -> str:
    """Why an NXDOMAIN for ``name`` cannot be trusted, or "" when it can.

    A resolver that says every name does not exist (a captive portal, a filtering
    resolver, a misconfigured forwarder) would make every domain "non-existent". So
    before calling a domain non-existent, its top-level domain (the root for a
    one-label name) must resolve through the same servers: a TLD always has an SOA
    record at its apex (RFC 1035 §5.2, RFC 2181 §6.1). If it does not, the NXDOMAIN
    is undetermined, never a fact. This costs one round trip, only after an NXDOMAIN.
    """
    from diagnose.checks import dnsquery

    labels = name.split(".")
    tld = labels[-1] if len(labels) > 1 else "."
    sanity = await dnsquery.lookup(resolver, tld, "SOA", budget)
    if sanity.outcome is dnsquery.Outcome.OK:
        return ""
    shown = _("the DNS root") if tld == "." else _("its top-level domain {tld}").format(tld=tld)
    reason = (
        _("it said that does not exist too")
        if sanity.outcome is dnsquery.Outcome.NXDOMAIN
        else _lower_first(sanity.reason or _("it gave no SOA record for it.")).rstrip(".")
    )
    return _(
        "The DNS server said {name} does not exist (NXDOMAIN), but it could not resolve "
        "{shown} either ({reason}), so its answer cannot be trusted."
    ).format(name=name, shown=shown, reason=reason)


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:] if len(text) > 1 and text[1].islower() else text


async def _no_targets() -> tuple[list[CheckResult], list[MxHost]]:
    """Round 2 when the domain does not exist: nothing to ask."""
    return [], []
