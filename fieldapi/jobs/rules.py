"""The checks a job and an appointment must pass before anything is written: the title,
the schedule and who may be assigned. The limits here are the ones the schemas use."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from fieldapi.accounts.members import Member, member_of
from fieldapi.errors import NotFound, Unprocessable

EARLIEST_APPOINTMENT = datetime(2000, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(days=5 * 366)
MAX_DURATION_MIN = 7 * 24 * 60
MAX_TITLE = 200


def check_title(title: str) -> str:
    """The title, stripped: 1 to MAX_TITLE characters."""
    title = title.strip()
    if not title or len(title) > MAX_TITLE:
        raise Unprocessable(
            f"A job needs a title of 1 to {MAX_TITLE} characters.",
            errors={"title": [f"1 to {MAX_TITLE} characters."]},
        )
    return title


def check_schedule(starts_at: datetime, duration_min: int, *, now: datetime) -> None:
    """A time with an offset, from the year 2000 to five years ahead; 1 min to 7 days."""
    if starts_at.tzinfo is None or starts_at.utcoffset() is None:
        raise Unprocessable(
            "starts_at needs a UTC offset (e.g. 2026-11-24T14:00:00-06:00).",
            errors={"starts_at": ["Give a time with an offset."]},
        )
    if starts_at < EARLIEST_APPOINTMENT or starts_at > now + MAX_AHEAD:
        raise Unprocessable(
            "starts_at must be between 2000-01-01 and five years from now.",
            errors={"starts_at": ["Out of range."]},
        )
    if isinstance(duration_min, bool) or not 1 <= duration_min <= MAX_DURATION_MIN:
        raise Unprocessable(
            f"duration_min must be a whole number of minutes from 1 to {MAX_DURATION_MIN}.",
            errors={"duration_min": ["Out of range."]},
        )


def check_technician(db: Session, organization_id: uuid.UUID, technician_id: uuid.UUID) -> Member:
    """An active member of the organization whose role lets them do the visits."""
    user = member_of(db, organization_id, technician_id)
    if user is None:
        raise NotFound(
            "No such technician in your organization.",
            errors={"technician_id": ["Unknown user."]},
        )
    if not user.active:
        raise Unprocessable(
            f"{user.name} is deactivated and cannot be assigned.",
            errors={"technician_id": ["Deactivated user."]},
        )
    if not user.is_technician:
        raise Unprocessable(
            f"{user.name} is a dispatcher; assign a technician or a user with role both.",
            errors={"technician_id": ["Not a technician."]},
        )
    return user
