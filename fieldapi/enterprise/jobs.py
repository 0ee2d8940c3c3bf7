"""What an enterprise reads about the jobs it offered: the jobs, their activity log, and
the notes and photos the provider marked public.

Provider actions show as the provider organization, never as a provider user; details that
could name or place a technician are left out.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.principal import Principal
from fieldapi.enterprise.access import require_enterprise_manager
from fieldapi.enterprise.connections import organization_names
from fieldapi.enterprise.job_view import DECLINED, job_view
from fieldapi.errors import NotFound, Unprocessable
from fieldapi.jobs.models import JOB_STATUSES, ActivityEvent, Job
from fieldapi.pagination import DEFAULT_LIMIT, Page, paginate

ENTERPRISE_STATUSES = (*JOB_STATUSES, DECLINED)
# Activity the enterprise does not see: texts carry the customer's number and the
# technician's name; edits carry who was assigned.
HIDDEN_ACTIONS = frozenset({"text_queued", "text_skipped", "reassign_appointment", "update_job"})
SHOWN_DETAILS = frozenset(
    {"reason_code", "outcome", "reason", "note_id", "photo_id", "message", "visibility"}
)


def offered_job(db: Session, principal: Principal, job_id: uuid.UUID) -> Job:
    """A job this enterprise offered (404 for any other)."""
    require_enterprise_manager(principal)
    job = db.scalar(
        select(Job)
        .where(Job.id == job_id, Job.offered_by_id == principal.organization_id)
        .execution_options(populate_existing=True)
    )
    if job is None:
        raise NotFound("No such job.")
    return job


def get_job(db: Session, principal: Principal, job_id: uuid.UUID) -> dict[str, Any]:
    job = offered_job(db, principal, job_id)
    return job_view(job, organization_names(db, {job.organization_id})[job.organization_id])


def list_jobs(
    db: Session,
    principal: Principal,
    *,
    status: str | None = None,
    provider_id: uuid.UUID | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """Newest first; `status` is the provider's status or `declined`."""
    require_enterprise_manager(principal)
    statement = select(Job).where(Job.offered_by_id == principal.organization_id)
    if status is not None:
        if status not in ENTERPRISE_STATUSES:
            raise Unprocessable(
                f"Unknown status {status!r}.", errors={"status": list(ENTERPRISE_STATUSES)}
            )
        if status == DECLINED:
            statement = statement.where(Job.offer_state == DECLINED)
        else:
            statement = statement.where(Job.status == status, Job.offer_state != DECLINED)
    if provider_id is not None:
        statement = statement.where(Job.organization_id == provider_id)
    page = paginate(
        db,
        statement,
        keys=(Job.created_at, Job.id),
        key_of=lambda job: (job.created_at, job.id),
        limit=limit,
        cursor=cursor,
        descending=True,
    )
    names = organization_names(db, {job.organization_id for job in page.items})
    return Page([job_view(job, names[job.organization_id]) for job in page.items], page.next_cursor)


def list_activity(
    db: Session,
    principal: Principal,
    job_id: uuid.UUID,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """Oldest first: the enterprise's own users by name, the provider as its name."""
    job = offered_job(db, principal, job_id)
    provider = organization_names(db, {job.organization_id})[job.organization_id]
    page = paginate(
        db,
        select(ActivityEvent).where(
            ActivityEvent.organization_id == job.organization_id,
            ActivityEvent.job_id == job.id,
            ActivityEvent.action.not_in(HIDDEN_ACTIONS),
            ActivityEvent.details["visibility"].astext.is_distinct_from("private"),
        ),
        keys=(ActivityEvent.at, ActivityEvent.id),
        key_of=lambda event: (event.at, event.id),
        limit=limit,
        cursor=cursor,
    )
    return Page([activity_entry(event, provider) for event in page.items], page.next_cursor)


def activity_entry(event: ActivityEvent, provider: str) -> dict[str, Any]:
    if event.actor_kind == "enterprise":
        actor = {"kind": "enterprise", "name": event.details.get("by") or event.actor_name}
    else:
        actor = {"kind": "provider", "name": provider}
    return {
        "id": event.id,
        "at": event.at,
        "actor": actor,
        "action": event.action,
        "appointment_id": event.appointment_id,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "details": {k: v for k, v in event.details.items() if k in SHOWN_DETAILS},
    }
