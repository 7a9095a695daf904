"""The language diagnose speaks: English or Russian, for every text a person reads.

Code strings go through ``_`` (and ``ngettext`` for counts) from this module; the
catalogs are gettext's, kept with Babel (``diagnose/locale/``, README "Translations"),
and shipped compiled. English needs no catalog: nothing is loaded for it, so start-up
does not pay for languages it does not speak. click marks its own messages ("Usage:",
"Options", "Show this message and exit.") with the stdlib gettext but ships no
translation: ``activate`` points click's modules at this catalog, which holds them.

The language is chosen once per run: ``diagnose --lang ru|en``, then ``DIAGNOSE_LANG``,
then the locale variables in gettext's order (LANGUAGE, LC_ALL, LC_MESSAGES, LANG),
then English.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import contextvars

#: The languages diagnose speaks; the first is the default.
LANGUAGES = ("en", "ru")
DEFAULT = LANGUAGES[0]
DOMAIN = "diagnose"
LOCALE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")

#: The environment variables that choose the language, in the order they are read.
VARIABLES = ("DIAGNOSE_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


class _Catalog(Protocol):
    def gettext(self, message: str, /) -> str: ...
    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


_current = DEFAULT
_catalog: _Catalog | None = None

#: A language for this context only (a web request), over the process-wide one. A
#: server answers requests in several languages at once, and ``activate`` changes the
#: whole process; a ContextVar belongs to one asyncio task (and the threads it starts
#: with the task's context), so concurrent requests never see each other's language.
#: Made by the first ``speaking``: the CLI never imports contextvars for it.
_local: contextvars.ContextVar[tuple[str, _Catalog | None] | None] | None = None
_catalogs: dict[str, _Catalog | None] = {}


def normalize(value: str | None) -> str | None:
    """The supported language a locale name means (``ru_RU.UTF-8`` -> ``ru``), or
    None (``C``, ``POSIX``, a language diagnose does not speak, nothing)."""
    if not value:
        return None
    code = value.strip().split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return code if code in LANGUAGES else None


def from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The language the environment asks for, English when none it names is spoken.

    LANGUAGE is a colon-separated list of preferences; the first one spoken wins.
    As in Python's gettext, the first variable that is set decides, whatever it says
    (LC_ALL=C means English even when LANG says Russian).
    """
    environ = os.environ if environ is None else environ
    chosen = normalize(environ.get("DIAGNOSE_LANG"))
    if chosen is not None:
        return chosen
    for name in VARIABLES[1:]:
        value = environ.get(name)
        if not value:
            continue
        for item in value.split(":") if name == "LANGUAGE" else (value,):
            found = normalize(item)
            if found is not None:
                return found
        return DEFAULT
    return DEFAULT


def _here() -> tuple[str, _Catalog | None] | None:
    """The language bound to this context by ``speaking``, if any."""
    return None if _local is None else _local.get()


def current() -> str:
    local = _here()
    return _current if local is None else local[0]


class MoCatalog:
    """A compiled gettext catalog (``.mo``) looked up in place: the file's bytes are read
    once, and each message is found by binary search in its table of originals, which
    the compiler writes sorted (Babel's ``write_mo``, GNU msgfmt). The stdlib's
    ``GNUTranslations`` decodes every entry into a dict up front, which a run that
    prints a handful of messages (``--version``) pays for in full; here nothing is
    decoded until it is asked for, and ``gettext`` is imported only for the first
    plural (its Plural-Forms expression). A test compares every entry with the
    stdlib's reading of the same file."""

    def __init__(self, data: bytes) -> None:
        import struct

        magic = int.from_bytes(data[:4], "little")
        if magic == 0x950412DE:
            self._order = "<"
        elif magic == 0xDE120495:
            self._order = ">"
        else:
            raise ValueError("not a gettext catalog (bad magic number)")
        self._unpack = struct.Struct(self._order + "II").unpack_from
        _revision, self._count, self._originals, self._translations = struct.unpack_from(
            self._order + "4I", data, 4
        )
        self._data = data
        self._found: dict[str, str | None] = {}
        self._plural: Callable[[int], int] | None = None

    def _lookup(self, key: str) -> str | None:
        if key in self._found:
            return self._found[key]
        wanted = key.encode("utf-8")
        data, unpack = self._data, self._unpack
        low, high = 0, self._count
        found = None
        while low < high:
            middle = (low + high) // 2
            length, offset = unpack(data, self._originals + 8 * middle)
            original = data[offset : offset + length]
            if original < wanted:
                low = middle + 1
            elif original > wanted:
                high = middle
            else:
                length, offset = unpack(data, self._translations + 8 * middle)
                found = data[offset : offset + length].decode("utf-8")
                break
        self._found[key] = found
        return found

    def gettext(self, message: str, /) -> str:
        found = self._lookup(message) if message else None
        return message if found is None else found

    def ngettext(self, singular: str, plural: str, n: int, /) -> str:
        found = self._lookup(singular + "\0" + plural)
        if found is None:
            return singular if n == 1 else plural
        forms = found.split("\0")
        return forms[min(self.plural_index(n), len(forms) - 1)]

    def plural_index(self, n: int) -> int:
        if self._plural is None:
            import gettext  # its C-expression parser, for the header's Plural-Forms

            header = self._lookup("") or ""
            rule = "plural=(n != 1);"
            for line in header.splitlines():
                name, _colon, value = line.partition(":")
                if name.strip().lower() == "plural-forms":
                    rule = value
            expression = rule.split("plural=", 1)[1].strip().rstrip(";")
            self._plural = gettext.c2py(expression)
        return self._plural(n)


def catalog_path(lang: str) -> str:
    return os.path.join(LOCALE_DIR, lang, "LC_MESSAGES", DOMAIN + ".mo")


def _load_catalog(lang: str) -> _Catalog | None:
    """``lang``'s catalog, read once; None (English) when it cannot be read: a broken
    install speaks English, not a traceback."""
    if lang not in _catalogs:
        try:
            with open(catalog_path(lang), "rb") as handle:
                _catalogs[lang] = MoCatalog(handle.read())
        except (OSError, ValueError):
            _catalogs[lang] = None
    return _catalogs[lang]


@contextlib.contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Speak ``lang`` in this context only (English for anything unknown); the
    process-wide language is left as it is."""
    global _local
    if _local is None:
        import contextvars

        _local = contextvars.ContextVar("diagnose_language", default=None)
    lang = lang if lang in LANGUAGES else DEFAULT
    token = _local.set((lang, None if lang == DEFAULT else _load_catalog(lang)))
    try:
        yield
    finally:
        _local.reset(token)


def activate(lang: str) -> None:
    """Speak ``lang`` from now on (English for anything unknown)."""
    global _current, _catalog
    lang = lang if lang in LANGUAGES else DEFAULT
    if lang == _current and (lang == DEFAULT or _catalog is not None):
        return
    _current = lang
    _catalog = None if lang == DEFAULT else _load_catalog(lang)
    _teach_click()


def _(message: str) -> str:
    """``message`` in the current language."""
    local = _here()
    catalog = _catalog if local is None else local[1]
    return message if catalog is None else catalog.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` (Russian has three: 1 домен, 2 домена, 5 доменов)."""
    local = _here()
    catalog = _catalog if local is None else local[1]
    if catalog is None:
        return singular if n == 1 else plural
    return catalog.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks ``message`` for the catalog without translating it here (translated where
    it is shown, with ``_``: help texts are defined before the language is chosen)."""
    return message


def _teach_click() -> None:
    # click's modules call the ``_`` and ``ngettext`` they imported from gettext;
    # pointing those names here gives click's messages this catalog's translations.
    for name, module in list(sys.modules.items()):
        if name == "click" or name.startswith("click."):
            if callable(getattr(module, "_", None)):
                module._ = _  # type: ignore[attr-defined]
            if callable(getattr(module, "ngettext", None)):
                module.ngettext = ngettext  # type: ignore[attr-defined]


def from_accept_language(header: str) -> str | None:
    """The spoken language an HTTP Accept-Language header prefers most (RFC 9110
    section 12.5.4: tags with optional ``;q=`` weights, 0 meaning "not acceptable"),
    or None when it names none diagnose speaks. A malformed part is ignored."""
    best: str | None = None
    best_q = 0.0
    for part in header.split(",")[:64]:  # a browser sends a handful; bound the work
        tag, _sep, params = part.partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _eq, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:  # also NaN
                    q = 0.0
        lang = normalize(tag) if tag.strip() != "*" else None
        if lang is not None and q > best_q:
            best, best_q = lang, q
    return best
