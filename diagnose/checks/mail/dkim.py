"""DKIM (RFC 6376): the public keys published under the selectors the user names.

A DKIM key lives at ``<selector>._domainkey.<domain>`` (§3.6.2.1), and nothing in the
DNS lists a domain's selectors: they are read from the ``s=`` tag of a
``DKIM-Signature`` header in a letter the domain sent. So the check runs only for the
selectors given (``--dkim-selector``), and is skipped, saying so, without one.

Per selector: exactly one TXT record (§3.6.2.2: several make the result undefined), a
valid tag list (§3.2) whose ``p=`` holds the key; an empty ``p=`` means the key was
revoked (§3.6.1). RSA keys under 1,024 bits are broken and verifiers ignore them
(RFC 8301 §3.2), under 2,048 bits weak (RFC 8301 recommends 2,048); Ed25519
(RFC 8463) is fine. The key size is read with a minimal DER reader (``rsa_key_bits``)
rather than a cryptography library, so that nothing heavy is imported.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from diagnose.checks.mail.report import make_result
from diagnose.checks.results import CheckResult, Status, overall
from diagnose.i18n import _, ngettext

if TYPE_CHECKING:
    from dns.asyncresolver import Resolver

    from diagnose.checks.dnsquery import Budget, Lookup

CHECK_ID = "dkim"
#: RFC 8301 §3.2: verifiers MUST NOT consider keys under 1,024 bits valid ...
RSA_MIN_BITS = 1024
#: ... and signers SHOULD use at least 2,048 bits.
RSA_GOOD_BITS = 2048
#: RFC 8463 §4.2: an Ed25519 key (k=ed25519) is the raw 32-octet public key.
ED25519_KEY_OCTETS = 32

# RFC 6376 §3.2: tag-name = ALPHA *ALNUMPUNC (ALNUMPUNC = ALPHA / DIGIT / "_")
_TAG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# RFC 3279 §2.3.1 rsaEncryption, as DER content octets of the OID
_RSA_OID = bytes.fromhex("2a864886f70d010101")


@dataclass(frozen=True)
class DkimKey:
    """A parsed DKIM key record; ``error`` (a sentence) when it is invalid.

    ``bits`` is the RSA modulus size; ``revoked`` is true for an empty ``p=``.
    """

    text: str
    error: str | None = None
    key_type: str = "rsa"
    bits: int | None = None
    revoked: bool = False
    testing: bool = False
    hashes: tuple[str, ...] = ()


def parse_tags(text: str) -> dict[str, str] | str:
    """RFC 6376 §3.2 tag list as a dict, or a sentence saying why it is invalid."""
    tags: dict[str, str] = {}
    parts = text.split(";")
    if parts and not parts[-1].strip():
        parts.pop()  # a trailing ";" is allowed
    for part in parts:
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not _TAG_NAME.match(name):
            return _("The part '{part}' is not a tag=value pair.").format(part=part.strip())
        if name in tags:
            # §3.2: "if a tag name does occur more than once, the entire tag-list is invalid"
            return _("The tag '{name}=' appears more than once.").format(name=name)
        tags[name] = value.strip()
    return tags


def _der(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """One DER element at ``offset``: (tag, content, offset after it). ValueError if
    it does not fit (X.690 §8.1: definite lengths only, as DER requires)."""
    if offset + 2 > len(data):
        raise ValueError(_("The key data ends early."))
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or offset + count > len(data):
            raise ValueError(_("The key data has an invalid length."))
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    if offset + length > len(data):
        raise ValueError(_("The key data ends early."))
    return tag, data[offset : offset + length], offset + length


def _modulus_bits(rsa_public_key: bytes) -> int:
    """Bits of the modulus of a DER RSAPublicKey (RFC 8017 A.1.1: SEQUENCE {n, e})."""
    tag, body, _end = _der(rsa_public_key, 0)
    if tag != 0x30:
        raise ValueError(_("The key is not an RSA public key."))
    tag, modulus, after = _der(body, 0)
    if tag != 0x02 or not modulus:
        raise ValueError(_("The RSA key has no modulus."))
    tag, exponent, _end = _der(body, after)
    if tag != 0x02 or not exponent:
        raise ValueError(_("The RSA key has no exponent."))
    return int.from_bytes(modulus, "big").bit_length()


def rsa_key_bits(der: bytes) -> int:
    """The modulus size of an RSA key given as DER: a SubjectPublicKeyInfo (RFC 5280
    §4.1, what RFC 6376 §3.6.1 publishes) or, as some signers publish, a bare
    RSAPublicKey. ``ValueError`` (a sentence) when it is neither."""
    tag, body, end = _der(der, 0)
    if tag != 0x30 or end != len(der):
        raise ValueError(_("The key is not a DER-encoded public key."))
    first_tag, first, after = _der(body, 0)
    if first_tag == 0x02:  # SEQUENCE { INTEGER n, INTEGER e }: a bare RSAPublicKey
        return _modulus_bits(der)
    if first_tag != 0x30:
        raise ValueError(_("The key is not a DER-encoded public key."))
    oid_tag, oid, _end = _der(first, 0)  # AlgorithmIdentifier { algorithm, parameters }
    if oid_tag != 0x06 or oid != _RSA_OID:
        raise ValueError(_("The key is not an RSA key (k=rsa)."))
    bits_tag, bit_string, _end = _der(body, after)
    if bits_tag != 0x03 or not bit_string or bit_string[0] != 0:
        raise ValueError(_("The key's BIT STRING is malformed."))
    return _modulus_bits(bit_string[1:])


def parse_dkim_key(text: str) -> DkimKey:
    """Parse one DKIM key record (RFC 6376 §3.6.1)."""
    tags = parse_tags(text)
    if isinstance(tags, str):
        return DkimKey(text, tags)
    if "v" in tags and (tags["v"] != "DKIM1" or next(iter(tags)) != "v"):
        # §3.6.1: v= is optional, but when present it is first and exactly "DKIM1"
        return DkimKey(text, _("The record's v= is not the first tag or not 'DKIM1'."))
    if "p" not in tags:
        return DkimKey(text, _("The record has no p= (public key) tag."))
    key_type = tags.get("k", "rsa").lower()
    hashes = tuple(h.strip().lower() for h in tags["h"].split(":")) if "h" in tags else ()
    testing = "y" in (flag.strip().lower() for flag in tags.get("t", "").split(":"))
    data_text = re.sub(r"\s+", "", tags["p"])
    if not data_text:
        return DkimKey(text, None, key_type, revoked=True, testing=testing, hashes=hashes)
    try:
        data = base64.b64decode(data_text, validate=True)
    except (binascii.Error, ValueError):
        return DkimKey(text, _("The key (p=) is not valid base64."), key_type)
    if key_type == "ed25519":
        if len(data) != ED25519_KEY_OCTETS:
            return DkimKey(
                text,
                ngettext(
                    "The Ed25519 key is {n} octet long, not {expected} (RFC 8463 §4.2).",
                    "The Ed25519 key is {n} octets long, not {expected} (RFC 8463 §4.2).",
                    len(data),
                ).format(n=len(data), expected=ED25519_KEY_OCTETS),
                key_type,
            )
        return DkimKey(text, None, key_type, bits=256, testing=testing, hashes=hashes)
    if key_type != "rsa":
        return DkimKey(
            text,
            _("The key type k={value} is not rsa or ed25519.").format(value=tags["k"]),
            key_type,
        )
    try:
        bits = rsa_key_bits(data)
    except ValueError as error:
        return DkimKey(text, str(error), key_type)
    return DkimKey(text, None, key_type, bits=bits, testing=testing, hashes=hashes)


def judge_key(selector: str, where: str, lookup: Lookup) -> tuple[Status, str, dict[str, object]]:
    """One selector's status, a sentence, and its JSON fields."""
    from diagnose.checks import dnsquery

    detail: dict[str, object] = {"selector": selector, "name": where}
    if not lookup.concluded:
        return (
            Status.ERROR,
            # a clause: the sentences of several selectors are joined with "; "
            _("the TXT lookup for {where} failed: {reason}").format(
                where=where, reason=lookup.reason
            ),
            detail,
        )
    texts = dnsquery.txt_strings(lookup.records)
    if not texts:
        return (
            Status.FAIL,
            _(
                "there is no DKIM key at {where}, so letters signed with selector {selector} "
                "fail DKIM"
            ).format(where=where, selector=selector),
            detail,
        )
    if len(texts) > 1:
        detail["records"] = texts
        return (
            Status.FAIL,
            ngettext(
                "there is {n} TXT record at {where}, so the key is undefined "
                "(RFC 6376 §3.6.2.2 allows one)",
                "there are {n} TXT records at {where}, so the key is undefined "
                "(RFC 6376 §3.6.2.2 allows one)",
                len(texts),
            ).format(n=len(texts), where=where),
            detail,
        )
    key = parse_dkim_key(texts[0])
    detail["record"] = key.text
    if key.error:
        return (
            Status.FAIL,
            _("the key record at {where} is invalid: {error}").format(
                where=where, error=_lower(key.error)
            ),
            detail,
        )
    detail["key_type"] = key.key_type
    if key.revoked:
        detail["revoked"] = True
        return (
            Status.WARN,
            _(
                "the key at {where} is revoked (empty p=), so letters signed with it fail DKIM"
            ).format(where=where),
            detail,
        )
    detail["bits"] = key.bits
    notes: list[str] = []
    status = Status.PASS
    if key.key_type == "ed25519":
        found = _("selector {selector} has an Ed25519 key").format(selector=selector)
    else:
        assert key.bits is not None
        found = ngettext(
            "selector {selector} has a {bits}-bit RSA key",
            "selector {selector} has a {bits}-bit RSA key",
            key.bits,
        ).format(selector=selector, bits=key.bits)
        # "{bits:,}" writes 1,024 in English; the Russian text writes {bits} (1024), as
        # Russian uses no comma between thousands.
        if key.bits < RSA_MIN_BITS:
            status = Status.FAIL
            notes.append(
                _("verifiers ignore RSA keys under {bits:,} bits (RFC 8301 §3.2)").format(
                    bits=RSA_MIN_BITS
                )
            )
        elif key.bits < RSA_GOOD_BITS:
            status = Status.WARN
            notes.append(_("use at least {bits:,} bits (RFC 8301 §3.2)").format(bits=RSA_GOOD_BITS))
    if key.hashes and "sha256" not in key.hashes:
        status = overall((status, Status.WARN))
        notes.append(_("h= allows no sha256, and sha1 must not be used (RFC 8301 §3.1)"))
    if key.testing:
        detail["testing"] = True
        status = overall((status, Status.WARN))
        notes.append(_("t=y marks it as testing: verifiers may treat its signatures as unsigned"))
    return status, found + (f": {'; '.join(notes)}" if notes else ""), detail


async def check_dkim(
    resolver: Resolver, name: str, selectors: tuple[str, ...], budget: Budget
) -> CheckResult:
    """The ``dkim`` check: every selector's key record, asked at once."""
    from diagnose.checks import dnsquery

    if not selectors:
        return skipped()
    names = [f"{selector}._domainkey.{name}" for selector in selectors]
    lookups = await asyncio.gather(*(dnsquery.lookup(resolver, n, "TXT", budget) for n in names))
    judged = [
        judge_key(selector, where, lookup)
        for selector, where, lookup in zip(selectors, names, lookups, strict=True)
    ]
    status = overall(status for status, _sentence, _detail in judged)
    keys = [{**detail, "status": str(key_status)} for key_status, _sentence, detail in judged]
    # Each selector's text is a clause; one that ends with a quoted sentence (a key
    # record's error, a lookup's reason) loses its period, so the joined sentence does
    # not end in "..".
    sentences = "; ".join(sentence.rstrip(".") for _status, sentence, _detail in judged)
    return make_result(CHECK_ID, status, sentences[0].upper() + sentences[1:] + ".", keys=keys)


def skipped() -> CheckResult:
    """The check without a selector: there is nothing to look up, and it says why."""
    return make_result(
        CHECK_ID,
        Status.SKIP,
        _(
            "Skipped: DKIM keys are found by selector, and none was given; add --dkim-selector "
            "S with the s= value of a DKIM-Signature header in a letter sent from the domain."
        ),
    )


def _lower(text: str) -> str:
    return text[0].lower() + text[1:] if len(text) > 1 and text[1].islower() else text
