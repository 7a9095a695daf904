"""Can a domain receive mail? The mail-domain checks (the core never prints).

The pipeline, one module each, in the order a domain goes through it:

- ``rounds``: the name (domain-syntax), then the DNS query rounds and domain-exists;
- ``mx``: MX records, null MX (RFC 7505), implicit MX (RFC 5321 §5.1), MX targets;
- ``spf``: the SPF record and its include/redirect walk (RFC 7208);
- ``dmarc``: the DMARC record and its policy (RFC 7489);
- ``verdict``: the overall status and the one-line verdict;
- ``report``: the check ids and the result types every step builds;
- ``batch``: the synchronous and batch entry points, and the live check.

Public API (the engine and the commands call these): ``check_domain``,
``check_domain_async``, ``check_domains``, ``check_domains_async``,
``MailDomainCheck``. Importing the package loads no dnspython: the lookups import it
when a check runs.
"""

from __future__ import annotations

from diagnose.checks.mail.batch import (
    DEFAULT_CONCURRENCY,
    MailDomainCheck,
    check_domain,
    check_domains,
    check_domains_async,
    drive,
    ordered_map,
    run_sync,
)
from diagnose.checks.mail.report import CHECK_IDS, RECEIVING_IDS, DomainReport, MxHost
from diagnose.checks.mail.rounds import check_domain_async
from diagnose.checks.mail.verdict import verdict_for

__all__ = [
    "CHECK_IDS",
    "DEFAULT_CONCURRENCY",
    "RECEIVING_IDS",
    "DomainReport",
    "MailDomainCheck",
    "MxHost",
    "check_domain",
    "check_domain_async",
    "check_domains",
    "check_domains_async",
    "drive",
    "ordered_map",
    "run_sync",
    "verdict_for",
]
