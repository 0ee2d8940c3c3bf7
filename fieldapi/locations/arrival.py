"""Arrival help: a technician's sites for today, the geofences OwnTracks keeps on the
phone. What an `enter` of one records is `fieldapi.jobs.en_route.arrive_at_site`, the same
arrival record the technician's fixes make."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# The organization's day, in its timezone, found in the same statement (OwnTracks asks
# with every location it sends).
_TODAYS_SITES = text(
    """
    WITH local AS (
        SELECT date_trunc('day', CAST(:now AS timestamptz) AT TIME ZONE o.timezone) AS midnight,
               o.timezone
        FROM organizations o WHERE o.id = :org
    ),
    day AS (
        SELECT midnight AT TIME ZONE timezone AS starts,
               (midnight + interval '1 day') AT TIME ZONE timezone AS ends
        FROM local
    )
    SELECT ap.id, ap.starts_at, c.name, j.title, ST_Y(c.site::geometry), ST_X(c.site::geometry)
    FROM day, appointments ap
    JOIN jobs j ON j.id = ap.job_id AND j.organization_id = ap.organization_id
    JOIN customers c ON c.id = j.customer_id
    WHERE ap.organization_id = :org AND ap.technician_id = :user
      AND ap.status IN ('scheduled', 'enroute')
      AND ap.starts_at >= day.starts AND ap.starts_at < day.ends
      AND c.site IS NOT NULL
    ORDER BY ap.starts_at, ap.id
    """
)


def todays_sites(
    db: Session, organization_id: uuid.UUID, user_id: uuid.UUID, *, now: datetime
) -> list[dict[str, Any]]:
    """The sites of the user's appointments still to visit today (the organization's day,
    in its timezone)."""
    rows = db.execute(_TODAYS_SITES, {"org": organization_id, "user": user_id, "now": now}).all()
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
