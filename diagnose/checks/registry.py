"""Live checks the knowledge base can ask for, by id.

A live check measures a fact instead of asking it: the country code of a phone number,
the syntax of an email address, whether a mail domain can receive mail. Rules refer to
a check by id; the knowledge base names the question whose answer is its input. Each
check is imported lazily: nothing here loads dnspython or phonenumbers until it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import NamedTuple, Protocol

from diagnose.checks.results import CheckResult
from diagnose.checks.settings import DnsSettings
from diagnose.i18n import N_


class LiveCheck(Protocol):
    """A measurable fact. ``run`` never raises for a bad value: it returns a result."""

    id: str
    #: the question types whose answers this check accepts as input
    input_types: frozenset[str]
    description: str

    def run(self, value: str, dns: DnsSettings) -> CheckResult:
        """Measure ``value``; ``details["checks"]`` may hold the sub-checks' results."""
        ...


class CheckSpec(NamedTuple):
    """What the knowledge base may know of a check without importing it."""

    id: str
    input_types: frozenset[str]
    description: str
    #: "module:Class" of the LiveCheck implementation, imported when the check runs
    implementation: str

    def load(self) -> LiveCheck:
        module, _, name = self.implementation.partition(":")
        factory: Callable[[], LiveCheck] = getattr(importlib.import_module(module), name)
        return factory()


#: The registry: every live check a rule may name (descriptions are translated where
#: they are shown). Add a check here and in its module.
CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "phone-country",
        frozenset({"phone"}),
        N_("the phone number's country (registration takes Russian +7 numbers)"),
        "diagnose.checks.phone:PhoneCountryCheck",
    ),
    CheckSpec(
        "email-address",
        frozenset({"email"}),
        N_("the email address's syntax"),
        "diagnose.checks.email:EmailAddressCheck",
    ),
    CheckSpec(
        "mail-domain",
        frozenset({"email", "domain"}),
        N_("whether the mail domain can receive mail (MX, SPF, DMARC)"),
        "diagnose.checks.mail:MailDomainCheck",
    ),
)

CHECKS_BY_ID: dict[str, CheckSpec] = {spec.id: spec for spec in CHECKS}
