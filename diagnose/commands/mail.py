"""``diagnose mail DOMAIN...``: can these domains receive mail?

Thin: parses options, wires them to ``diagnose.checks.mail`` and renders. dnspython,
email-validator and rich are imported inside the command, never at CLI start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from diagnose.cli import exit_without_cleanup
from diagnose.commands.options import (
    dns_settings,
    format_option,
    nameserver_option,
    path_param,
    timeout_option,
)
from diagnose.i18n import _

if TYPE_CHECKING:
    from diagnose.checks.mail.extras import MailOptions

DEFAULT_CONCURRENCY = 50


def dns_options(function: click.decorators.FC) -> click.decorators.FC:
    """The options ``mail`` and ``email`` share."""
    options = [
        nameserver_option,
        timeout_option,
        format_option(help="text for people; json for JSON Lines, one object per input."),
        click.option(
            "--from-file",
            type=path_param(dir_okay=False),
            metavar="FILE",
            help="Read inputs from FILE, one a line (- for stdin; # starts a comment).",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(min=1, max=10000),
            default=DEFAULT_CONCURRENCY,
            show_default=True,
            metavar="N",
            help="How many inputs are checked at once.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


# Where the SMTP probe and the MTA-STS policy fetch connect. Hidden: they exist so that
# tests (and a lab) can point them at loopback servers on unprivileged ports; the
# addresses still come only from the DNS answers.
_port = click.IntRange(min=1, max=65535)


def check_options(function: click.decorators.FC) -> click.decorators.FC:
    """The options of the checks beyond DNS that ``mail`` and ``email`` share."""
    options = [
        click.option(
            "--dkim-selector",
            "dkim_selectors",
            multiple=True,
            metavar="S",
            help="Check the DKIM key at S._domainkey.DOMAIN (repeatable; S is the s= of "
            "a DKIM-Signature header).",
        ),
        click.option(
            "--smtp",
            is_flag=True,
            help="Also connect to each MX address on port 25: greeting, EHLO, STARTTLS, "
            "certificate (never sends a letter).",
        ),
        click.option("--smtp-port", type=_port, default=25, hidden=True),
        click.option("--mta-sts-port", type=_port, default=443, hidden=True),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def checked_selectors(dkim_selectors: tuple[str, ...]) -> tuple[str, ...]:
    """The ``--dkim-selector`` values, checked, lower-cased and without repeats; a
    malformed one is a usage error (exit 2). Light (no asyncio), so that ``mail``
    refuses one before its first queries leave."""
    from diagnose.checks.names import parse_selector

    return tuple(dict.fromkeys(parse_selector(text) for text in dkim_selectors))


def mail_options(
    selectors: tuple[str, ...], smtp: bool, smtp_port: int, mta_sts_port: int
) -> MailOptions:
    """``check_options`` as the checks take them (``selectors`` from ``checked_selectors``)."""
    from diagnose.checks.mail.extras import MailOptions

    return MailOptions(selectors, smtp, smtp_port, mta_sts_port)


@click.command()
@click.argument("domains", nargs=-1, metavar="DOMAIN...")
@dns_options
@check_options
@click.pass_context
def mail(
    ctx: click.Context,
    domains: tuple[str, ...],
    nameservers: tuple[str, ...],
    timeout: float,
    output_format: str,
    from_file: str | None,
    concurrency: int,
    dkim_selectors: tuple[str, ...],
    smtp: bool,
    smtp_port: int,
    mta_sts_port: int,
) -> None:
    """Check whether mail domains can receive mail: MX records, their hosts and
    addresses, null MX, MTA-STS, TLS-RPT, SPF, DMARC, and DKIM keys by selector.

    Exit status: 0 every domain passes or only warns, 1 a check failed, 3 nothing
    failed but a lookup was undetermined (timeout, SERVFAIL), 2 usage error.
    """
    import gc

    # Importing asyncio and dnspython makes tens of thousands of objects and no garbage:
    # the cyclic collector, run again and again meanwhile, only costs time (about a
    # fifth of the imports). It is on again before the first check runs.
    collecting = gc.isenabled()
    gc.disable()
    try:
        from diagnose.checks.early import EarlyQueries

        settings = dns_settings(nameservers, timeout)
        selectors = checked_selectors(dkim_selectors)  # before any query leaves
        # The first domain's round 1 goes out now, and its answers arrive while the rest
        # (asyncio, dnspython) is imported: see diagnose.checks.early.
        early = EarlyQueries.start(settings, domains[0]) if domains else None
        try:
            options = mail_options(selectors, smtp, smtp_port, mta_sts_port)
            from diagnose.render_mail import emit, inputs

            missing = _("Give at least one domain, or --from-file FILE (- for stdin).")
            names, total = inputs(domains, from_file, missing)
        except BaseException:
            if early is not None:
                early.close()
            raise
        from diagnose.checks.mail import check_domains
    finally:
        if collecting:
            gc.enable()

    code = emit(check_domains(names, settings, concurrency, options, early), output_format, total)
    exit_without_cleanup()
    ctx.exit(code)
