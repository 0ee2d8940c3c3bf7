"""The calendar's default window: the organization's today, when `from`/`to` are not given."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fieldapi.accounts.organizations import organization_timezone

ONE_DAY = timedelta(days=1)


def calendar_window(
    db: Session,
    organization_id: uuid.UUID,
    *,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> tuple[datetime, datetime]:
    """Neither given: today, midnight to midnight in the organization's timezone. Only
    one given: the day that starts (or ends) there."""
    if start is not None and end is not None:
        return start, end
    if start is not None:
        return start, start + ONE_DAY
    if end is not None:
        return end - ONE_DAY, end
    zone = ZoneInfo(organization_timezone(db, organization_id))
    midnight = datetime.combine(now.astimezone(zone).date(), time(), tzinfo=zone)
    # The next midnight from the calendar date, not +24 h: a DST day lasts 23 or 25 hours.
    tomorrow = datetime.combine(midnight.date() + ONE_DAY, time(), tzinfo=zone)
    return midnight, tomorrow
