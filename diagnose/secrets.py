"""diagnose never asks for, nor stores, a password or a one-time code.

Support never needs them (FAQ: support verifies ownership itself), and a ticket draft
or a saved session is a file that may be mailed around. Anything that looks like one
is refused with a sentence saying why, before it reaches memory that is written out.
"""

from __future__ import annotations

import re

from diagnose.exceptions import SecretRefused

#: Names of fields that would hold a secret; the knowledge-base loader rejects them too.
SECRET_NAME = re.compile(
    r"pass(word|wd|phrase|code)|\botp\b|one[-_ ]?time|2fa[-_ ]?code|pin\b", re.I
)

# A one-time code is 4 to 8 digits typed on their own (TOTP apps show 6).
_CODE_ONLY = re.compile(r"^\s*\d{3}[\s-]?\d{3}\s*$|^\s*\d{4,8}\s*$")
# "password: hunter2", "пароль = ...", "my pwd is ..." in free text.
_PASSWORD_IN_TEXT = re.compile(r"(password|passwd|pwd|пароль)\s*(is|:|=)\s*\S+", re.I)


def refuse_secret(field_id: str, value: str, *, bare_codes: bool = True) -> None:
    """Raise SecretRefused when ``value`` (for ``field_id``) looks like a secret.

    ``bare_codes=False``: a bare number is a legitimate value there (a project named
    "2024"), so only a code or password named as such is refused."""
    if SECRET_NAME.search(field_id):
        raise SecretRefused(
            f"diagnose does not store '{field_id}': support never needs a password or a code."
        )
    if bare_codes and _CODE_ONLY.match(value):
        raise SecretRefused(
            "That looks like a one-time code; diagnose never stores one and support never "
            "asks for it. Describe the problem in words instead."
        )
    if _PASSWORD_IN_TEXT.search(value):
        raise SecretRefused(
            "That text seems to contain a password; remove it. Support never needs your password."
        )
