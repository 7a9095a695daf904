"""Loads a knowledge base directory of TOML files and validates it into typed objects.

Every ``*.toml`` file in the directory is read (in name order) and may hold any of the
tables ``[support]``, ``[[channel]]``, ``[[ticket_field]]``, ``[[question]]``,
``[[article]]``, ``[[check]]`` and ``[[rule]]``; rules rank in the order read. All
defects are collected, each naming the file and the item, before anything is compiled.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from diagnose.checks.registry import CHECKS_BY_ID
from diagnose.exceptions import KnowledgeBaseError
from diagnose.fileio import InputFileError, reason
from diagnose.i18n import N_, _, ngettext
from diagnose.kb.model import (
    CHECK_STATUSES,
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    LANGUAGES,
    TICKET_FIELD_TYPES,
    TICKET_KEYS,
    UNKNOWN,
    Article,
    Channel,
    CheckBinding,
    Choice,
    Condition,
    KnowledgeBase,
    Outcome,
    Question,
    QuestionType,
    Rule,
    TicketField,
    place,
)
from diagnose.kb.tomlcache import TomlError, read_toml
from diagnose.secrets import asks_for_secret, names_secret

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")

_FIELD = re.compile(r"\{([^{}]*)\}")

#: What a field must be, in the problems reported (translated where they are made).
_A_STRING = N_("a string")
_A_LIST_OF_STRINGS = N_("a list of strings")
_TRUE_OR_FALSE = N_("true or false")
_A_LIST_OF_TABLES = N_("a list of tables")

SECTIONS = ("support", "channel", "ticket_field", "question", "article", "check", "rule")


def default_rules_dir() -> Path:
    """The knowledge base shipped with the package (``rules/`` in the repository).

    An installed distribution carries it as ``diagnose/default_rules``; a source
    checkout (or an editable install) reads ``rules/`` beside the package.
    """
    package = Path(__file__).resolve().parent.parent
    installed = package / "default_rules"
    return installed if installed.is_dir() else package.parent / "rules"


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")


class _Languages:
    """The languages a knowledge base declares (the first is the fallback), the one
    being loaded, and the texts that lack one of them (``kb check`` reports those; a
    consultation shows the fallback instead)."""

    def __init__(self, declared: tuple[str, ...] = (DEFAULT_LANGUAGE,), lang: str | None = None):
        self.declared = declared
        self.lang = lang if lang in declared else declared[0]
        self.missing: list[tuple[str, str]] = []  # (where, what is missing)


class _Reader:
    """Typed access to one TOML table, recording a problem for each wrong field."""

    __slots__ = ("languages", "problems", "table", "where")

    def __init__(
        self, table: Any, where: str, problems: _Problems, languages: _Languages | None = None
    ) -> None:
        self.table: dict[str, Any] = table if isinstance(table, dict) else {}
        self.where = where
        self.problems = problems
        self.languages = languages or _Languages()
        if not isinstance(table, dict):
            problems.add(where, _("must be a table."))

    def nested(self, table: Any, where: str) -> _Reader:
        return _Reader(table, where, self.problems, self.languages)

    def _translated(self, key: str, value: Any, kind: type, kind_name: str) -> Any:
        """One language's value of a text a person reads: a plain value, or a table
        ``{ en = ..., ru = ... }``. Records what is missing for the other languages."""
        languages = self.languages
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(languages.declared))
            for code in unknown:
                declared = ", ".join(languages.declared)
                self.problems.add(
                    self.where,
                    _(
                        "the field '{key}' has text in '{code}', a language the knowledge "
                        "base does not declare (it declares {declared}: [support] languages)."
                    ).format(key=key, code=code, declared=declared),
                )
            for code, text in value.items():
                if not isinstance(text, kind) or (
                    isinstance(text, list) and not all(isinstance(item, str) for item in text)
                ):
                    self.problems.add(
                        self.where,
                        _("the field '{key}' in '{code}' must be {kind}.").format(
                            key=key, code=code, kind=_(kind_name)
                        ),
                    )
                    return None
            for code in languages.declared:
                if not value.get(code):
                    languages.missing.append(
                        (
                            self.where,
                            _("the field '{key}' has no {language} ({code}) text.").format(
                                key=key, language=_(LANGUAGE_NAMES[code]), code=code
                            ),
                        )
                    )
            for code in (languages.lang, *languages.declared):
                if value.get(code):
                    return value[code]
            return None
        if len(languages.declared) > 1:
            given = ", ".join(f"{code} = ..." for code in languages.declared)
            languages.missing.append(
                (
                    self.where,
                    ngettext(
                        "the field '{key}' is in one language only; the knowledge base "
                        "declares {n}: write it as {{ {given} }}.",
                        "the field '{key}' is in one language only; the knowledge base "
                        "declares {n}: write it as {{ {given} }}.",
                        len(languages.declared),
                    ).format(key=key, n=len(languages.declared), given=given),
                )
            )
        return value

    def words(
        self, key: str, default: str = "", required: bool = True, neutral: bool = False
    ) -> str:
        """A text a person reads, in the language being loaded. With ``neutral``, a plain
        string is the same in every language (an address); a table still gives one per
        language (a link to a page that exists per language)."""
        if isinstance(self.table.get(key), dict):
            text = self._translated(key, self.table[key], str, _A_STRING)
            if isinstance(text, str):
                if required and not text.strip():
                    self.problems.add(self.where, _("the field '{key}' is empty.").format(key=key))
                return text
            if text is None and required:
                self.problems.add(self.where, _("the field '{key}' is empty.").format(key=key))
            return default
        value = self.text(key, default, required)
        if key in self.table and isinstance(value, str) and not neutral:
            self._translated(key, value, str, _A_STRING)
        return value

    def all_words(self, key: str) -> tuple[str, ...]:
        """Every language's text of ``key`` (choice labels are understood in any)."""
        value = self.table.get(key)
        if isinstance(value, dict):
            return tuple(text for text in value.values() if isinstance(text, str) and text)
        return (value,) if isinstance(value, str) and value else ()

    def lines(self, key: str, required: bool = False) -> tuple[str, ...]:
        """A list of texts a person reads (steps, advice), in the language loaded."""
        value = self.table.get(key)
        if isinstance(value, dict):
            found = self._translated(key, value, list, _A_LIST_OF_STRINGS)
            if found is None and required:
                self.problems.add(self.where, _("the field '{key}' is missing.").format(key=key))
            return tuple(found or ())
        found_lines = self.texts(key, required)
        if key in self.table:
            self._translated(key, list(found_lines), list, _A_LIST_OF_STRINGS)
        return found_lines

    def _get(self, key: str, kind: type[T], kind_name: str, default: T, required: bool) -> T:
        if key not in self.table:
            if required:
                self.problems.add(self.where, _("the field '{key}' is missing.").format(key=key))
            return default
        value = self.table[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            self.problems.add(
                self.where,
                _("the field '{key}' must be {kind}.").format(key=key, kind=_(kind_name)),
            )
            return default
        return value

    def text(self, key: str, default: str = "", required: bool = True) -> str:
        # The common case first, in a few operations: a knowledge base of 10,000 rules
        # reads 100,000 text fields (README.md, "Performance").
        found = self.table.get(key)
        if type(found) is str and (not required or found.strip()):
            return found
        value = self._get(key, str, _A_STRING, default, required)
        if required and isinstance(value, str) and not value.strip() and key in self.table:
            self.problems.add(self.where, _("the field '{key}' is empty.").format(key=key))
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        return self._get(key, bool, _TRUE_OR_FALSE, default, required=False)

    def texts(self, key: str, required: bool = False) -> tuple[str, ...]:
        value = self._get(key, list, _A_LIST_OF_STRINGS, [], required)
        if not all(isinstance(item, str) for item in value):
            self.problems.add(
                self.where, _("the field '{key}' must be a list of strings.").format(key=key)
            )
            return ()
        return tuple(value)

    def tables(self, key: str, required: bool = False) -> list[Any]:
        return self._get(key, list, _A_LIST_OF_TABLES, [], required)

    def one_of(self, key: str, kind: type[E], default: E) -> E:
        """A field whose value names a member of the enum ``kind``; ``default`` (after
        recording the problem) when it names none."""
        name = self.text(key)
        try:
            return kind(name)
        except ValueError:
            legal = ", ".join(member.value for member in kind)
            self.problems.add(
                self.where,
                _("unknown {key} '{name}' (expected one of {legal}).").format(
                    key=key, name=name, legal=legal
                ),
            )
            return default

    def unknown_keys(self, allowed: set[str]) -> None:
        for key in self.table:
            if key not in allowed:
                self.problems.add(self.where, _("unknown field '{key}'.").format(key=key))


def _one_or_many(value: Any) -> frozenset[str] | None:
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return frozenset(value)
    return None


# Questions whose answer is typed in (a ticket field's always is): their id names what
# is stored, so it must not name a secret. A choice or yes/no question ("lost-password":
# "Did you lose your password?") stores a choice, never the password.
_TYPED = frozenset({QuestionType.TEXT, QuestionType.EMAIL, QuestionType.PHONE, QuestionType.DOMAIN})


def _refuse_secret(r: _Reader, typed: bool = True) -> None:
    """No question or ticket field may ask for a password or a one-time code: neither
    by its prompt ("Enter the code from SMS", "Введите пароль") nor, when its answer is
    typed in, by its id ("password", "sms-code")."""
    field_id = r.table.get("id")
    if typed and isinstance(field_id, str) and names_secret(field_id):
        r.problems.add(
            r.where,
            _(
                "diagnose never asks for a password or a one-time code. Its id names one: "
                "rename it."
            ),
        )
    for prompt in r.all_words("prompt"):
        asked = asks_for_secret(prompt)
        if asked is not None:
            r.problems.add(
                r.where,
                _(
                    "diagnose never asks for a password or a one-time code. Its prompt asks "
                    'for one ("{asked}"): reword it.'
                ).format(asked=asked),
            )


def load(directory: Path | str | None = None, lang: str | None = None) -> KnowledgeBase:
    """Load and validate the knowledge base in ``directory`` (default: the shipped one),
    with its texts in ``lang`` (default: the language diagnose speaks now; when the
    knowledge base does not declare it, its first language).

    Raises KnowledgeBaseError listing every defect found.
    """
    base = Path(directory) if directory is not None else default_rules_dir()
    problems = _Problems()
    if not base.is_dir():
        raise KnowledgeBaseError([f"{base}: " + _("is not a directory of knowledge-base files.")])
    files = sorted(base.glob("*.toml"))
    if not files:
        raise KnowledgeBaseError([f"{base}: " + _("holds no knowledge-base (*.toml) files.")])

    # Gather the raw tables of every section, remembering which file each came from.
    raw: dict[str, list[tuple[str, Any]]] = {section: [] for section in SECTIONS}
    for path in files:
        shown = str(path)
        try:
            data = read_toml(path)
        except OSError as error:
            problems.add(shown, _("cannot be read ({error}).").format(error=reason(error)))
            continue
        except InputFileError as error:  # a FIFO, a device, too large
            problems.add(shown, _("cannot be read: it {error}.").format(error=error))
            continue
        except TomlError as error:
            problems.add(shown, _("is not valid TOML: {error}.").format(error=error))
            continue
        for key, value in data.items():
            if key not in SECTIONS:
                problems.add(
                    shown,
                    _("unknown table '{key}' (expected one of {sections}).").format(
                        key=key, sections=", ".join(SECTIONS)
                    ),
                )
            elif key == "support":
                raw[key].append((shown, value))
            elif not isinstance(value, list):
                problems.add(
                    shown,
                    _("'{key}' must be an array of tables: write [[{key}]].").format(key=key),
                )
            else:
                raw[key].extend((shown, item) for item in value)
    if problems.items:
        raise KnowledgeBaseError(problems.items)

    def collect(section: str, build: Callable[[_Reader, str], Any]) -> dict[str, Any]:
        """Build every item of a section, keyed by id, reporting duplicate ids."""
        items: dict[str, Any] = {}
        origin: dict[str, str] = {}
        for index, (shown, table) in enumerate(raw[section]):
            item_id = table.get("id") if isinstance(table, dict) else None
            if not isinstance(item_id, str) or not item_id:
                problems.add(
                    f"{shown}: " + place(section, number=index + 1),
                    _("the field 'id' must be a non-empty string."),
                )
                continue
            where = f"{shown}: " + place(section, item_id)
            if item_id in items:
                problems.add(
                    where, _("duplicate id (first defined in {file}).").format(file=origin[item_id])
                )
                continue
            items[item_id] = build(_Reader(table, where, problems, languages), shown)
            origin[item_id] = shown
        return items

    # --- support, channels, ticket fields ----------------------------------------
    if lang is None:
        from diagnose import i18n

        lang = i18n.current()
    name, fallback = "support", ""
    languages = _Languages(lang=lang)
    if len(raw["support"]) > 1:
        problems.add(raw["support"][1][0], _("[support] is defined in more than one file."))
    for shown, table in raw["support"][:1]:
        reader = _Reader(table, f"{shown}: [support]", problems)
        reader.unknown_keys({"name", "fallback", "languages"})
        declared = reader.texts("languages") or (DEFAULT_LANGUAGE,)
        for code in declared:
            if code not in LANGUAGES:
                reader.problems.add(
                    reader.where,
                    _("unknown language '{code}' in 'languages' (diagnose speaks {known}).").format(
                        code=code, known=", ".join(LANGUAGES)
                    ),
                )
        if len(set(declared)) != len(declared):
            reader.problems.add(reader.where, _("'languages' names a language twice."))
        known = tuple(dict.fromkeys(code for code in declared if code in LANGUAGES))
        languages = _Languages(known or (DEFAULT_LANGUAGE,), lang)
        reader.languages = languages
        name = reader.words("name")
        fallback = reader.text("fallback")
    if not raw["support"]:
        problems.add(str(base), _("no [support] table names the fallback article."))

    def build_channel(r: _Reader, shown: str) -> Channel:
        r.unknown_keys({"id", "name", "address", "hours"})
        address = r.words("address", neutral=True)
        return Channel(r.text("id"), r.words("name"), address, r.words("hours"))

    def build_choices(r: _Reader, required: bool) -> tuple[Choice, ...]:
        choices: list[Choice] = []
        seen: set[str] = set()
        for index, item in enumerate(r.tables("choices", required=required)):
            choice = r.nested(item, f"{r.where}, " + place("choice", number=index + 1))
            choice.unknown_keys({"id", "label"})
            choice_id, label = choice.text("id"), choice.words("label")
            if choice_id in seen or choice_id == UNKNOWN:
                why = (
                    _("the choice id '{id}' is reserved.")
                    if choice_id == UNKNOWN
                    else _("the choice id '{id}' is a duplicate.")
                )
                r.problems.add(r.where, why.format(id=choice_id))
            seen.add(choice_id)
            choices.append(Choice(choice_id, label, choice.all_words("label")))
        return tuple(choices)

    def build_field(r: _Reader, shown: str) -> TicketField:
        r.unknown_keys(
            {"id", "prompt", "help", "multiline", "label", "type", "choices", "default_from"}
        )
        _refuse_secret(r)
        field_id = r.text("id")
        if field_id in TICKET_KEYS:
            r.problems.add(
                r.where,
                _("the id '{id}' is one of the ticket's own keys ({keys}); choose another.").format(
                    id=field_id, keys=", ".join(sorted(TICKET_KEYS))
                ),
            )
        ftype = r.one_of("type", QuestionType, QuestionType.TEXT) if "type" in r.table else None
        if ftype is not None and ftype not in TICKET_FIELD_TYPES:
            legal = ", ".join(sorted(TICKET_FIELD_TYPES))
            r.problems.add(
                r.where, _("a ticket field's type must be one of {legal}.").format(legal=legal)
            )
        ftype = ftype or QuestionType.TEXT
        choices = build_choices(r, required=ftype is QuestionType.CHOICE)
        if choices and ftype is not QuestionType.CHOICE:
            r.problems.add(
                r.where,
                _("a ticket field of type '{type}' cannot have choices.").format(type=ftype),
            )
        multiline = r.flag("multiline")
        if multiline and ftype is not QuestionType.TEXT:
            r.problems.add(r.where, _("only a text field can be multiline."))
        return TicketField(
            id=field_id,
            prompt=r.words("prompt"),
            help=r.words("help", required=False),
            multiline=multiline,
            label=r.words("label", required=False),
            type=ftype,
            choices=choices,
            default_from=r.text("default_from", required=False),
            source=shown,
        )

    def check_field_names(field: TicketField, where: str) -> None:
        """A field id shares ``--answer``'s namespace with the questions; its default
        comes from a question."""
        if field.id in questions:
            problems.add(
                where,
                _("the id '{id}' is also a question's id; choose another.").format(id=field.id),
            )
        if field.default_from and field.default_from not in questions:
            problems.add(
                where,
                _("default_from names an unknown question '{id}'.").format(id=field.default_from),
            )

    channels = collect("channel", build_channel)
    ticket_fields = collect("ticket_field", build_field)

    # --- questions -----------------------------------------------------------------
    def build_question(r: _Reader, shown: str) -> Question:
        r.unknown_keys({"id", "type", "prompt", "help", "why", "choices"})
        qtype = r.one_of("type", QuestionType, QuestionType.TEXT)
        _refuse_secret(r, typed=qtype in _TYPED)
        choices = build_choices(r, required=qtype is QuestionType.CHOICE)
        if choices and qtype is not QuestionType.CHOICE:
            r.problems.add(
                r.where, _("a question of type '{type}' cannot have choices.").format(type=qtype)
            )
        return Question(
            id=r.text("id"),
            type=qtype,
            prompt=r.words("prompt"),
            help=r.words("help", required=False),
            why=r.words("why", required=False),
            choices=choices,
            source=shown,
        )

    questions = collect("question", build_question)
    for field in ticket_fields.values():
        check_field_names(field, f"{field.source}: " + place("ticket_field", field.id))

    # --- articles ------------------------------------------------------------------
    own_fields: dict[str, str] = {}  # an article's own field id -> the article's place

    def build_article(r: _Reader, shown: str) -> Article:
        r.unknown_keys(
            {
                "id",
                "title",
                "outcome",
                "summary",
                "steps",
                "faq",
                "channel",
                "ticket",
                "ticket_field",
            }
        )
        fields: list[TicketField] = []
        for index, table in enumerate(r.tables("ticket_field")):
            field_id = table.get("id") if isinstance(table, dict) else None
            where = f"{r.where}, " + (
                place("ticket_field", field_id)
                if isinstance(field_id, str) and field_id
                else place("ticket_field", number=index + 1)
            )
            field = build_field(r.nested(table, where), shown)
            if field.id in ticket_fields or field.id in own_fields:
                first = own_fields.get(field.id) or ticket_fields[field.id].source
                r.problems.add(
                    where,
                    _("duplicate ticket field id (first defined in {file}).").format(file=first),
                )
                continue
            check_field_names(field, where)
            own_fields[field.id] = r.where
            fields.append(field)
        outcome = r.one_of("outcome", Outcome, Outcome.INFORMATION)
        channel = r.text("channel", required=False) or None
        ticket = r.texts("ticket")
        if outcome is Outcome.ESCALATION and channel is None:
            r.problems.add(r.where, _("an escalation must name the support channel to use."))
        if channel is not None and channel not in channels:
            r.problems.add(r.where, _("unknown channel '{id}'.").format(id=channel))
        mine = {field.id for field in fields}
        for field_id in ticket:
            if field_id not in ticket_fields and field_id not in mine:
                r.problems.add(r.where, _("unknown ticket field '{id}'.").format(id=field_id))
        for field_id in sorted(mine - set(ticket)):
            r.problems.add(
                r.where,
                _("its ticket field '{id}' is not listed in its 'ticket' list.").format(
                    id=field_id
                ),
            )
        return Article(
            id=r.text("id"),
            title=r.words("title"),
            outcome=outcome,
            summary=r.words("summary"),
            steps=r.lines("steps", required=True),
            faq=r.words("faq", required=False),
            channel=channel,
            ticket=ticket,
            source=shown,
            fields=tuple(fields),
        )

    articles = collect("article", build_article)
    if fallback and fallback not in articles:
        problems.add(
            f"{raw['support'][0][0]}: [support]",
            _("unknown fallback article '{id}'.").format(id=fallback),
        )

    # --- checks --------------------------------------------------------------------
    def build_check(r: _Reader, shown: str) -> CheckBinding:
        r.unknown_keys({"id", "input"})
        check_id, input_id = r.text("id"), r.text("input")
        spec = CHECKS_BY_ID.get(check_id)
        if spec is None:
            known = ", ".join(sorted(CHECKS_BY_ID))
            r.problems.add(
                r.where, _("unknown check (diagnose knows {known}).").format(known=known)
            )
        question = questions.get(input_id)
        if question is None:
            r.problems.add(r.where, _("unknown input question '{id}'.").format(id=input_id))
        elif spec is not None and question.type.value not in spec.input_types:
            accepted = _(" or ").join(sorted(spec.input_types))
            r.problems.add(
                r.where,
                _(
                    "its input question '{id}' is of type {type}, but the check measures a "
                    "{accepted}."
                ).format(id=input_id, type=question.type, accepted=accepted),
            )
        return CheckBinding(check_id, input_id, shown)

    checks = collect("check", build_check)

    # --- rules ---------------------------------------------------------------------
    # Each question's legal answers as a set, built once: conditions name the same few
    # questions over and over, and rebuilding a 10,000-choice question's values for each
    # of 10,000 conditions made loading quadratic (5.8 s; issue 9).
    legal_sets: dict[str, frozenset[str] | None] = {}

    def legal_set(question: Question) -> frozenset[str] | None:
        if question.id not in legal_sets:
            values = question.values
            legal_sets[question.id] = None if values is None else frozenset(values)
        return legal_sets[question.id]

    def build_condition(r: _Reader, index: int) -> Condition | None:
        table = r.table  # always a table: _Reader recorded a problem for anything else
        where = f"{r.where}, " + place("condition", number=index + 1)
        kinds = [kind for kind in ("question", "check") if kind in table]
        tests = [test for test in ("is", "is_not") if test in table]
        extra = set(table) - {"question", "check", "is", "is_not"}
        if len(kinds) != 1 or len(tests) != 1 or extra:
            problems.add(
                where,
                _(
                    "must be {{ question = ID, is = VALUE }} or {{ check = ID, is = STATUS }} "
                    "(or is_not)."
                ).format(),
            )
            return None
        kind, test = kinds[0], tests[0]
        target, values = table[kind], _one_or_many(table[test])
        if not isinstance(target, str) or values is None:
            problems.add(
                where,
                _("'{kind}' must be an id and '{test}' a value or a list of values.").format(
                    kind=kind, test=test
                ),
            )
            return None
        if kind == "question":
            question = questions.get(target)
            if question is None:
                problems.add(where, _("unknown question '{id}'.").format(id=target))
                return None
            legal = legal_set(question)
            if legal is not None and not values <= legal:
                listed = ", ".join(question.values or ())
                for value in sorted(values - legal):
                    problems.add(
                        where,
                        _("'{value}' is not an answer to '{id}' (legal: {legal}).").format(
                            value=value, id=target, legal=listed
                        ),
                    )
        else:
            if target not in checks:
                problems.add(
                    where,
                    _("unknown check '{id}' (declare it in a [[check]] table).").format(id=target),
                )
                return None
            for value in sorted(values - CHECK_STATUSES):
                problems.add(
                    where,
                    _("'{value}' is not a check status (legal: {legal}).").format(
                        value=value, legal=", ".join(sorted(CHECK_STATUSES))
                    ),
                )
        return Condition(kind, target, values, negated=test == "is_not")

    rank_counter = iter(range(len(raw["rule"])))

    def build_rule(r: _Reader, shown: str) -> Rule:
        r.unknown_keys({"id", "article", "rationale", "when", "advice"})
        article = r.text("article")
        if article and article not in articles:
            r.problems.add(r.where, _("unknown article '{id}'.").format(id=article))
        when_tables = r.tables("when", required=True)
        conditions = tuple(
            c
            for index, table in enumerate(when_tables)
            if (c := build_condition(r.nested(table, r.where), index)) is not None
        )
        advice = r.lines("advice")
        for line in advice:
            # str.format fields, as Consultation fills them ("{{" and "}}" are literal).
            for name in _FIELD.findall(line.replace("{{", "").replace("}}", "")):
                if name not in checks and name not in questions:
                    r.problems.add(
                        r.where,
                        _("advice names '{{{name}}}', which is no check or question.").format(
                            name=name
                        ),
                    )
        return Rule(
            id=r.text("id"),
            article=article,
            rationale=r.words("rationale"),
            when=conditions,
            advice=advice,
            rank=next(rank_counter),
            source=shown,
        )

    rules = collect("rule", build_rule)

    # --- reachability and use ------------------------------------------------------
    concluded = {rule.article for rule in rules.values()}
    for article in articles.values():
        if article.id not in concluded:
            problems.add(
                f"{article.source}: " + place("article", article.id), _("no rule leads to it.")
            )
    used = {c.target for rule in rules.values() for c in rule.when if c.kind == "question"}
    used |= {binding.input for binding in checks.values()}
    for question in questions.values():
        if question.id not in used:
            problems.add(
                f"{question.source}: " + place("question", question.id), _("no rule uses it.")
            )
    used_checks = {c.target for rule in rules.values() for c in rule.when if c.kind == "check"}
    for binding in checks.values():
        if binding.id not in used_checks:
            problems.add(f"{binding.source}: " + place("check", binding.id), _("no rule uses it."))
    if not rules:
        problems.add(str(base), _("holds no rules."))

    if problems.items:
        raise KnowledgeBaseError(problems.items)
    return KnowledgeBase(
        name=name,
        fallback=fallback,
        channels=tuple(channels.values()),
        ticket_fields=tuple(ticket_fields.values()),
        questions=questions,
        articles=articles,
        checks=checks,
        rules=tuple(sorted(rules.values(), key=lambda rule: rule.rank)),
        directory=base,
        languages=languages.declared,
        lang=languages.lang,
        missing=tuple(languages.missing),
    )
