"""Phone numbers as people type them: parsed, stored in E.164, and textable."""

from __future__ import annotations

from collections.abc import Sequence

from fieldapi.errors import Unprocessable
from fieldapi.phones import InvalidPhone, region_of, to_e164


def read_phone(
    raw: str, *, default_region: str, allowed_regions: Sequence[str], field: str = "phone"
) -> str:
    """The number in E.164; 422 (naming `field`) for garbage, over-long or invalid numbers
    and for numbers in regions texts may not go to (a login or an invite needs a text)."""
    try:
        phone = to_e164(raw, default_region)
    except InvalidPhone as error:
        raise Unprocessable(str(error), errors={field: [str(error)]}) from error
    if region_of(phone) not in allowed_regions:
        message = f"Texts to this number's region ({region_of(phone)}) are not enabled."
        raise Unprocessable(message, errors={field: [message]})
    return phone
