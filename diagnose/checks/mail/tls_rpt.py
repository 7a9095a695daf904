"""TLS-RPT (RFC 8460): the ``_smtp._tls`` record that asks senders for TLS reports.

The record only asks sending servers to report TLS trouble (with MTA-STS or DANE) to
the addresses in ``rua=``; it never changes whether mail arrives. So a domain without
one passes, and a broken one is a warning: senders then send no reports (§3).
The parsing (``parse_tlsrpt``) is pure, no DNS; the lookup is asked in round 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from diagnose.checks.mail.report import make_result
from diagnose.checks.mail.tagfields import parse_fields
from diagnose.checks.results import CheckResult, Status
from diagnose.i18n import _, ngettext

if TYPE_CHECKING:
    from diagnose.checks.dnsquery import Lookup

CHECK_ID = "tls-rpt"

# RFC 8460 §3: tlsrpt-version = %s"v=TLSRPTv1" (case-sensitive), then field-delim
# = *WSP ";" *WSP. Records that do not begin so are not TLS-RPT records at all.
_VERSION = re.compile(r"^v=TLSRPTv1[ \t]*;")


@dataclass(frozen=True)
class TlsRptRecord:
    """A parsed TLS-RPT record: its report URIs, unless ``error`` says why it is invalid."""

    text: str
    error: str | None
    rua: tuple[str, ...] = ()


def is_tlsrpt(text: str) -> bool:
    """RFC 8460 §3: the record begins with ``v=TLSRPTv1`` and a field delimiter."""
    return _VERSION.match(text) is not None


def _uri_problem(uri: str) -> str | None:
    """RFC 8460 §3: a report URI is ``mailto:`` (RFC 6068) or ``https:`` (RFC 7230)."""
    scheme, sep, rest = uri.partition(":")
    if not sep or scheme.lower() not in ("mailto", "https"):
        return _("the report address '{uri}' is not a mailto: or https: URI").format(uri=uri)
    if scheme.lower() == "mailto" and ("@" not in rest or rest.startswith("@")):
        return _("the report address '{uri}' has no mailbox").format(uri=uri)
    if scheme.lower() == "https" and (not rest.startswith("//") or len(rest) <= 2):
        return _("the report address '{uri}' has no host").format(uri=uri)
    if any(char.isspace() for char in uri):
        return _("the report address '{uri}' contains a space").format(uri=uri)
    return None


def parse_tlsrpt(text: str) -> TlsRptRecord:
    """Parse one TLS-RPT record; ``error`` is a sentence when it is invalid."""
    if not is_tlsrpt(text):
        return TlsRptRecord(text, _("The record does not begin with 'v=TLSRPTv1;'."))
    found = parse_fields(text, {"rua": _rua_problem})
    if isinstance(found, str):
        return TlsRptRecord(text, found)
    if "rua" not in found:
        return TlsRptRecord(text, _("The record has no rua= (where to send reports)."))
    return TlsRptRecord(text, None, tuple(_uris(found["rua"])))


def _uris(rua: str) -> list[str]:
    return [uri.strip(" \t") for uri in rua.split(",")]


def _rua_problem(rua: str) -> str | None:
    for uri in _uris(rua):
        problem = _uri_problem(uri)
        if problem:
            return problem[0].upper() + problem[1:] + "."
    return None


def check_tls_rpt(name: str, lookup: Lookup) -> CheckResult:
    """RFC 8460 §3: exactly one record at ``_smtp._tls.<domain>``, with ``rua=``."""
    from diagnose.checks import dnsquery

    where = f"_smtp._tls.{name}"
    if not lookup.concluded:
        return make_result(
            CHECK_ID,
            Status.ERROR,
            _("The TXT lookup for {where} failed: {reason}").format(
                where=where, reason=lookup.reason
            ),
        )
    texts = [text for text in dnsquery.txt_strings(lookup.records) if is_tlsrpt(text)]
    if not texts:
        return make_result(
            CHECK_ID,
            Status.PASS,
            _(
                "{domain} publishes no TLS-RPT record at {where} (optional: it only asks "
                "senders for reports on TLS trouble)."
            ).format(domain=name, where=where),
            published=False,
        )
    if len(texts) > 1:
        return make_result(
            CHECK_ID,
            Status.WARN,
            ngettext(
                "{where} has {n} TLS-RPT record, so senders send no reports (RFC 8460 §3).",
                "{where} has {n} TLS-RPT records, so senders send no reports (RFC 8460 §3).",
                len(texts),
            ).format(where=where, n=len(texts)),
            published=True,
            records=texts,
        )
    record = parse_tlsrpt(texts[0])
    if record.error:
        return make_result(
            CHECK_ID,
            Status.WARN,
            _(
                "The TLS-RPT record at {where} is invalid, so senders send no reports: {error}"
            ).format(where=where, error=record.error),
            published=True,
            record=record.text,
        )
    return make_result(
        CHECK_ID,
        Status.PASS,
        _("{domain} asks for TLS reports at {addresses}.").format(
            domain=name, addresses=", ".join(record.rua)
        ),
        published=True,
        record=record.text,
        rua=list(record.rua),
    )
