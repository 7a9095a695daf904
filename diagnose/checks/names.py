"""Domain-name normalization and syntax: pure functions, no DNS.

A name is normalized the way mail software sees it on the wire: IDNA 2008 with the
UTS-46 mapping (the ``idna`` package), so ``Почта.рф`` becomes ``xn--80a1acny.xn--p1ai``;
lowercase; one trailing dot stripped. Length limits come from RFC 1035 §2.3.4 (labels
at most 63 octets) and RFC 1123 §2.1 / RFC 2181 §11 (at most 253 octets as text).
"""

from __future__ import annotations

import ipaddress
import re

from diagnose.exceptions import UsageError
from diagnose.i18n import _, ngettext

#: RFC 6761 §6 special-use names (plus ``local`` from RFC 6762, ``onion`` from RFC 7686
#: and ``arpa``, the infrastructure domain): they never resolve on the public internet,
#: so no mail can be delivered to them. ``example.com/net/org`` are reserved by RFC 6761
#: §6.5 as well.
SPECIAL_USE_TLDS = frozenset({"test", "localhost", "invalid", "example", "local", "onion", "arpa"})
SPECIAL_USE_NAMES = frozenset({"example.com", "example.net", "example.org"})

MAX_LABEL = 63
MAX_NAME = 253

# RFC 952 / RFC 1123 §2.1 host-name label: letters, digits and hyphens, not starting or
# ending with a hyphen. A-labels (xn--...) fit this pattern.
_LDH_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class DomainSyntaxError(ValueError):
    """The text is not a valid domain name; ``str()`` is a whole sentence."""


def is_ip_literal(text: str) -> bool:
    """True for ``192.0.2.1``, ``192.0.2.1.``, ``2001:db8::1`` and ``[192.0.2.1]``."""
    candidate = text.strip().rstrip(".")
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
        if candidate.lower().startswith("ipv6:"):  # RFC 5321 §4.1.3 address literal
            candidate = candidate[5:]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def special_use(domain: str) -> str | None:
    """The RFC 6761 special-use name ``domain`` falls under, or None."""
    labels = domain.lower().rstrip(".").split(".")
    if labels[-1] in SPECIAL_USE_TLDS:
        return labels[-1]
    tail = ".".join(labels[-2:])
    if tail in SPECIAL_USE_NAMES:
        return tail
    return None


#: How much of an input a message quotes: more than any valid domain (253 octets) or
#: address (254), less than the megabytes a line of ``--from-file`` may hold.
QUOTED_MAX = 300


def abbreviated(text: str, limit: int = QUOTED_MAX) -> str:
    """``text`` as a message quotes it: whole up to ``limit`` characters, else its start
    and how much was left out, so a pasted megabyte is not printed back three times."""
    if len(text) <= limit:
        return text
    return ngettext(
        "{start}… ({n} more character)", "{start}… ({n} more characters)", len(text) - limit
    ).format(start=text[:limit], n=len(text) - limit)


def normalize_domain(text: str) -> str:
    """The A-label, lowercase form of ``text`` without a trailing dot.

    Raises ``DomainSyntaxError`` (a sentence naming the problem) for an empty name, an
    IP address, an empty label, a label over 63 octets, a name over 253 octets, a
    character IDNA 2008 does not allow, or an RFC 6761 special-use name.
    """
    import idna  # small, but only the checks need it

    stripped = text.strip()
    name = stripped[:-1] if stripped.endswith(".") else stripped
    shown = abbreviated(stripped)
    if not name:
        raise DomainSyntaxError(_("The domain name is empty."))
    if is_ip_literal(name):
        raise DomainSyntaxError(
            _("'{name}' is an IP address, not a domain name.").format(name=shown)
        )
    if any(not label for label in name.split(".")):
        raise DomainSyntaxError(
            _("'{name}' has an empty label (two dots in a row).").format(name=shown)
        )
    for label in name.split("."):
        # Check ASCII labels here so the message names the label; IDNA checks the rest.
        if label.isascii() and len(label) > MAX_LABEL:
            raise DomainSyntaxError(
                ngettext(
                    "'{name}' has a label of {n} character; "
                    "a label may have at most {max} (RFC 1035).",
                    "'{name}' has a label of {n} characters; "
                    "a label may have at most {max} (RFC 1035).",
                    len(label),
                ).format(name=shown, n=len(label), max=MAX_LABEL)
            )
    if name.isascii() and len(name) > MAX_NAME:
        raise DomainSyntaxError(
            ngettext(
                "The domain name is {n} character long; a domain name may have at most {max}.",
                "The domain name is {n} characters long; a domain name may have at most {max}.",
                len(name),
            ).format(n=len(name), max=MAX_NAME)
        )
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii").lower()
    except idna.IDNAError as error:
        raise DomainSyntaxError(
            _("'{name}' is not a valid domain name: {reason}.").format(
                name=shown, reason=_idna_reason(error)
            )
        ) from None
    except UnicodeError as error:  # idna raises plain UnicodeError for some inputs
        raise DomainSyntaxError(
            _("'{name}' is not a valid domain name: {reason}.").format(name=shown, reason=error)
        ) from None
    for label in ascii_name.split("."):
        if len(label) > MAX_LABEL:
            raise DomainSyntaxError(
                ngettext(
                    "'{name}' has a label of {n} octet once encoded; "
                    "a label may have at most {max} (RFC 1035).",
                    "'{name}' has a label of {n} octets once encoded; "
                    "a label may have at most {max} (RFC 1035).",
                    len(label),
                ).format(name=shown, n=len(label), max=MAX_LABEL)
            )
    if len(ascii_name) > MAX_NAME:
        raise DomainSyntaxError(
            ngettext(
                "'{name}' is {n} octet long once encoded; a domain name may have at most {max}.",
                "'{name}' is {n} octets long once encoded; a domain name may have at most {max}.",
                len(ascii_name),
            ).format(name=shown, n=len(ascii_name), max=MAX_NAME)
        )
    reserved = special_use(ascii_name)
    if reserved is not None:
        raise DomainSyntaxError(
            _(
                "'{name}' is under the special-use name '{reserved}' (RFC 6761), "
                "which never resolves on the internet."
            ).format(name=shown, reserved=reserved)
        )
    return ascii_name


def _idna_reason(error: Exception) -> str:
    # idna's own reason is English (a library's text, not ours): only the fallback is
    # translated.
    reason = str(error).rstrip(".") or _("IDNA 2008 does not allow it")
    return reason[0].lower() + reason[1:]


def host_name_problem(name: str) -> str | None:
    """Why ``name`` (an MX target, with or without the final dot) is not a host name.

    None when it is one. A host name is letters, digits and hyphens per label
    (RFC 1123 §2.1), labels of 1-63 octets, at most 253 octets in all.
    """
    bare = name[:-1] if name.endswith(".") else name
    if is_ip_literal(bare):
        return _(
            "'{name}' is an IP address; an MX record must name a host (RFC 5321 §5.1)."
        ).format(name=bare)
    if not bare:
        return _("The MX target is the root, which is only allowed in a null MX (RFC 7505).")
    if len(bare) > MAX_NAME:
        return _("'{name}' is longer than {max} octets.").format(name=bare, max=MAX_NAME)
    for label in bare.split("."):
        if not _LDH_LABEL.match(label.lower()):
            return _(
                "'{name}' is not a valid host name: the label '{label}' may only hold "
                "letters, digits and inner hyphens (RFC 1123)."
            ).format(name=bare, label=label)
    if bare.rsplit(".", 1)[-1].isdigit():
        return _("'{name}' is not a valid host name: its last label is all digits.").format(
            name=bare
        )
    return None


def doubled_domain(target: str, domain: str) -> bool:
    """True when ``target`` ends with ``domain`` twice (``mail.ex.com.ex.com``).

    That is the mark of a relative name in a zone file (RFC 1035 §5.1): ``MX 10
    mail.ex.com`` without the final dot gets the origin appended once more.
    """
    bare = target.lower().rstrip(".")
    domain = domain.lower().rstrip(".")
    return bare == f"{domain}.{domain}" or bare.endswith(f".{domain}.{domain}")


# RFC 6376 §3.1: selector = sub-domain *( "." sub-domain ). Underscores are accepted
# too, as the DNS allows them and some providers use them.
_SELECTOR_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def parse_selector(text: str) -> str:
    """A ``--dkim-selector`` value, checked and lower-cased; ``UsageError`` (a whole
    sentence) when it cannot be a selector."""
    selector = text.strip().lower().rstrip(".")
    if not selector:
        raise UsageError(_("The DKIM selector is empty; give the s= value of a DKIM-Signature."))
    if "._domainkey" in selector or selector == "_domainkey":
        raise UsageError(
            _(
                "Give only the DKIM selector, not '{text}': for s1._domainkey.example.com the "
                "selector is s1."
            ).format(text=text.strip())
        )
    labels = selector.split(".")
    if len(selector) > 200 or not all(_SELECTOR_LABEL.match(label) for label in labels):
        raise UsageError(
            _(
                "The DKIM selector '{text}' is not valid: it is one or more labels of letters, "
                "digits, hyphens and underscores, separated by dots."
            ).format(text=text.strip())
        )
    return selector
