"""Where a technician is, as far as the server knows: their latest fresh good fix (a public
read of the latest positions, for the ETA and the tracking page)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from geoalchemy2 import Geometry
from sqlalchemy import ScalarSelect, cast, func, select
from sqlalchemy.orm import Session

from fieldapi.db import utcnow
from fieldapi.locations.models import LatestLocation


class KnownPosition(NamedTuple):
    lat: float
    lon: float
    recorded_at: datetime


def latest_known_position(
    db: Session,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    max_age: timedelta,
    *,
    now: datetime | None = None,
) -> KnownPosition | None:
    """The user's latest position if it is at most `max_age` old, else None."""
    point = cast(LatestLocation.position, Geometry)
    row = db.execute(
        select(func.ST_Y(point), func.ST_X(point), LatestLocation.recorded_at).where(
            LatestLocation.organization_id == organization_id,
            LatestLocation.user_id == user_id,
            LatestLocation.recorded_at >= (now or utcnow()) - max_age,
        )
    ).one_or_none()
    return KnownPosition(float(row[0]), float(row[1]), row[2]) if row is not None else None


def latest_fresh_position(organization_id: Any, user_id: Any, since: Any) -> ScalarSelect[Any]:
    """The user's latest position (a geography) recorded at `since` or later, NULL when there
    is none that fresh, as a scalar subquery to read beside other values in one statement
    (the arguments: values, or bound parameters in a statement built once)."""
    return (
        select(LatestLocation.position)
        .where(
            LatestLocation.organization_id == organization_id,
            LatestLocation.user_id == user_id,
            LatestLocation.recorded_at >= since,
        )
        .scalar_subquery()
    )
