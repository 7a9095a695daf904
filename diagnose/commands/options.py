"""Options shared by several commands."""

from __future__ import annotations

import math
import os
from collections.abc import Callable

import click
from click.decorators import FC

from diagnose.checks.settings import DnsSettings
from diagnose.exceptions import UsageError
from diagnose.i18n import _


class PathParam(click.Path):
    """click.Path that refuses, with a usage error, what no file name can hold: a NUL
    character, or a lone surrogate that stands for no byte (os.stat raises ValueError
    or UnicodeEncodeError on them: a traceback through click.Path)."""

    def convert(
        self,
        value: str | os.PathLike[str],
        param: click.Parameter | None,
        ctx: click.Context | None,
    ) -> str | bytes | os.PathLike[str]:
        if isinstance(value, str) and "\x00" in value:
            self.fail(_("a file name cannot hold a NUL character."), param, ctx)
        try:
            os.fsencode(value)  # a lone surrogate that stands for no byte of a name
        except UnicodeEncodeError:
            self.fail(_("it is not a file name this system can spell."), param, ctx)
        return super().convert(value, param, ctx)


def path_param(*, file_okay: bool = True, dir_okay: bool = True) -> PathParam:
    return PathParam(file_okay=file_okay, dir_okay=dir_okay, path_type=str)


rules_option = click.option(
    "--rules",
    "rules_dir",
    type=path_param(file_okay=False),
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

#: The largest --timeout accepted, in seconds (README: "Mail-domain checks").
MAX_TIMEOUT = 600.0


class TimeoutSeconds(click.ParamType[float, object]):
    """``--timeout``: a finite number of seconds, above 0 and at most ``MAX_TIMEOUT``.

    ``float()`` alone accepts ``nan`` and ``inf``: a NaN budget compares false with
    every deadline, so each lookup waited forever. A bad value is diagnose's own
    ``UsageError``, which the command line prints as one line (exit 2).
    """

    name = "seconds"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float | int) and not isinstance(value, bool):
            number = float(value)
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                raise UsageError(
                    _("--timeout takes a number of seconds, not '{value}'.").format(value=value)
                ) from None
        if not (math.isfinite(number) and 0 < number <= MAX_TIMEOUT):
            raise UsageError(
                _(
                    "--timeout must be a number of seconds above 0 and at most {max}, "
                    "not '{value}'."
                ).format(max=f"{MAX_TIMEOUT:g}", value=value)
            )
        return number


timeout_option = click.option(
    "--timeout",
    type=TimeoutSeconds(),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help=(
        "Time budget for all of one domain's lookups (DNS, the MTA-STS policy, the SMTP "
        f"probe); above 0, at most {MAX_TIMEOUT:g}."
    ),
)


def dns_settings(nameservers: tuple[str, ...], timeout: float) -> DnsSettings:
    """Parse ``--nameserver`` values; a malformed one is a usage error (exit 2)."""
    if not nameservers:
        return DnsSettings((), timeout)
    from diagnose.checks.nameservers import parse_nameserver

    return DnsSettings(tuple(parse_nameserver(value) for value in nameservers), timeout)
