"""MTA-STS (RFC 8461): the ``_mta-sts`` record, the HTTPS policy, and the MX hosts.

A domain announces MTA-STS with a TXT record at ``_mta-sts.<domain>``
(``v=STSv1; id=...``, §3.1) and serves the policy at
``https://mta-sts.<domain>/.well-known/mta-sts.txt`` (§3.3): its ``mode``
(``enforce``, ``testing`` or ``none``), ``max_age`` and the ``mx`` patterns (§3.2).
A sender that honours a policy in ``enforce`` mode delivers only to MX hosts that
match a pattern (§4.1, §5), over TLS with a valid certificate: an MX host the
patterns miss gets no mail from such senders, which is a receiving failure. A
missing record is no failure (MTA-STS is optional), and a policy that cannot be
fetched makes senders deliver as if there were none (§3.3), which is a warning.

Where the policy is fetched from: the host ``mta-sts.<domain>`` is resolved through
the same DNS servers as every other lookup, and the connection goes to the
addresses in that answer and nowhere else, on port 443 (``MailOptions.mta_sts_port``
changes the port, for tests against a loopback server). The certificate is validated
against the system's trust store (``ssl.create_default_context``, which honours
``SSL_CERT_FILE``) for the name ``mta-sts.<domain>``; redirects are not followed
(§3.3); the body is limited to ``MAX_POLICY_BYTES``; everything happens within the
domain's time budget. ``ssl`` is imported by asyncio already; nothing else is
imported for the fetch.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from diagnose.checks.mail.report import MxHost, make_result
from diagnose.checks.mail.tagfields import parse_fields
from diagnose.checks.results import CheckResult, Status
from diagnose.i18n import _, ngettext

if TYPE_CHECKING:
    import ssl

    from dns.asyncresolver import Resolver

    from diagnose.checks.dnsquery import Budget, Lookup

CHECK_ID = "mta-sts"
#: The largest policy accepted: policies are a few lines, and 64 KiB is the limit
#: common implementations (Postfix's mta-sts-resolver, Mail::STS) apply.
MAX_POLICY_BYTES = 64 * 1024
#: Headers larger than this end the fetch (asyncio's StreamReader limit).
MAX_HEADER_BYTES = 16 * 1024
#: RFC 8461 §3.2: max_age is at most 31557600 seconds (a year).
MAX_AGE_LIMIT = 31_557_600
#: RFC 8461 §3.2 expects max_age "in the range of weeks or greater"; under a day
#: the policy barely outlives a refresh, so it protects little.
MAX_AGE_SHORT = 86_400
POLICY_PATH = "/.well-known/mta-sts.txt"

# RFC 8461 §3.1: sts-version = %s"v=STSv1", sts-field-delim = *WSP ";" *WSP,
# sts-id = 1*32(ALPHA / DIGIT); the fields are parsed as TLS-RPT's (tagfields.py).
_RECORD_START = re.compile(r"^v=STSv1[ \t]*(;|$)")
_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
# RFC 8461 §3.2: sts-policy-mx-value = ["*."] Domain (RFC 5321 §4.1.2)
_MX_PATTERN = re.compile(r"^(\*\.)?(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
_POLICY_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


@dataclass(frozen=True)
class StsRecord:
    """A parsed ``_mta-sts`` record: its ``id``, unless ``error`` says why it is invalid."""

    text: str
    error: str | None
    id: str | None = None


def is_sts_record(text: str) -> bool:
    """RFC 8461 §3.1: records that do not begin with ``v=STSv1`` are discarded."""
    return _RECORD_START.match(text) is not None


def parse_sts_record(text: str) -> StsRecord:
    """Parse one ``_mta-sts`` TXT record (RFC 8461 §3.1)."""
    if not is_sts_record(text):
        return StsRecord(text, _("The record does not begin with 'v=STSv1'."))
    found = parse_fields(text, {"id": _id_problem})
    if isinstance(found, str):
        return StsRecord(text, found)
    if "id" not in found:
        return StsRecord(text, _("The record has no id= field."))
    return StsRecord(text, None, found["id"])


def _id_problem(value: str) -> str | None:
    if _ID.match(value):
        return None
    return _("The id '{id}' is not 1 to 32 letters and digits.").format(id=value)


@dataclass(frozen=True)
class StsPolicy:
    """A parsed policy file (RFC 8461 §3.2); ``error`` (a sentence) when invalid."""

    error: str | None
    mode: str | None = None
    max_age: int | None = None
    mx: tuple[str, ...] = ()


def parse_policy(text: str) -> StsPolicy:
    """Parse a policy: ``key: value`` lines, LF or CRLF (RFC 8461 §3.2, erratum 6253).

    Unknown fields are ignored (§3.2); of a repeated field the first counts.
    """
    fields: dict[str, str] = {}
    mx: list[str] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.removesuffix("\r").rstrip(" \t")
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not _POLICY_NAME.match(name):
            return StsPolicy(
                _("Line {number} of the policy is not a 'key: value' field.").format(number=number)
            )
        value = value.lstrip(" \t")
        if name == "mx":
            pattern = value.lower().rstrip(".")
            if not _MX_PATTERN.match(pattern):
                return StsPolicy(
                    _("The mx pattern '{pattern}' is not a host name or *.domain.").format(
                        pattern=value
                    )
                )
            mx.append(pattern)
        else:
            fields.setdefault(name, value)
    if fields.get("version") != "STSv1":
        return StsPolicy(_("The policy's version is not STSv1."))
    mode = fields.get("mode")
    if mode not in ("enforce", "testing", "none"):
        if mode is None:
            return StsPolicy(_("The policy's mode is missing, not enforce, testing or none."))
        return StsPolicy(
            _("The policy's mode is '{mode}', not enforce, testing or none.").format(mode=mode)
        )
    age_text = fields.get("max_age", "")
    if not age_text.isascii() or not age_text.isdigit() or len(age_text) > 10:
        return StsPolicy(_("The policy's max_age is missing or not a number of seconds."))
    max_age = int(age_text)
    if max_age > MAX_AGE_LIMIT:
        return StsPolicy(
            _("The policy's max_age {max_age} is over {limit} (a year).").format(
                max_age=max_age, limit=MAX_AGE_LIMIT
            )
        )
    if mode != "none" and not mx:
        return StsPolicy(_("The policy has mode {mode} but no mx pattern.").format(mode=mode))
    return StsPolicy(None, mode, max_age, tuple(mx))


def mx_matches(pattern: str, host: str) -> bool:
    """RFC 8461 §4.1: a pattern matches a host exactly (case-insensitively), and
    ``*.example.com`` matches one more label (``mail.example.com``), never
    ``example.com`` itself or ``a.b.example.com``."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == pattern[2:]
    return pattern == host


@dataclass(frozen=True)
class Fetched:
    """The outcome of fetching the policy: the body, or why not.

    ``undetermined`` is true when the failure says nothing about the domain (a
    timeout, a connection that could not be made from here).
    """

    body: str | None = None
    problem: str | None = None
    undetermined: bool = False


async def fetch_policy(host: str, addresses: list[str], port: int, budget: Budget) -> Fetched:
    """GET ``https://host/.well-known/mta-sts.txt`` from ``addresses`` (in order,
    the next after a connection failure), within ``budget``."""
    import ssl

    from diagnose.checks.mail.tls import client_context

    context = client_context()
    failures: list[str] = []
    for address in addresses:
        left = budget.remaining()
        if left <= 0:
            failures.append(_("the time budget ran out"))
            break
        try:
            async with asyncio.timeout(left):
                return await _get(host, address, port, context)
        except ssl.SSLCertVerificationError as error:
            reason = error.verify_message or str(error)
            return Fetched(
                problem=_("its certificate is not valid for {host}: {reason}").format(
                    host=host, reason=reason
                )
            )
        except ssl.SSLError as error:
            return Fetched(
                problem=_("the TLS handshake failed: {reason}").format(reason=error.reason or error)
            )
        except TimeoutError:
            failures.append(
                _("{address} did not answer within the time budget").format(address=address)
            )
            break
        except OSError as error:
            failures.append(f"{address}: {error.strerror or error}")
    return Fetched(
        problem=_("it could not be reached from here ({failures})").format(
            failures="; ".join(failures)
        ),
        undetermined=True,
    )


async def _get(host: str, address: str, port: int, context: ssl.SSLContext) -> Fetched:
    """One HTTP/1.1 GET over TLS (RFC 9112), read with size limits."""
    reader, writer = await asyncio.open_connection(
        address,
        port,
        ssl=context,
        server_hostname=host,
        limit=MAX_HEADER_BYTES,
    )
    try:
        authority = host if port == 443 else f"{host}:{port}"
        writer.write(
            (
                f"GET {POLICY_PATH} HTTP/1.1\r\nHost: {authority}\r\n"
                "Accept: text/plain\r\nUser-Agent: diagnose (MTA-STS check)\r\n"
                "Connection: close\r\n\r\n"
            ).encode("ascii")
        )
        await writer.drain()
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            return Fetched(
                problem=_("its response headers are over {n} bytes").format(n=MAX_HEADER_BYTES)
            )
        except asyncio.IncompleteReadError:
            return Fetched(problem=_("it closed the connection without an HTTP response"))
        lines = head.decode("latin-1").split("\r\n")
        status_line = lines[0].split(" ", 2)
        if len(status_line) < 2 or not status_line[0].startswith("HTTP/"):
            return Fetched(problem=_("its answer is not an HTTP response"))
        code = status_line[1]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if code.startswith("3"):
            return Fetched(
                problem=_(
                    "it answers {code} (a redirect), which senders must not follow (RFC 8461 §3.3)"
                ).format(code=code)
            )
        if code != "200":
            return Fetched(problem=_("it answers HTTP {code}, not 200").format(code=code))
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "text/plain":
            if not media:
                return Fetched(
                    problem=_("it is served as 'no type', not text/plain (RFC 8461 §3.2)")
                )
            return Fetched(
                problem=_("it is served as '{type}', not text/plain (RFC 8461 §3.2)").format(
                    type=media
                )
            )
        try:
            body = await _body(reader, headers)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            return Fetched(problem=_("its response ended early or is malformed"))
        if body is None:
            return Fetched(
                # the English groups digits with commas ("65,536"); the Russian does not
                problem=_("the policy is over {n:,} bytes").format(n=MAX_POLICY_BYTES)
            )
        try:
            return Fetched(body=body.decode("utf-8"))
        except UnicodeDecodeError:
            return Fetched(problem=_("the policy is not UTF-8 text"))
    finally:
        # abort, not close: a TLS close waits for the peer's close_notify, which a
        # stalled server never sends, and the answer is already in hand.
        writer.transport.abort()


async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes | None:
    """The response body, or None when it is over ``MAX_POLICY_BYTES``."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = b""
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                return body
            if len(body) + size > MAX_POLICY_BYTES:
                return None
            body += await reader.readexactly(size)
            await reader.readexactly(2)  # the CRLF after the chunk
    length = headers.get("content-length")
    if length is not None and length.isdigit():
        if int(length) > MAX_POLICY_BYTES:
            return None
        return await reader.readexactly(int(length))
    body = await reader.read(MAX_POLICY_BYTES + 1)
    while len(body) <= MAX_POLICY_BYTES:
        more = await reader.read(MAX_POLICY_BYTES + 1 - len(body))
        if not more:
            break
        body += more
    return None if len(body) > MAX_POLICY_BYTES else body


@dataclass(frozen=True)
class Discovery:
    """What was found before the MX hosts are known: a finished result (no record,
    a broken one, a policy that cannot be fetched), or the policy to judge them by."""

    result: CheckResult | None = None
    policy: StsPolicy | None = None
    details: tuple[tuple[str, object], ...] = ()


def _policy_url(name: str, port: int) -> str:
    host = f"mta-sts.{name}"
    return f"https://{host}{'' if port == 443 else f':{port}'}{POLICY_PATH}"


async def discover(
    resolver: Resolver, name: str, budget: Budget, port: int, txt: Awaitable[Lookup]
) -> Discovery:
    """Round 1: the ``_mta-sts`` record (``txt``, the TXT lookup of
    ``_mta-sts.<name>`` started with the round); then, when there is one, the policy
    host's addresses (round 2) and the policy itself."""
    from diagnose.checks import dnsquery

    where = f"_mta-sts.{name}"
    lookup = await txt
    if not lookup.concluded:
        return Discovery(
            make_result(
                CHECK_ID,
                Status.ERROR,
                _("The TXT lookup for {where} failed: {reason}").format(
                    where=where, reason=lookup.reason
                ),
            )
        )
    texts = [text for text in dnsquery.txt_strings(lookup.records) if is_sts_record(text)]
    if not texts:
        return Discovery(
            make_result(
                CHECK_ID,
                Status.PASS,
                _(
                    "{domain} publishes no MTA-STS policy (optional: senders then use TLS when "
                    "the MX host offers it, without requiring it)."
                ).format(domain=name),
                published=False,
            )
        )
    if len(texts) > 1:
        return Discovery(
            make_result(
                CHECK_ID,
                Status.WARN,
                ngettext(
                    "{where} has {n} MTA-STS record, so senders apply no policy (RFC 8461 §3.1).",
                    "{where} has {n} MTA-STS records, so senders apply no policy (RFC 8461 §3.1).",
                    len(texts),
                ).format(where=where, n=len(texts)),
                published=True,
                records=texts,
            )
        )
    record = parse_sts_record(texts[0])
    if record.error:
        return Discovery(
            make_result(
                CHECK_ID,
                Status.WARN,
                _(
                    "The MTA-STS record at {where} is invalid, so senders apply no policy: {error}"
                ).format(where=where, error=record.error),
                published=True,
                record=record.text,
            )
        )
    host = f"mta-sts.{name}"
    url = _policy_url(name, port)
    details: dict[str, object] = {"published": True, "record": record.text, "policy_id": record.id}
    details["policy_url"] = url
    a_l, aaaa_l = await asyncio.gather(
        dnsquery.lookup(resolver, host, "A", budget),
        dnsquery.lookup(resolver, host, "AAAA", budget),
    )
    found = [address for item in (a_l, aaaa_l) if item.records for address in _addresses(item)]
    if not found:
        if a_l.concluded and aaaa_l.concluded:
            return Discovery(
                make_result(
                    CHECK_ID,
                    Status.WARN,
                    _(
                        "{domain} publishes an MTA-STS record, but {host} has no address, so "
                        "senders cannot fetch the policy and apply none (RFC 8461 §3.3)."
                    ).format(domain=name, host=host),
                    **details,
                )
            )
        reason = a_l.reason if not a_l.concluded else aaaa_l.reason
        return Discovery(
            make_result(
                CHECK_ID,
                Status.ERROR,
                _(
                    "The address lookup for {host} (the MTA-STS policy host) failed: {reason}"
                ).format(host=host, reason=reason),
                **details,
            )
        )
    fetched = await fetch_policy(host, found, port, budget)
    if fetched.body is None:
        status = Status.ERROR if fetched.undetermined else Status.WARN
        consequence = (
            "" if fetched.undetermined else " " + _("Senders without a cached policy apply none.")
        )
        return Discovery(
            make_result(
                CHECK_ID,
                status,
                _("Could not fetch the MTA-STS policy from {url}: {problem}.").format(
                    url=url, problem=fetched.problem
                )
                + consequence,
                **details,
            )
        )
    policy = parse_policy(fetched.body)
    if policy.error:
        return Discovery(
            make_result(
                CHECK_ID,
                Status.WARN,
                _("The MTA-STS policy at {url} is invalid, so senders apply none: {error}").format(
                    url=url, error=policy.error
                ),
                **details,
            )
        )
    details.update(mode=policy.mode, max_age=policy.max_age, mx=list(policy.mx))
    return Discovery(policy=policy, details=tuple(details.items()))


def _addresses(lookup: Lookup) -> list[str]:
    from diagnose.checks.dnsquery import addresses

    return addresses(lookup.records)


def _lifetime(seconds: int) -> str | None:
    """max_age in the largest unit that divides it (RFC 8461 §3.2 recommends weeks, so
    most policies read "7 days"); None when only seconds say it exactly."""
    if not seconds:
        return None
    if seconds % 86_400 == 0:
        n = seconds // 86_400
        return ngettext("{n} day", "{n} days", n).format(n=n)
    if seconds % 3_600 == 0:
        n = seconds // 3_600
        return ngettext("{n} hour", "{n} hours", n).format(n=n)
    if seconds % 60 == 0:
        n = seconds // 60
        return ngettext("{n} minute", "{n} minutes", n).format(n=n)
    return None


def judge(
    name: str, found: Discovery, mx_l: Lookup, hosts: tuple[MxHost, ...] | list[MxHost]
) -> CheckResult:
    """The check, once the MX hosts are known: does the policy cover them?"""
    from diagnose.checks.dnsquery import Outcome

    if found.result is not None:
        return found.result
    policy = found.policy
    assert policy is not None and policy.mode is not None and policy.max_age is not None
    details = dict(found.details)
    lifetime = _lifetime(policy.max_age)
    if lifetime:
        summary = _("mode {mode}, max_age {max_age} s ({lifetime})").format(
            mode=policy.mode, max_age=policy.max_age, lifetime=lifetime
        )
    else:
        summary = _("mode {mode}, max_age {max_age} s").format(
            mode=policy.mode, max_age=policy.max_age
        )
    if policy.mode == "none":
        return make_result(
            CHECK_ID,
            Status.PASS,
            _(
                "The MTA-STS policy of {domain} has {summary}: it is withdrawn, and senders "
                "apply none."
            ).format(domain=name, summary=summary),
            **details,
        )
    if mx_l.outcome is Outcome.UNDETERMINED:
        return make_result(
            CHECK_ID,
            Status.ERROR,
            _(
                "The MTA-STS policy of {domain} has {summary}, but the MX lookup failed, so its "
                "mx patterns cannot be compared with the MX hosts."
            ).format(domain=name, summary=summary),
            **details,
        )
    names = [host.exchange for host in hosts]
    unmatched = [host for host in names if not any(mx_matches(p, host) for p in policy.mx)]
    details["unmatched"] = unmatched
    patterns = ", ".join(policy.mx)
    if unmatched and policy.mode == "enforce":
        return make_result(
            CHECK_ID,
            Status.FAIL,
            _(
                "The MTA-STS policy of {domain} is in enforce mode, but no mx pattern "
                "({patterns}) matches {hosts}, so senders that honour MTA-STS will not deliver "
                "there (RFC 8461 §4.1, §5)."
            ).format(domain=name, patterns=patterns, hosts=", ".join(unmatched)),
            **details,
        )
    if unmatched:
        return make_result(
            CHECK_ID,
            Status.WARN,
            _(
                "The MTA-STS policy of {domain} has {summary}, and no mx pattern ({patterns}) "
                "matches {hosts}: senders report it now and would not deliver there in enforce "
                "mode."
            ).format(domain=name, summary=summary, patterns=patterns, hosts=", ".join(unmatched)),
            **details,
        )
    covered = _("every MX host matches its mx patterns") if names else _("there is no MX host")
    if policy.max_age < MAX_AGE_SHORT:
        return make_result(
            CHECK_ID,
            Status.WARN,
            _(
                "The MTA-STS policy of {domain} has {summary}, and {covered}; a max_age under a "
                "day protects little between fetches (RFC 8461 §3.2 expects weeks)."
            ).format(domain=name, summary=summary, covered=covered),
            **details,
        )
    return make_result(
        CHECK_ID,
        Status.PASS,
        _("The MTA-STS policy of {domain} has {summary}, and {covered}.").format(
            domain=name, summary=summary, covered=covered
        ),
        **details,
    )
