"""Where live checks send their DNS queries, and how long they may take."""

from __future__ import annotations

from typing import NamedTuple


class DnsSettings(NamedTuple):
    """DNS servers to query, as (host, port) pairs; empty means the system resolver.

    ``timeout`` is the whole time budget, in seconds, for one domain's lookups.
    Checks never send traffic anywhere but these servers (or the system resolver).
    """

    nameservers: tuple[tuple[str, int], ...] = ()
    timeout: float = 5.0
