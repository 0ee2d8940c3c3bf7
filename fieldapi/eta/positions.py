"""Where a technician is, as far as the server knows: their latest fresh ping.

The pings belong to the locations capability (table `latest_locations`, migration
0004_locations). This module only reads that table, and only when it exists, so the ETA
works (without a position) on a database where locations is not migrated yet.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.db import utcnow

LATEST_TABLE = "latest_locations"


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
    if not db.scalar(text(f"SELECT to_regclass('{LATEST_TABLE}') IS NOT NULL")):
        return None
    since = (now or utcnow()) - max_age
    row = db.execute(
        text(
            "SELECT ST_Y(position::geometry), ST_X(position::geometry), recorded_at "
            f"FROM {LATEST_TABLE} WHERE organization_id = :org AND user_id = :user "
            "AND recorded_at >= :since"
        ),
        {"org": organization_id, "user": user_id, "since": since},
    ).one_or_none()
    return KnownPosition(float(row[0]), float(row[1]), row[2]) if row is not None else None
