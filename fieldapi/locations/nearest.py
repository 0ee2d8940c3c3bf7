"""The nearest technicians to a place: on duty, with a fresh position, nearest first by ETA.

One statement whatever the team's size: a KNN walk (`<->`) of the latest positions' GiST
index picks the shortlist nearest in a straight line, filtering as it goes (on duty,
active, a technician, fresh), and stops after the shortlist; only the shortlist's exact
distances and current appointments are computed. The ETA model then ranks it: its minutes
grow with the distance, so the straight-line order is the ETA order, ties broken by
distance.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.errors import NotFound, Unprocessable
from fieldapi.eta.model import EtaModel, estimate_minutes

MAX_LIMIT = 50

# The target is the given point, or the site of the given appointment's customer.
NEAREST_SQL = """
WITH target AS (
    SELECT CASE WHEN CAST(:appointment AS uuid) IS NULL
                THEN CAST(ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)
                          AS geography)
                ELSE (SELECT c.site FROM appointments ap
                      JOIN jobs j ON j.id = ap.job_id AND j.organization_id = ap.organization_id
                      JOIN customers c ON c.id = j.customer_id
                      WHERE ap.id = CAST(:appointment AS uuid) AND ap.organization_id = :org)
           END AS g,
           CAST(:appointment AS uuid) IS NULL
               OR EXISTS (SELECT 1 FROM appointments ap
                          WHERE ap.id = CAST(:appointment AS uuid)
                            AND ap.organization_id = :org) AS found
), shortlist AS (
    SELECT l.user_id, u.name, l.position, l.recorded_at
    FROM latest_locations l
    JOIN users u ON u.id = l.user_id AND u.organization_id = l.organization_id
    WHERE l.organization_id = :org AND l.recorded_at >= :fresh_after
      AND u.active AND u.on_duty AND u.role IN ('technician', 'both')
    ORDER BY l.position <-> (SELECT g FROM target)
    LIMIT :limit
)
SELECT t.found, t.g IS NOT NULL, s.user_id, s.name, ST_Distance(s.position, t.g),
       s.recorded_at, a.id
FROM target t
LEFT JOIN shortlist s ON t.g IS NOT NULL
LEFT JOIN LATERAL (
    SELECT ap.id FROM appointments ap
    WHERE ap.organization_id = :org AND ap.technician_id = s.user_id
      AND ap.status IN ('enroute', 'started')
    ORDER BY ap.status = 'started' DESC, ap.updated_at DESC
    LIMIT 1
) a ON s.user_id IS NOT NULL
"""
_NEAREST = text(NEAREST_SQL)


@dataclass(frozen=True)
class Place:
    """Where to: a point, or an appointment's site."""

    lat: float | None = None
    lon: float | None = None
    appointment_id: uuid.UUID | None = None


def nearest_params(
    organization_id: uuid.UUID, place: Place, *, now: datetime, max_age: timedelta, limit: int
) -> dict[str, Any]:
    return {
        "org": organization_id,
        "lat": place.lat,
        "lon": place.lon,
        "appointment": place.appointment_id,
        "fresh_after": now - max_age,
        "limit": limit,
    }


def nearest_technicians(
    db: Session,
    organization_id: uuid.UUID,
    place: Place,
    *,
    now: datetime,
    model: Callable[[], EtaModel],
    max_age: timedelta,
    limit: int = 10,
) -> list[dict[str, Any]]:
    """Up to `limit` technicians nearest to `place` by ETA (one statement). `model` gives
    the organization's ETA model once the place is found: fitting it may store the fit,
    which a refused search must not."""
    if place.appointment_id is None and (place.lat is None or place.lon is None):
        raise Unprocessable(
            "Give lat and lon, or appointment_id.", errors={"lat": ["Or appointment_id."]}
        )
    limit = max(1, min(limit, MAX_LIMIT))
    params = nearest_params(organization_id, place, now=now, max_age=max_age, limit=limit)
    rows = db.execute(_NEAREST, params).all()
    if not rows or not rows[0][0]:
        raise NotFound("Appointment not found.")
    if not rows[0][1]:
        raise Unprocessable(
            "The appointment's customer has no site on the map.",
            errors={"appointment_id": ["No site."]},
        )
    eta_model = model()
    found = [
        {
            "user": {"id": user_id, "name": name},
            "distance_m": round(distance),
            "eta_minutes": estimate_minutes(distance, eta_model),
            "position_age_s": max(0, round((now - recorded_at).total_seconds())),
            "current_appointment_id": appointment_id,
        }
        for _found, _sited, user_id, name, distance, recorded_at, appointment_id in rows
        if user_id is not None
    ]
    found.sort(key=lambda t: (t["eta_minutes"], t["distance_m"], str(t["user"]["id"])))
    return found
