"""Phone numbers: any common form in, E.164 out (libphonenumber)."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

MAX_PHONE_INPUT = 32


class InvalidPhone(ValueError):
    pass


def to_e164(raw: str, default_region: str = "US") -> str:
    """Parse a number as a person types it; raise InvalidPhone when it is not a real number."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPhone("A phone number is required.")
    if len(raw) > MAX_PHONE_INPUT:
        raise InvalidPhone("The phone number is too long.")
    return _parsed_e164(raw, default_region)


@lru_cache(maxsize=4096)  # the same numbers come back all day, and parsing one is slow
def _parsed_e164(raw: str, default_region: str) -> str:
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone("This is not a phone number.") from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("This phone number is not valid.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)
def region_of(e164: str) -> str | None:
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164))
