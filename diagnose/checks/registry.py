"""Live checks the knowledge base can ask for, by id.

A live check measures a fact instead of asking it: the country code of a phone number,
the syntax of an email address, whether a mail domain can receive mail. Rules refer to
a check by id; the knowledge base names the question whose answer is its input. Each
check is imported lazily: nothing here loads dnspython or phonenumbers until it runs.
"""

from __future__ import annotations

from typing import Protocol

from diagnose.checks.results import CheckResult
from diagnose.checks.settings import DnsSettings


class LiveCheck(Protocol):
    """A measurable fact. ``run`` never raises for a bad value: it returns a result."""

    id: str
    #: the question types whose answers this check accepts as input
    input_types: frozenset[str]
    description: str

    def run(self, value: str, dns: DnsSettings) -> CheckResult:
        """Measure ``value``; ``details["checks"]`` may hold the sub-checks' results."""
        ...
