"""What an enterprise reads about the jobs it offered: the jobs, their activity log, and
the notes and photos the provider marked public.

Provider actions show as the provider organization, never as a provider user; details that
could name or place a technician are left out.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from fieldapi.accounts.directory import organization_names
from fieldapi.accounts.principal import Principal
from fieldapi.enterprise.access import require_enterprise_manager
from fieldapi.enterprise.job_view import (
    DECLINED,
    ENTERPRISE_STATUSES,
    EnterpriseJob,
    enterprise_jobs,
)
from fieldapi.errors import NotFound, Unprocessable
from fieldapi.jobs import enterprise_access
from fieldapi.jobs.enterprise_access import OfferedActivity, OfferedJob
from fieldapi.pagination import DEFAULT_LIMIT, Page

# Activity the enterprise does not see: texts carry the customer's number and the
# technician's name; edits carry who was assigned.
HIDDEN_ACTIONS = frozenset({"text_queued", "text_skipped", "reassign_appointment", "update_job"})
SHOWN_DETAILS = frozenset(
    {"reason_code", "outcome", "reason", "note_id", "photo_id", "message", "visibility"}
)


def offered_job(db: Session, principal: Principal, job_id: uuid.UUID) -> OfferedJob:
    """A job this enterprise offered (404 for any other)."""
    require_enterprise_manager(principal)
    job = enterprise_access.offered_job(db, principal.organization_id, job_id)
    if job is None:
        raise NotFound("No such job.")
    return job


def get_job(db: Session, principal: Principal, job_id: uuid.UUID) -> EnterpriseJob:
    return enterprise_jobs(db, [offered_job(db, principal, job_id)])[0]


def list_jobs(
    db: Session,
    principal: Principal,
    *,
    status: str | None = None,
    provider_id: uuid.UUID | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[EnterpriseJob]:
    """Newest first; `status` is the provider's status or `declined`."""
    require_enterprise_manager(principal)
    if status is not None and status not in ENTERPRISE_STATUSES:
        raise Unprocessable(
            f"Unknown status {status!r}.", errors={"status": list(ENTERPRISE_STATUSES)}
        )
    page = enterprise_access.offered_jobs(
        db,
        principal.organization_id,
        declined=status == DECLINED,
        status=None if status == DECLINED else status,
        provider_id=provider_id,
        limit=limit,
        cursor=cursor,
    )
    return Page(enterprise_jobs(db, page.items), page.next_cursor)


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
    provider = organization_names(db, {job.provider_id})[job.provider_id]
    page = enterprise_access.offered_job_activity(
        db, job, leaving_out=HIDDEN_ACTIONS, limit=limit, cursor=cursor
    )
    return Page([activity_entry(event, provider) for event in page.items], page.next_cursor)


def activity_entry(event: OfferedActivity, provider: str) -> dict[str, Any]:
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
