"""Fill translations into a catalog from a Python dict (a development aid):

    python tools/fill_catalog.py ru FILE.py   # FILE.py defines T = {msgid: msgstr}

Plural entries are keyed by the (singular, plural) pair and give a tuple of forms.
Entries already translated are overwritten only when FILE.py names them."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]


def main(lang: str, source: str) -> int:
    translations = runpy.run_path(source)["T"]
    path = ROOT / "diagnose" / "locale" / lang / "LC_MESSAGES" / "diagnose.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain="diagnose")
    filled = 0
    for message in catalog:
        if message.id and message.id in translations:
            message.string = translations[message.id]
            message.flags.discard("fuzzy")
            filled += 1
    with path.open("wb") as handle:
        write_po(handle, catalog, width=88, sort_output=True)
    print(f"{filled} entries filled in {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
