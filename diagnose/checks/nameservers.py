"""``--nameserver HOST[:PORT]``: parsed without dnspython.

The mail command parses its nameservers before it imports dnspython and asyncio, so
that its first queries can be on the wire while those load (``diagnose.checks.early``).
``diagnose.checks.dnsquery`` re-exports ``parse_nameserver``.
"""

from __future__ import annotations

import ipaddress

from diagnose.exceptions import UsageError


def parse_nameserver(text: str) -> tuple[str, int]:
    """``"HOST[:PORT]"`` as ``(host, port)``; IPv6 as ``[::1]:5353`` (or bare ``::1``).

    HOST must be an IP address: the checks query that server directly. Raises
    ``UsageError`` with a whole sentence for anything else.
    """
    raw = text.strip()
    example = "give it as HOST[:PORT], for example 127.0.0.1:5353 or [::1]:5353"
    host, port_text = raw, ""
    if raw.startswith("["):
        close = raw.find("]")
        if close < 0:
            raise UsageError(f"The nameserver '{text}' has no closing bracket; {example}.")
        host, rest = raw[1:close], raw[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise UsageError(f"The nameserver '{text}' is malformed; {example}.")
            port_text = rest[1:]
            if not port_text:
                raise UsageError(f"The nameserver '{text}' has an empty port; {example}.")
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
        if not port_text:
            raise UsageError(f"The nameserver '{text}' has an empty port; {example}.")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise UsageError(f"The nameserver '{text}' is not an IP address; {example}.") from None
    port = 53
    if port_text:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise UsageError(
                f"The nameserver port '{port_text}' in '{text}' is not a number from 1 to 65535."
            )
        port = int(port_text)
    return str(address), port
