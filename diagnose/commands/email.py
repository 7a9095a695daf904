"""``diagnose email ADDRESS...``: is the address valid, and can its domain receive mail?"""

from __future__ import annotations

import click

from diagnose.commands.mail import check_options, checked_selectors, dns_options, mail_options
from diagnose.commands.options import dns_settings
from diagnose.i18n import _


@click.command()
@click.argument("addresses", nargs=-1, metavar="ADDRESS...")
@dns_options
@check_options
@click.pass_context
def email(
    ctx: click.Context,
    addresses: tuple[str, ...],
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
    """Check an email address: its syntax (normalized), then whether its domain can
    receive mail. Same exit status as `diagnose mail`.
    """
    from diagnose.checks.email import check_emails
    from diagnose.render_mail import addresses_checked, emit, inputs

    settings = dns_settings(nameservers, timeout)
    options = mail_options(checked_selectors(dkim_selectors), smtp, smtp_port, mta_sts_port)
    missing = _("Give at least one email address, or --from-file FILE (- for stdin).")
    names, total = inputs(addresses, from_file, missing)
    reports = check_emails(names, settings, concurrency, options)
    ctx.exit(emit(reports, output_format, total, addresses_checked))
