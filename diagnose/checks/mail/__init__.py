"""Can a domain receive mail? The mail-domain checks (the core never prints).

The pipeline, one module each, in the order a domain goes through it:

- ``rounds``: the name (domain-syntax), then the DNS query rounds and domain-exists;
- ``mx``: MX records, null MX (RFC 7505), implicit MX (RFC 5321 §5.1), MX targets;
- ``spf``: the SPF record and its include/redirect walk (RFC 7208);
- ``dmarc``: the DMARC record and its policy, with the DNS tree walk (RFC 9989);
- ``extras``: MTA-STS (``mta_sts``, RFC 8461), TLS-RPT (``tls_rpt``, RFC 8460), DKIM
  keys (``dkim``, RFC 6376) and the opt-in SMTP probe (``smtp``), with ``MailOptions``;
- ``verdict``: the overall status and the one-line verdict;
- ``report``: the check ids, their groups (receiving or sending) and the result types;
- ``batch``: the synchronous and batch entry points, and the live check.

Public API (the engine and the commands call these): ``check_domain``,
``check_domain_async``, ``check_domains``, ``check_domains_async``,
``MailDomainCheck``, ``MailOptions``. Importing the package loads no dnspython: the lookups import it
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
from diagnose.checks.mail.extras import MailOptions
from diagnose.checks.mail.report import CHECK_IDS, RECEIVING_IDS, DomainReport, MxHost
from diagnose.checks.mail.rounds import check_domain_async
from diagnose.checks.mail.verdict import verdict_for

__all__ = [
    "CHECK_IDS",
    "DEFAULT_CONCURRENCY",
    "RECEIVING_IDS",
    "DomainReport",
    "MailDomainCheck",
    "MailOptions",
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
