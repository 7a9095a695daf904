"""Keep the translation catalogs in step with the code (Babel, at development time).

    python tools/catalog.py update    # add new messages to every .po, drop gone ones
    python tools/catalog.py compile   # write the .mo files diagnose ships
    python tools/catalog.py check     # exit 1 when a catalog is out of date (CI runs it
                                      # through tests/test_i18n.py)

The messages are, together:
* every string the code marks: ``_("...")``, ``N_("...")``, ``ngettext("...", "...", n)``;
* the help of every command and option, read from the command line itself (click
  takes them from docstrings and ``help=``; ``diagnose.cli.TranslatedHelp`` looks
  them up as they are written out);
* click's own messages ("Usage:", "Options", its errors), which click marks with
  gettext but does not translate.
"""

from __future__ import annotations

import importlib
import inspect
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "diagnose"
LOCALE = PACKAGE / "locale"
DOMAIN = "diagnose"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def _code_messages() -> Iterator[tuple[str | tuple[str, str], str]]:
    for directory, keywords in ((PACKAGE, KEYWORDS), (Path(click.__file__).parent, KEYWORDS)):
        origin = "diagnose" if directory == PACKAGE else "click"
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(directory), method_map=[("**.py", "python")], keywords=keywords
        ):
            if message:
                yield message, f"{origin}/{filename}:{lineno}"


def _cli_messages() -> Iterator[tuple[str, str]]:
    sys.path.insert(0, str(ROOT))
    from diagnose.cli import COMMANDS, cli

    def walk(command: click.Command, path: str) -> Iterator[tuple[str, str]]:
        if command.help:
            yield inspect.cleandoc(command.help).partition("\f")[0], path
        if command.short_help:
            yield inspect.cleandoc(command.short_help), f"{path} (short)"
        for param in command.params:
            if isinstance(param, click.Option) and param.help:
                yield param.help, f"{path} {param.opts[0]}"
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk(sub, f"{path} {name}")

    yield from walk(cli, "diagnose")
    for name, (module, attribute, _short) in COMMANDS.items():
        yield from walk(getattr(importlib.import_module(module), attribute), f"diagnose {name}")


def template() -> Catalog:
    catalog = Catalog(domain=DOMAIN)
    for message, where in (*_code_messages(), *_cli_messages()):
        existing = catalog.get(message[0] if isinstance(message, tuple) else message)
        if existing is None:
            catalog.add(message, locations=[(where, 0)])
    return catalog


def catalogs() -> list[Path]:
    return sorted(LOCALE.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=path.parts[-3], domain=DOMAIN)


def update() -> None:
    fresh = template()
    for path in catalogs():
        catalog = _read(path)
        catalog.update(fresh, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as handle:
            write_po(handle, catalog, width=88, omit_header=False, sort_output=True)
        print(f"updated {path.relative_to(ROOT)}")


def _compiled(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def compile_all() -> None:
    for path in catalogs():
        path.with_suffix(".mo").write_bytes(_compiled(_read(path)))
        print(f"compiled {path.with_suffix('.mo').relative_to(ROOT)}")


def problems() -> list[str]:
    """Why the catalogs are out of date with the code, one sentence each."""
    found: list[str] = []
    wanted = {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in template()
        if message.id
    }
    if not catalogs():
        return [f"{LOCALE}: holds no {DOMAIN}.po catalog."]
    for path in catalogs():
        catalog = _read(path)
        shown = path.relative_to(ROOT)
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
        for message in sorted(wanted - have):
            found.append(f"{shown}: no entry for {message!r} (run tools/catalog.py update).")
        for message in sorted(have - wanted):
            found.append(f"{shown}: {message!r} is no longer in the code (run update).")
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings) or message.fuzzy:
                found.append(f"{shown}: {message.id!r} is not translated.")
        mo = path.with_suffix(".mo")
        if not mo.is_file() or mo.read_bytes() != _compiled(catalog):
            found.append(f"{mo.relative_to(ROOT)}: does not match its .po (run compile).")
    return found


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        found = problems()
        for line in found:
            print(line)
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
