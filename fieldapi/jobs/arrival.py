"""Arrival from the technician's own fixes: accurate fixes inside the site's radius for the
dwell time, with none outside between them.

The answer is computed from the stored history, not from the order pings came in: a late
upload of buffered fixes or a duplicate gives the same answer, and the caller records an
arrival only once (under the job's lock, while none is recorded).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class ArrivalRule:
    radius_m: float = 150.0
    dwell: timedelta = timedelta(seconds=60)
    max_accuracy_m: float = 50.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ArrivalRule:
        return cls(
            radius_m=config["ARRIVAL_RADIUS_M"],
            dwell=timedelta(seconds=config["ARRIVAL_DWELL_SECONDS"]),
            max_accuracy_m=config["ARRIVAL_MAX_ACCURACY_M"],
        )


_FIXES_NEAR_SITE = text(
    """
    SELECT p.recorded_at, ST_DWithin(p.position, c.site, :radius) AS inside
    FROM location_pings p JOIN customers c ON c.id = :customer AND c.site IS NOT NULL
    WHERE p.organization_id = :org AND p.user_id = :user AND p.recorded_at >= :since
      AND NOT p.impossible_jump
      AND p.accuracy_m IS NOT NULL AND p.accuracy_m <= :max_accuracy
    ORDER BY p.recorded_at
    """
)


def arrival_time(
    db: Session,
    *,
    organization_id: uuid.UUID,
    technician_id: uuid.UUID,
    customer_id: uuid.UUID,
    since: datetime,
    rule: ArrivalRule,
) -> datetime | None:
    """When the technician arrived at the customer's site (the first fix of the first stay
    of at least `rule.dwell`), judging by their accurate fixes since `since`; None if not."""
    rows = db.execute(
        _FIXES_NEAR_SITE,
        {
            "org": organization_id,
            "user": technician_id,
            "customer": customer_id,
            "since": since,
            "radius": rule.radius_m,
            "max_accuracy": rule.max_accuracy_m,
        },
    ).all()
    stay_began: datetime | None = None
    for recorded_at, inside in rows:
        if not inside:
            stay_began = None
            continue
        stay_began = stay_began or recorded_at
        if recorded_at - stay_began >= rule.dwell:
            return stay_began
    return None
