"""The state of one consultation: everything said so far, serialisable, nothing else.

A front end (the terminal, a web page, an HTTP API) holds a ``State``, asks the
``Conversation`` for the next step, and turns what the person replies into a new
state. The state is a log of entries in the order they were given, so ``back`` is
"drop the last entry" at every prompt, and a saved session file is exactly this state
(``to_json``/``from_json``), so a resumed consultation asks nothing twice.

Entries are of three kinds:

* ``answer``: an answer to a diagnostic question;
* ``ticket``: a ticket field's value, or None when the person skipped it;
* ``reply``: a reply to the conversation itself (``helped`` = yes/no after an article;
  ``review`` = ``ok`` or ``edit:FIELD`` at the ticket draft).

Answers and ticket values given up front (``--answer``, an answers file) are ``given``:
they are not entries, so ``back`` never takes them away. Live-check results are kept in
``checks``, keyed by check and input, so a step recomputed from the state does not
measure again; they are findings, not things the person said, and ``back`` leaves them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple, cast

from diagnose.checks.results import CheckResult, Status
from diagnose.i18n import _

#: Bumped when the session format changes incompatibly; ``from_json`` checks it.
SESSION_VERSION = 2

EntryKind = Literal["answer", "ticket", "reply"]
_KINDS: frozenset[str] = frozenset({"answer", "ticket", "reply"})
_MAX_ENTRIES = 10_000  # far beyond any consultation; bounds what a session file may hold


class Entry(NamedTuple):
    kind: EntryKind
    id: str
    value: str | None  # None: a skipped ticket field


class StateError(ValueError):
    """A serialised state that is not one: ``from_json`` says what is wrong."""


@dataclass(frozen=True)
class State:
    given: Mapping[str, str] = field(default_factory=dict)
    entries: tuple[Entry, ...] = ()
    checks: tuple[tuple[str, str, CheckResult], ...] = ()  # (check id, input, result)
    lang: str = "en"

    # --- reading ------------------------------------------------------------------
    def answers(self, questions: Iterable[str]) -> dict[str, str]:
        """Diagnostic answers, given ones first, then typed ones in order."""
        known = set(questions)
        result = {k: v for k, v in self.given.items() if k in known}
        for entry in self.entries:
            if entry.kind == "answer" and entry.value is not None:
                result[entry.id] = entry.value
        return result

    def ticket_values(self) -> dict[str, str | None]:
        """Ticket fields given or typed (None: skipped); a later entry wins."""
        result: dict[str, str | None] = {}
        for entry in self.entries:
            if entry.kind == "ticket":
                result[entry.id] = entry.value
        return result

    def reply(self, reply_id: str) -> str | None:
        """The latest reply of that id, or None."""
        for entry in reversed(self.entries):
            if entry.kind == "reply" and entry.id == reply_id:
                return entry.value
        return None

    def typed_answers(self) -> int:
        return sum(1 for entry in self.entries if entry.kind == "answer")

    def check_result(self, check_id: str, value: str) -> CheckResult | None:
        for known_id, known_value, result in self.checks:
            if (known_id, known_value) == (check_id, value):
                return result
        return None

    @property
    def can_go_back(self) -> bool:
        return bool(self.entries)

    # --- changing (every change is a new state) ------------------------------------
    def add(self, kind: EntryKind, entry_id: str, value: str | None) -> State:
        return replace(self, entries=(*self.entries, Entry(kind, entry_id, value)))

    def back(self) -> State:
        """The state before the last entry (unchanged when there is none)."""
        return replace(self, entries=self.entries[:-1])

    def reanswer(self, question_id: str, value: str) -> State:
        """Replace an earlier answer: it and everything said after it are dropped, as
        if ``back`` had been typed that many times, then the new answer is given."""
        for index in range(len(self.entries) - 1, -1, -1):
            entry = self.entries[index]
            if entry.kind == "answer" and entry.id == question_id:
                return replace(self, entries=self.entries[:index]).add("answer", question_id, value)
        given = {k: v for k, v in self.given.items() if k != question_id}
        return replace(self, given=given).add("answer", question_id, value)

    def measured(self, check_id: str, value: str, result: CheckResult) -> State:
        return replace(self, checks=(*self.checks, (check_id, value, result)))

    def without_checks(self) -> State:
        """The same conversation with its measurements forgotten (a resumed session
        measures again: DNS may have changed since)."""
        return replace(self, checks=())

    def with_given(self, given: Mapping[str, str]) -> State:
        """Answers given up front win over the same ids typed earlier (a resumed
        session with new ``--answer`` options)."""
        entries = tuple(e for e in self.entries if e.kind == "reply" or e.id not in given)
        return replace(self, given={**self.given, **given}, entries=entries)

    # --- serialising ------------------------------------------------------------------
    def to_json(self) -> dict[str, object]:
        return {
            "diagnose_session": SESSION_VERSION,
            "lang": self.lang,
            "given": dict(self.given),
            "entries": [[e.kind, e.id, e.value] for e in self.entries],
            "checks": [{"input": value, **result.to_dict()} for _, value, result in self.checks],
        }

    @classmethod
    def from_json(cls, data: object) -> State:
        """A state from ``to_json``'s form (or a version-1 session file: its answers
        and ticket tables); raises StateError with a sentence otherwise."""
        if not isinstance(data, dict):
            raise StateError(_("a session must be a JSON object."))
        version = data.get("diagnose_session")
        if version == 1:
            return cls._from_v1(data)
        if version is None:
            raise StateError(_("it has no 'diagnose_session' version, which every session has."))
        if isinstance(version, bool) or not isinstance(version, int) or version > SESSION_VERSION:
            raise StateError(
                _(
                    "its version ({version}) is not one this diagnose reads (1 and "
                    "{current}); a newer diagnose may have written it."
                ).format(version=repr(str(version)[:20]), current=SESSION_VERSION)
            )
        if version != SESSION_VERSION:
            raise StateError(
                _(
                    "it is a session of another version ({version}); this diagnose reads "
                    "versions 1 and {current}."
                ).format(version=repr(version), current=SESSION_VERSION)
            )
        given = data.get("given", {})
        if not isinstance(given, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in given.items()
        ):
            raise StateError(_("its 'given' must map ids to text."))
        raw_entries = data.get("entries", [])
        if not isinstance(raw_entries, list) or len(raw_entries) > _MAX_ENTRIES:
            raise StateError(_("its 'entries' must be a list of [kind, id, value]."))
        entries: list[Entry] = []
        for item in raw_entries:
            if (
                not isinstance(item, list)
                or len(item) != 3
                or not isinstance(item[0], str)
                or item[0] not in _KINDS
                or not isinstance(item[1], str)
                or not (item[2] is None or isinstance(item[2], str))
            ):
                raise StateError(
                    _("the entry {entry} is not [kind, id, value].").format(entry=_shown(item))
                )
            entries.append(Entry(cast(EntryKind, item[0]), item[1], item[2]))  # in _KINDS
        checks: list[tuple[str, str, CheckResult]] = []
        raw_checks = data.get("checks", []) or []
        if not isinstance(raw_checks, list):
            raise StateError(_("its 'checks' must be a list of check results."))
        for item in raw_checks:
            try:
                details = {
                    k: v for k, v in item.items() if k not in {"id", "status", "message", "input"}
                }
                result = CheckResult(item["id"], Status(item["status"]), item["message"], details)
                checks.append((str(item["id"]), str(item["input"]), result))
            except (KeyError, ValueError, TypeError, AttributeError):
                raise StateError(
                    _("the check result {entry} is not one.").format(entry=_shown(item))
                ) from None
        lang = data.get("lang", "en")
        return cls(
            given=dict(given),
            entries=tuple(entries),
            checks=tuple(checks),
            lang=lang if isinstance(lang, str) else "en",
        )

    @classmethod
    def _from_v1(cls, data: dict[str, object]) -> State:
        # Version 1 saved the answers and ticket values only, as two tables; they
        # become typed entries, so `back` can still change them.
        entries: list[Entry] = []
        for kind, key in (("answer", "answers"), ("ticket", "ticket")):
            table = data.get(key, {})
            if not isinstance(table, dict):
                raise StateError(_("its '{key}' must be a table.").format(key=key))
            for entry_id, value in table.items():
                entries.append(Entry(kind, str(entry_id), str(value)))  # type: ignore[arg-type]
        return cls(entries=tuple(entries))


def _shown(item: object) -> str:
    """An entry quoted in an error: its repr, cut short (a session file may hold
    anything, and an error is one line)."""
    text = repr(item)
    return text if len(text) <= 80 else text[:77] + "..."
