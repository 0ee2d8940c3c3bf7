"""Arrival help: a technician's sites for today (the geofences OwnTracks keeps on the
phone), and the one arrival rule that every signal of presence goes through.

The rule: a position accepted for a technician, within ARRIVAL_RADIUS_M of the site of an
appointment they are en route to, records that appointment's arrival, once, as an
`arrived` entry of the job's activity log. Only OwnTracks' `transition` enter events call
it today (a geofence the phone watched itself); a ping-based detection can call the same
`note_presence` with each accepted ping. The status stays `enroute`: Start is still the
technician's, as the lifecycle wants.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.jobs.activity import record_event
from fieldapi.jobs.models import Job

ARRIVAL_RADIUS_M = 150.0
ARRIVED = "arrived"

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

# En-route appointments whose site is within the radius (plus the fix's accuracy), and
# that have no arrival recorded yet.
_ARRIVED_AT = text(
    """
    SELECT ap.id, ap.job_id FROM appointments ap
    JOIN jobs j ON j.id = ap.job_id AND j.organization_id = ap.organization_id
    JOIN customers c ON c.id = j.customer_id
    WHERE ap.organization_id = :org AND ap.technician_id = :user AND ap.status = 'enroute'
      AND ST_DWithin(c.site, CAST(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geography),
                     :radius)
      AND NOT EXISTS (SELECT 1 FROM activity_events e
                      WHERE e.organization_id = ap.organization_id
                        AND e.appointment_id = ap.id AND e.action = 'arrived')
    ORDER BY ap.starts_at
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


def note_presence(
    db: Session,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    lat: float,
    lon: float,
    accuracy_m: float | None,
    at: datetime,
    source: str,
) -> list[uuid.UUID]:
    """Record the arrival the position shows, if any; the appointments arrived at."""
    rows = db.execute(
        _ARRIVED_AT,
        {
            "org": organization_id,
            "user": user_id,
            "lat": lat,
            "lon": lon,
            "radius": ARRIVAL_RADIUS_M + min(accuracy_m or 0.0, ARRIVAL_RADIUS_M),
        },
    ).all()
    for appointment_id, job_id in rows:
        job = db.get(Job, job_id)
        if job is not None:
            record_event(
                db,
                job,
                action=ARRIVED,
                at=at,
                appointment_id=appointment_id,
                details={"source": source, "technician_id": str(user_id)},
            )
    if rows:
        db.commit()
    return [appointment_id for appointment_id, _job in rows]
