"""The ``name=value`` fields of an MTA-STS record (RFC 8461 §3.1) and a TLS-RPT record
(RFC 8460 §3): both follow ``v=...`` with fields separated by ``*WSP ";" *WSP``, allow
one trailing delimiter, and accept an extension field of the same grammar:

    ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
    ext-value = 1*(%x21-3A / %x3C / %x3E-7E)   ; visible characters but "=" and ";"
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from diagnose.i18n import _

EXT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
EXT_VALUE = re.compile(r"^[\x21-\x3a\x3c\x3e-\x7e]+$")


def parse_fields(
    text: str, known: Mapping[str, Callable[[str], str | None]]
) -> dict[str, str] | str:
    """The fields after the version, by name; or the sentence saying what is wrong
    with the first bad one. A field named in ``known`` is checked by its function (a
    sentence when the value is wrong, else None); any other must be a well-formed
    extension, which the caller then ignores."""
    parts = [part.strip(" \t") for part in text.split(";")[1:]]
    if parts and parts[-1] == "":
        parts.pop()  # one trailing delimiter is allowed
    found: dict[str, str] = {}
    for part in parts:
        name, sep, value = part.partition("=")
        if not sep or not name:
            return _("The part '{part}' is not a name=value field.").format(part=part)
        if name in found:
            return _("The field '{name}=' appears more than once.").format(name=name)
        found[name] = value
        check = known.get(name)
        problem = check(value) if check else None
        if check is None and not (EXT_NAME.match(name) and EXT_VALUE.match(value)):
            problem = _("The field '{field}' is malformed.").format(field=part)
        if problem:
            return problem
    return found
