"""The opt-in SMTP probe (``--smtp``): does each MX address greet, and offer TLS?

For each address of each MX host, at once and within the domain's time budget: connect
to port 25, read the 220 greeting (RFC 5321 §4.2, §3.1), say EHLO with this side's
address literal (§4.1.4: no name to look up), see whether STARTTLS is offered
(RFC 3207), start TLS, and check that the certificate chains to a trusted root and
names the MX host (RFC 7672 does this with DANE, RFC 8461 §4.2 with MTA-STS). Then
QUIT. The probe never sends MAIL, RCPT or DATA: no letter is ever started.

Many networks block outgoing port 25 (home ISPs, clouds); a connection that is
refused or times out is therefore undetermined (status error) and said in words,
never a finding about the domain. The connection goes only to the addresses the MX
hosts resolved to, on port 25 (``MailOptions.smtp_port`` changes the port, for tests
against a loopback server).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING

from diagnose.checks.mail.report import MxHost, make_result
from diagnose.checks.mail.tls import client_context
from diagnose.checks.results import CheckResult, Status, overall
from diagnose.i18n import N_, _

if TYPE_CHECKING:
    from diagnose.checks.dnsquery import Budget

CHECK_ID = "smtp"
#: At most this many addresses are probed (the first ones by MX preference).
MAX_ADDRESSES = 10
#: RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets; allow some slack.
MAX_LINE = 2048
#: A reply of more lines than this is not a mail server's.
MAX_REPLY_LINES = 64
#: Shown of a greeting: enough to recognise the software, not a wall of text.
MAX_BANNER = 200

#: Translated where it is said (``_(BLOCKED_HINT)``), not here: the language is chosen
#: after import.
BLOCKED_HINT = N_("many networks block outgoing port 25, so try from a server that may send mail")
#: What the probe says when the server falls silent, by the stage it had reached (the
#: stage is an id; its words are translated when the finding is made).
STALLED = {
    "greeting": N_("it stopped answering while greeting (time budget)"),
    "answering EHLO": N_("it stopped answering while answering EHLO (time budget)"),
    "starting TLS": N_("it stopped answering while starting TLS (time budget)"),
}


@dataclass(frozen=True)
class Probe:
    """What one address did: a status, a sentence, and what was seen on the way."""

    host: str
    address: str
    status: Status
    finding: str
    banner: str | None = None
    starttls: bool | None = None
    certificate: str | None = None

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "host": self.host,
            "address": self.address,
            "status": str(self.status),
            "finding": self.finding,
        }
        if self.banner is not None:
            data["banner"] = self.banner
        if self.starttls is not None:
            data["starttls"] = self.starttls
        if self.certificate is not None:
            data["certificate"] = self.certificate
        return data


class _ReplyError(Exception):
    """The server's answer is not an SMTP reply (the message is a sentence fragment)."""


async def _reply(reader: asyncio.StreamReader) -> tuple[int, list[str]]:
    """One SMTP reply (RFC 5321 §4.2): its code and the text of its lines."""
    lines: list[str] = []
    while len(lines) < MAX_REPLY_LINES:
        try:
            raw = await reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            raise _ReplyError(_("it sent a reply line too long for SMTP")) from None
        except asyncio.IncompleteReadError:
            raise _ReplyError(_("it closed the connection")) from None
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        code = line[:3]
        if len(line) < 3 or not code.isdigit() or line[3:4] not in ("", " ", "-"):
            raise _ReplyError(
                _("it answered '{line}', which is not an SMTP reply").format(line=line[:60])
            )
        lines.append(line[4:])
        if line[3:4] != "-":
            return int(code), lines
    raise _ReplyError(_("it sent a reply of more than {n} lines").format(n=MAX_REPLY_LINES))


def certificate_names(cert: dict[str, object]) -> list[str]:
    """The DNS names a certificate (``getpeercert()``) is for: its subjectAltName
    DNS entries, or, with none, its common name (RFC 6125 §6.4.4)."""
    san = cert.get("subjectAltName") or ()
    names = [str(value) for kind, value in san if kind == "DNS"]  # type: ignore[attr-defined]
    if names:
        return names
    for rdn in cert.get("subject") or ():  # type: ignore[attr-defined]
        for key, value in rdn:
            if key == "commonName":
                names.append(str(value))
    return names


def name_matches(pattern: str, host: str) -> bool:
    """RFC 6125 §6.4.3: exact, case-insensitive; a ``*`` stands for one whole leftmost
    label only."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == pattern[2:]
    return pattern == host


async def probe(host: str, address: str, port: int, budget: Budget) -> Probe:
    """Probe one address of the MX host ``host``, within ``budget``."""
    left = budget.remaining()
    if left <= 0:
        return Probe(host, address, Status.ERROR, _("the time budget ran out before connecting"))
    stage = ["connecting"]
    try:
        async with asyncio.timeout(left):
            return await _conversation(host, address, port, stage)
    except TimeoutError:
        if stage[0] == "connecting":
            return Probe(
                host,
                address,
                Status.ERROR,
                _("no connection to port {port} within the time budget; {hint}").format(
                    port=port, hint=_(BLOCKED_HINT)
                ),
            )
        return Probe(host, address, Status.ERROR, _(STALLED[stage[0]]))
    except ConnectionRefusedError:
        return Probe(
            host,
            address,
            Status.ERROR,
            _(
                "the connection to port {port} was refused (the server does not listen, or a "
                "firewall on the way refuses; {hint})"
            ).format(port=port, hint=_(BLOCKED_HINT)),
        )
    except OSError as error:
        return Probe(
            host,
            address,
            Status.ERROR,
            _("could not connect to port {port}: {reason} ({hint})").format(
                port=port,
                reason=error.strerror or _("the connection failed"),
                hint=_(BLOCKED_HINT),
            ),
        )


async def _conversation(host: str, address: str, port: int, stage: list[str]) -> Probe:
    reader, writer = await asyncio.open_connection(address, port, limit=MAX_LINE)
    try:
        return await _speak(host, address, reader, writer, stage)
    finally:
        # abort, not close: a TLS close waits for the peer's close_notify, which a
        # stalled server never sends, and QUIT has been said already.
        writer.transport.abort()


async def _speak(
    host: str,
    address: str,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    stage: list[str],
) -> Probe:
    async def command(line: str) -> tuple[int, list[str]]:
        writer.write(line.encode("ascii") + b"\r\n")
        await writer.drain()
        return await _reply(reader)

    async def quit_politely() -> None:
        with contextlib.suppress(TimeoutError, OSError, _ReplyError, ssl.SSLError):
            await asyncio.wait_for(command("QUIT"), 1)

    stage[0] = "greeting"
    try:
        code, lines = await _reply(reader)
    except _ReplyError as error:
        return Probe(
            host,
            address,
            Status.FAIL,
            _("{problem} instead of an SMTP greeting").format(problem=error),
        )
    banner = " ".join(lines)[:MAX_BANNER]
    if code != 220:
        # RFC 5321 §3.1: 554 instead of 220 means "no SMTP service here"; a 4xx is
        # temporary (busy, greylisting), so it says nothing lasting.
        status = Status.ERROR if 400 <= code < 500 else Status.FAIL
        meaning = _("busy for now") if status is Status.ERROR else _("it refuses mail")
        return Probe(
            host,
            address,
            status,
            _("it greets with {code} instead of 220: {meaning}").format(code=code, meaning=meaning),
            banner,
        )
    stage[0] = "answering EHLO"
    local = writer.get_extra_info("sockname")
    literal = f"[IPv6:{local[0]}]" if ":" in str(local[0]) else f"[{local[0]}]"
    try:
        code, lines = await command(f"EHLO {literal}")
    except _ReplyError as error:
        return Probe(
            host, address, Status.FAIL, _("after EHLO {problem}").format(problem=error), banner
        )
    if code != 250:
        await quit_politely()
        return Probe(
            host,
            address,
            Status.WARN,
            _("it answers EHLO with {code}, so it offers no ESMTP and no STARTTLS").format(
                code=code
            ),
            banner,
            starttls=False,
        )
    keywords = {line.split(" ", 1)[0].upper() for line in lines[1:]}
    if "STARTTLS" not in keywords:
        await quit_politely()
        return Probe(
            host,
            address,
            Status.WARN,
            _("it does not offer STARTTLS, so mail to it travels unencrypted"),
            banner,
            starttls=False,
        )
    stage[0] = "starting TLS"
    try:
        code, lines = await command("STARTTLS")
    except _ReplyError as error:
        return Probe(
            host,
            address,
            Status.FAIL,
            _("after STARTTLS {problem}").format(problem=error),
            banner,
            True,
        )
    if code != 220:
        await quit_politely()
        return Probe(
            host,
            address,
            Status.WARN,
            _("it offers STARTTLS but answers it with {code}").format(code=code),
            banner,
            starttls=True,
        )
    # Chain validation by OpenSSL against the system's roots (SSL_CERT_FILE honoured);
    # the name is compared here, so that an untrusted chain and a wrong name are told
    # apart.
    context = client_context(check_hostname=False)
    try:
        await writer.start_tls(context, server_hostname=host)
    except ssl.SSLCertVerificationError as error:
        reason = error.verify_message or str(error)
        return Probe(
            host,
            address,
            Status.WARN,
            _("its certificate is not trusted: {reason}").format(reason=reason),
            banner,
            starttls=True,
            certificate=f"untrusted: {reason}",
        )
    except ssl.SSLError as error:
        return Probe(
            host,
            address,
            Status.WARN,
            _("the TLS handshake failed: {reason}").format(reason=error.reason or error),
            banner,
            starttls=True,
            certificate="no handshake",
        )
    ssl_object = writer.get_extra_info("ssl_object")
    cert = ssl_object.getpeercert() if ssl_object is not None else None
    names = certificate_names(cert or {})
    version = ssl_object.version() if ssl_object is not None else None
    await quit_politely()
    if not any(name_matches(name, host) for name in names):
        shown = ", ".join(names[:5]) or "no name"  # the JSON's value, not a sentence
        finding = (
            _("its certificate is trusted but names {names}, not {host}")
            if names
            else _("its certificate is trusted but names no name, not {host}")
        )
        return Probe(
            host,
            address,
            Status.WARN,
            finding.format(names=shown, host=host),
            banner,
            starttls=True,
            certificate=f"wrong name: {shown}",
        )
    return Probe(
        host,
        address,
        Status.PASS,
        _("STARTTLS ({version}) with a trusted certificate for {host}").format(
            version=version or "TLS", host=host
        ),
        banner,
        starttls=True,
        certificate="valid",
    )


def skipped(requested: bool, why: str | None = None) -> CheckResult:
    """The check when it is not asked for, or has nothing to connect to (``why``, a
    fragment in the current language; by default, no MX address)."""
    if not requested:
        return make_result(
            CHECK_ID,
            Status.SKIP,
            _(
                "Skipped: the SMTP probe is opt-in; add --smtp to connect to each MX address "
                "on port 25."
            ),
        )
    if why is None:
        why = _("there is no MX address to connect to")
    return make_result(CHECK_ID, Status.SKIP, _("Skipped: {why}.").format(why=why))


async def check_smtp(
    hosts: tuple[MxHost, ...] | list[MxHost], port: int, budget: Budget, enforced: bool
) -> CheckResult:
    """The ``smtp`` check: every MX address probed at once.

    ``enforced``: the domain's MTA-STS policy is in enforce mode, so a missing
    STARTTLS or a certificate that is not valid for the host stops senders that honour
    it (RFC 8461 §4.2, §5): a failure rather than a warning.
    """
    targets = [(host.exchange, address) for host in hosts for address in host.addresses]
    if not targets:
        return skipped(True)
    targets = targets[:MAX_ADDRESSES]
    probes = await asyncio.gather(*(probe(h, a, port, budget) for h, a in targets))
    if enforced:
        probes = [
            Probe(
                p.host,
                p.address,
                Status.FAIL,
                p.finding
                + " "
                + _(
                    "(the MTA-STS policy enforces TLS, so senders that honour it will not "
                    "deliver here)"
                ),
                p.banner,
                p.starttls,
                p.certificate,
            )
            if p.status is Status.WARN
            else p
            for p in probes
        ]
    status = overall(p.status for p in probes)
    findings = {p.finding for p in probes}
    if len(findings) == 1 and len(probes) > 1:
        message = _("Every MX address ({n}): {finding}.").format(
            n=len(probes), finding=probes[0].finding
        )
    else:
        message = "; ".join(f"{p.host} [{p.address}]: {p.finding}" for p in probes) + "."
    return make_result(CHECK_ID, status, message, probes=[p.to_dict() for p in probes])
