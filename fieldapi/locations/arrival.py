"""Arrival help: a technician's sites for today, the geofences OwnTracks keeps on the
phone. What an `enter` of one records is `fieldapi.jobs.en_route.arrive_at_site`, the same
arrival record the technician's fixes make."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

_TODAYS_SITES = text(
    """
    SELECT ap.id, ap.starts_at, c.name, j.title, ST_Y(c.site::geometry), ST_X(c.site::geometry)
    FROM appointments ap
    JOIN jobs j ON j.id = ap.job_id AND j.organization_id = ap.organization_id
    JOIN customers c ON c.id = j.customer_id
    WHERE ap.organization_id = :org AND ap.technician_id = :user
      AND ap.status IN ('scheduled', 'enroute')
      AND ap.starts_at >= :day_start AND ap.starts_at < :day_end
      AND c.site IS NOT NULL
    ORDER BY ap.starts_at, ap.id
    """
)


def todays_sites(
    db: Session, organization_id: uuid.UUID, user_id: uuid.UUID, *, timezone: str, now: datetime
) -> list[dict[str, Any]]:
    """The sites of the user's appointments still to visit today (organization's day)."""
    local = now.astimezone(ZoneInfo(timezone))
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = db.execute(
        _TODAYS_SITES,
        {
            "org": organization_id,
            "user": user_id,
            "day_start": day_start,
            "day_end": day_start + timedelta(days=1),
        },
    ).all()
    return [
        {
            "appointment_id": appointment_id,
            "starts_at": starts_at,
            "label": f"{customer} - {title}",
            "lat": lat,
            "lon": lon,
        }
        for appointment_id, starts_at, customer, title, lat, lon in rows
    ]
