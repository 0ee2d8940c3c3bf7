"""Location privacy: an organization's working hours (no tracking outside them) and the
log of who read whose track (GET /v1/me/track-views).

The hours are checked where every ping goes through, the ingest service: a ping outside
them is refused and stored nowhere, whatever app sent it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from fieldapi.accounts.members import name_of
from fieldapi.accounts.policy import require_manager
from fieldapi.accounts.principal import Principal
from fieldapi.errors import Unprocessable
from fieldapi.locations.models import TrackView, WorkingHours

OUTSIDE_HOURS = "not stored: outside the organization's working hours"
# The SQL that reads an organization's hours alongside other ingest context, as JSON
# [[weekday, "HH:MM:SS", "HH:MM:SS"], ...] (NULL when none are set).
WORKING_HOURS_JSON_SQL = """(SELECT json_agg(json_build_array(w.weekday, w.starts, w.ends))
        FROM working_hours w WHERE w.organization_id = :org)"""


@dataclass(frozen=True)
class WorkingWeek:
    """Spans per weekday (0 is Monday) in a time zone; no spans at all means no limit."""

    timezone: str
    spans: dict[int, tuple[time, time]]

    def allows(self, moment: datetime) -> bool:
        if not self.spans:
            return True
        local = moment.astimezone(ZoneInfo(self.timezone))
        span = self.spans.get(local.weekday())
        return span is not None and span[0] <= local.time().replace(tzinfo=None) < span[1]

    @classmethod
    def from_json(cls, timezone: str, rows: Sequence[Sequence[Any]] | None) -> WorkingWeek:
        spans = {
            int(day): (time.fromisoformat(starts), time.fromisoformat(ends))
            for day, starts, ends in rows or ()
        }
        return cls(timezone, spans)


def working_hours(db: Session, organization_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = db.scalars(
        select(WorkingHours)
        .where(WorkingHours.organization_id == organization_id)
        .order_by(WorkingHours.weekday)
    )
    return [{"weekday": r.weekday, "starts": r.starts, "ends": r.ends} for r in rows]


def set_working_hours(
    db: Session, principal: Principal, hours: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Replace the organization's working hours (dispatchers); an empty list lifts them."""
    require_manager(principal, "set the working hours")
    days = [span["weekday"] for span in hours]
    if len(set(days)) != len(days):
        raise Unprocessable(
            "One span per weekday.", errors={"hours": ["A weekday is given twice."]}
        )
    if any(span["starts"] >= span["ends"] for span in hours):
        raise Unprocessable(
            "A span starts before it ends (a night shift is two spans, one per day).",
            errors={"hours": ["starts must be before ends."]},
        )
    db.execute(
        delete(WorkingHours).where(WorkingHours.organization_id == principal.organization_id)
    )
    db.add_all(WorkingHours(organization_id=principal.organization_id, **span) for span in hours)
    db.commit()
    return working_hours(db, principal.organization_id)


# The one write a GET makes on purpose, so it is a textual statement: GET sessions refuse
# ORM writes (fieldapi.db.read_only) and run in autocommit, which stores the record of
# the read at once, before the track is even read.
_RECORD_TRACK_VIEW = text(
    """INSERT INTO track_views (id, organization_id, user_id, viewer_id, since, until, viewed_at)
    VALUES (:id, :org, :user, :viewer, :since, :until, :now)"""
)


def record_track_view(
    db: Session,
    principal: Principal,
    user_id: uuid.UUID,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
) -> None:
    """Log one read of a track, and commit it."""
    db.execute(
        _RECORD_TRACK_VIEW,
        {
            "id": uuid.uuid4(),
            "org": principal.organization_id,
            "user": user_id,
            "viewer": principal.user_id,
            "since": since,
            "until": until,
            "now": now,
        },
    )
    db.commit()


def track_views_of(db: Session, principal: Principal, *, limit: int = 200) -> list[dict[str, Any]]:
    """Who read the caller's track, newest first."""
    rows = db.execute(
        select(TrackView, name_of(TrackView.viewer_id))
        .where(
            TrackView.organization_id == principal.organization_id,
            TrackView.user_id == principal.user_id,
        )
        .order_by(TrackView.viewed_at.desc(), TrackView.id)
        .limit(limit)
    ).all()
    return [
        {
            "viewer": {"id": view.viewer_id, "name": name},
            "since": view.since,
            "until": view.until,
            "viewed_at": view.viewed_at,
        }
        for view, name in rows
    ]
