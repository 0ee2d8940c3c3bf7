"""What dispatchers see of their organization's texts."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.policy import require_manager
from fieldapi.accounts.principal import Principal
from fieldapi.jobs.visibility import require_visible_job
from fieldapi.messaging.models import Message
from fieldapi.pagination import DEFAULT_LIMIT, Page, paginate


def list_messages(
    db: Session,
    principal: Principal,
    *,
    job_id: uuid.UUID | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Message]:
    """The organization's texts, newest first; a page of `limit` after `cursor`."""
    require_manager(principal, "see the organization's texts")
    query = select(Message).where(Message.organization_id == principal.organization_id)
    if job_id is not None:
        require_visible_job(db, principal, job_id)
        query = query.where(Message.job_id == job_id)
    page = paginate(
        db,
        query,
        keys=(Message.queued_at, Message.id),
        key_of=lambda message: (message.queued_at, message.id),
        limit=limit,
        cursor=cursor,
        descending=True,
    )
    return page
