"""``diagnose email ADDRESS...``: is the address valid, and can its domain receive mail?"""

from __future__ import annotations

import click

from diagnose.commands.mail import check_options, dns_options, mail_options
from diagnose.commands.options import dns_settings


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
    from diagnose.render_mail import emit, inputs

    settings = dns_settings(nameservers, timeout)
    options = mail_options(dkim_selectors, smtp, smtp_port, mta_sts_port)
    names, total = inputs(addresses, from_file, "email address")
    ctx.exit(emit(check_emails(names, settings, concurrency, options), output_format, total))
