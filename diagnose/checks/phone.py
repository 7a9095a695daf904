"""The phone-country check: can this number be registered in the personal account?

Only numbers with the +7 country code (Russian Federation) can be registered there
(support FAQ, "Can't register with my phone number"). The country code is measured with
phonenumbers (Google's libphonenumber metadata), not asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from diagnose.checks.results import CheckResult, Status
from diagnose.checks.settings import DnsSettings
from diagnose.exceptions import AnswerError
from diagnose.i18n import N_, _

if TYPE_CHECKING:
    from phonenumbers import PhoneNumber

#: The country calling code the personal account accepts.
ACCEPTED_COUNTRY_CODE = 7
#: +7 is shared: Russia and Kazakhstan (+7 6xx and +7 7xx). The FAQ promises
#: registration for Russian numbers only, so a +7 number elsewhere is its own finding.
ACCEPTED_REGION = "RU"


def parse_phone(value: str) -> PhoneNumber:
    """Parse an international number ("+7 912 ..."); raise AnswerError if it is not one."""
    import phonenumbers

    text = value.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+"):
        raise AnswerError(
            _(
                "'{value}' is not in international format: start it with + and the country code."
            ).format(value=value)
        )
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as error:
        raise AnswerError(
            _("'{value}' is not a phone number: {reason}").format(value=value, reason=error._msg)
        ) from None
    if not phonenumbers.is_possible_number(number):
        raise AnswerError(
            _("'{value}' is not a possible phone number: check its length.").format(value=value)
        )
    return number


class PhoneCountryCheck:
    id = "phone-country"
    input_types = frozenset({"phone"})
    description = N_("the phone number's country code")

    def run(self, value: str, dns: DnsSettings) -> CheckResult:
        import phonenumbers

        try:
            number = parse_phone(value)
        except AnswerError as error:
            return CheckResult(self.id, Status.FAIL, str(error), {"number": value})
        region = phonenumbers.region_code_for_number(number) or "unknown"
        details = {
            "number": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
            "country_code": number.country_code,
            "region": region,
        }
        if number.country_code == ACCEPTED_COUNTRY_CODE and region == ACCEPTED_REGION:
            message = _("The number is a Russian +7 number; it can be registered.")
            return CheckResult(self.id, Status.PASS, message, details)
        if number.country_code == ACCEPTED_COUNTRY_CODE:
            # Kazakhstan's ranges are +7 6xx and +7 7xx, assigned or not yet.
            kazakh = region == "KZ" or str(number.national_number)[:1] in {"6", "7"}
            message = (
                _(
                    "The number has the +7 country code but belongs to Kazakhstan, not to "
                    "Russia; the personal account promises registration for Russian numbers only."
                )
                if kazakh
                else _(
                    "The number has the +7 country code but is in no Russian number range; "
                    "the personal account promises registration for Russian numbers only."
                )
            )
            return CheckResult(self.id, Status.WARN, message, details)
        message = _(
            "The number has the +{code} country code (region {region}), not +7; it cannot "
            "be registered in the personal account."
        ).format(code=number.country_code, region=region)
        return CheckResult(self.id, Status.FAIL, message, details)
