"""A job's activity log: every entry written (status changes, edits, notes, photos, texts
and their outcomes) and every read of it. Nothing else adds an `ActivityEvent`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi import lifecycle as lc
from fieldapi.accounts.policy import is_manager
from fieldapi.accounts.principal import Principal
from fieldapi.enterprise.events import job_changed
from fieldapi.errors import NotFound
from fieldapi.jobs.models import ActivityEvent, Appointment, Job
from fieldapi.jobs.visibility import visible_activity, visible_appointments, visible_jobs
from fieldapi.pagination import DEFAULT_LIMIT, Page, paginate
from fieldapi.writes import insert_row


@dataclass(frozen=True)
class Acting:
    """Who acts, for the lifecycle (`actor`) and for the activity log (`user_id`, `name`)."""

    actor: lc.Actor
    user_id: uuid.UUID | None = None
    name: str | None = None

    @classmethod
    def user(cls, principal: Principal) -> Acting:
        return cls(principal.actor(), principal.user_id, principal.name)

    @classmethod
    def enterprise(cls) -> Acting:
        """An enterprise's user: the log shows only the enterprise (the job's provider)."""
        return cls(lc.Actor(kind=lc.ActorKind.ENTERPRISE))


def record_change(
    db: Session,
    job: Job,
    activity: lc.RecordActivity,
    acting: Acting,
    *,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """The entry of a lifecycle decision (`extra`: details the lifecycle cannot know)."""
    enterprise = acting.actor.kind == lc.ActorKind.ENTERPRISE
    insert_row(
        db,
        ActivityEvent(
            organization_id=job.organization_id,
            job_id=job.id,
            appointment_id=None
            if activity.appointment_id is None
            else uuid.UUID(activity.appointment_id),
            at=activity.at,
            actor_id=None if enterprise else acting.user_id,
            actor_name=job.provider_name if enterprise else acting.name,
            actor_kind=str(acting.actor.kind),
            action=activity.action,
            from_status=None if activity.from_status is None else str(activity.from_status),
            to_status=None if activity.to_status is None else str(activity.to_status),
            details={**activity.details, **(extra or {})},
        ),
    )
    job_changed(db, job, action=activity.action, at=activity.at, details=activity.details)


def record_event(
    db: Session,
    job: Job,
    *,
    action: str,
    at: datetime,
    appointment_id: uuid.UUID | None = None,
    acting: Acting | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """An entry that is not a status change (a text, an edit); `acting` None = system."""
    insert_row(
        db,
        ActivityEvent(
            organization_id=job.organization_id,
            job_id=job.id,
            appointment_id=appointment_id,
            at=at,
            actor_id=None if acting is None else acting.user_id,
            actor_name=None if acting is None else acting.name,
            actor_kind="system" if acting is None else str(acting.actor.kind),
            action=action,
            from_status=job.status,
            to_status=job.status,
            details=dict(details or {}),
        ),
    )
    job_changed(db, job, action=action, at=at, details=details or {})


@dataclass(frozen=True)
class TextOutcome:
    """What messaging tells the log about a job's text that moved on (plain values)."""

    organization_id: uuid.UUID
    job_id: uuid.UUID
    appointment_id: uuid.UUID | None
    message_id: uuid.UUID
    purpose: str
    to: str
    status: str
    error_code: int | None = None
    error_message: str | None = None


def record_text_outcome(db: Session, outcome: TextOutcome, now: datetime) -> None:
    """The outcome of a job's text, as the system's action `text_<status>` (delivered,
    undelivered, failed, read, blocked)."""
    details: dict[str, object] = {
        "message_id": str(outcome.message_id),
        "purpose": outcome.purpose,
        "to": outcome.to,
        "status": outcome.status,
    }
    if outcome.error_code is not None:
        details["error_code"] = outcome.error_code
    if outcome.error_message:
        details["error"] = outcome.error_message
    insert_row(
        db,
        ActivityEvent(
            organization_id=outcome.organization_id,
            job_id=outcome.job_id,
            appointment_id=outcome.appointment_id,
            at=now,
            actor_kind="system",
            action=f"text_{outcome.status}",
            details=details,
        ),
    )


@dataclass(frozen=True)
class ActivityEntry:
    """An entry as one caller sees it (`ActivitySchema`): a technician's `details` list
    only their own visits."""

    row: ActivityEvent
    details: dict[str, Any]


def list_activity(
    db: Session,
    principal: Principal,
    job_id: uuid.UUID,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ActivityEntry]:
    """The job's activity log, oldest first (a technician: without others' visits)."""
    if db.scalar(select(Job.id).where(Job.id == job_id, visible_jobs(principal))) is None:
        raise NotFound("No such job.")
    page = paginate(
        db,
        select(ActivityEvent).where(ActivityEvent.job_id == job_id, visible_activity(principal)),
        keys=(ActivityEvent.at, ActivityEvent.id),
        key_of=lambda event: (event.at, event.id),
        limit=limit,
        cursor=cursor,
    )
    if is_manager(principal):
        return Page([ActivityEntry(event, event.details) for event in page.items], page.next_cursor)
    # A technician: a whole-job entry lists every visit it moved; keep only theirs.
    theirs = {
        str(visit_id)
        for visit_id in db.scalars(
            select(Appointment.id).where(
                Appointment.job_id == job_id, visible_appointments(principal)
            )
        )
    }
    return Page(
        [ActivityEntry(event, _only_visits(event.details, theirs)) for event in page.items],
        page.next_cursor,
    )


def _only_visits(details: dict[str, Any], visits: set[str]) -> dict[str, Any]:
    return {
        key: [v for v in value if str(v) in visits] if key.endswith("_appointment_ids") else value
        for key, value in details.items()
    }
