"""``--nameserver HOST[:PORT]``: parsed without dnspython.

The mail command parses its nameservers before it imports dnspython and asyncio, so
that its first queries can be on the wire while those load (``diagnose.checks.early``).
``diagnose.checks.dnsquery`` re-exports ``parse_nameserver``.
"""

from __future__ import annotations

import ipaddress

from diagnose.exceptions import UsageError
from diagnose.i18n import _


def parse_nameserver(text: str) -> tuple[str, int]:
    """``"HOST[:PORT]"`` as ``(host, port)``; IPv6 as ``[::1]:5353`` (or bare ``::1``).

    HOST must be an IP address: the checks query that server directly. Raises
    ``UsageError`` with a whole sentence for anything else.
    """
    raw = text.strip()
    example = _("give it as HOST[:PORT], for example 127.0.0.1:5353 or [::1]:5353")
    host, port_text = raw, ""
    if raw.startswith("["):
        close = raw.find("]")
        if close < 0:
            raise UsageError(
                _("The nameserver '{text}' has no closing bracket; {example}.").format(
                    text=text, example=example
                )
            )
        host, rest = raw[1:close], raw[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise UsageError(
                    _("The nameserver '{text}' is malformed; {example}.").format(
                        text=text, example=example
                    )
                )
            port_text = rest[1:]
            if not port_text:
                raise UsageError(
                    _("The nameserver '{text}' has an empty port; {example}.").format(
                        text=text, example=example
                    )
                )
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
        if not port_text:
            raise UsageError(
                _("The nameserver '{text}' has an empty port; {example}.").format(
                    text=text, example=example
                )
            )
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise UsageError(
            _("The nameserver '{text}' is not an IP address; {example}.").format(
                text=text, example=example
            )
        ) from None
    port = 53
    if port_text:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise UsageError(
                _(
                    "The nameserver port '{port}' in '{text}' is not a number from 1 to 65535."
                ).format(port=port_text, text=text)
            )
        port = int(port_text)
    return str(address), port
