"""The opt-out list as a piece of another capability's query: has this phone opted out?"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Exists, exists
from sqlalchemy.orm import Mapped

from fieldapi.messaging.models import OptOut


def is_opted_out_clause(phone: ColumnElement[str | None] | Mapped[str | None]) -> Exists:
    """SQL that is true when the number in `phone` (a column) replied STOP or was
    reported unsubscribed: one primary-key probe of the opt-out list."""
    return exists().where(OptOut.phone == phone)
