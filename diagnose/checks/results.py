"""Results of live checks: frozen values, never exceptions.

A check that could not be completed (a DNS timeout, SERVFAIL) is a result with status
``error`` ("undetermined"); a check that does not apply is ``skip``. Neither is ever
reported as "missing" or "fine".
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from diagnose.exceptions import EXIT_OK, EXIT_PROBLEM, EXIT_UNDETERMINED


class Status(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"  # undetermined: timeout, SERVFAIL, REFUSED, network trouble
    SKIP = "skip"  # does not apply, or an earlier result blocks it


# How a set of statuses combines: any fail wins, then any error, then any warn.
_SEVERITY = {Status.SKIP: 0, Status.PASS: 1, Status.WARN: 2, Status.ERROR: 3, Status.FAIL: 4}


def overall(statuses: Iterable[Status]) -> Status:
    """The status of a group of checks: fail > error > warn > pass > skip; none is a pass."""
    return max(statuses, key=_SEVERITY.__getitem__, default=Status.PASS)


def exit_code_for(statuses: Iterable[Status]) -> int:
    """0 when nothing failed or was undetermined, 1 when a check failed, 3 when undetermined."""
    status = overall(statuses)
    if status is Status.FAIL:
        return EXIT_PROBLEM
    if status is Status.ERROR:
        return EXIT_UNDETERMINED
    return EXIT_OK


def _frozen(mapping: Mapping[str, object] | None) -> Mapping[str, object]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: a stable ``id``, a status and a sentence saying what was found.

    ``details`` are the check's own extra JSON fields (numbers, strings, lists, objects);
    each check has its own, so readers look up and narrow the ones they know.
    """

    id: str
    status: Status
    message: str
    details: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "details", _frozen(self.details))

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "status": str(self.status), "message": self.message, **self.details}

    def subchecks(self) -> tuple[Mapping[str, object], ...]:
        """The sub-checks a composite check (``mail-domain``) reports under ``checks``."""
        found = self.details.get("checks")
        if not isinstance(found, list | tuple):
            return ()
        return tuple(item for item in found if isinstance(item, Mapping))
