"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable

import click
from click.decorators import FC

from diagnose.checks.settings import DnsSettings

rules_option = click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Knowledge-base directory to use instead of the built-in one.",
)


def format_option(default: str = "text", help: str = "Output format.") -> Callable[[FC], FC]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default=default,
        show_default=True,
        help=help,
    )


nameserver_option = click.option(
    "--nameserver",
    "nameservers",
    multiple=True,
    metavar="HOST[:PORT]",
    help="DNS server to query (repeatable; IPv6 as [::1]:5353). Default: the system resolver.",
)

timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=600),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="Time budget for all of one domain's lookups (DNS, the MTA-STS policy, the SMTP probe).",
)


def dns_settings(nameservers: tuple[str, ...], timeout: float) -> DnsSettings:
    """Parse ``--nameserver`` values; a malformed one is a usage error (exit 2)."""
    if not nameservers:
        return DnsSettings((), timeout)
    from diagnose.checks.dnsquery import parse_nameserver

    return DnsSettings(tuple(parse_nameserver(value) for value in nameservers), timeout)
