"""Webhook events of an enterprise's jobs, queued in the transaction of the change.

`job_changed` is called from the one place a job's activity is written (every status
change, appointment, note and photo goes through it): for a job an enterprise offered and
an enterprise with a webhook, it adds a delivery row carrying the enterprise's view of the
job as it is now. Deliveries have their own table (not the texts' outbox): a text and a
webhook differ in everything the worker does with them (address, signing, answer,
ordering per job), and the texts' outbox is being reworked beside this.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.db import utcnow
from fieldapi.enterprise.job_schemas import WebhookJobSchema
from fieldapi.enterprise.job_view import JobRef, enterprise_jobs
from fieldapi.enterprise.models import EnterpriseWebhook, WebhookDelivery
from fieldapi.jobs.enterprise_access import lock_job_as_changed

# Activity that is not a change of the job the enterprise sees.
NOT_EVENTS = frozenset({"text_queued", "text_skipped", "update_job"})


def event_type(action: str) -> str:
    return "job." + action.replace("-", "_")


def job_changed(
    db: Session, job: JobRef, *, action: str, at: datetime | None, details: Mapping[str, Any]
) -> None:
    """Queue a delivery for the enterprise that offered `job` (nothing for other jobs)."""
    at = at or utcnow()
    if job.offered_by_id is None or action in NOT_EVENTS:
        return
    if details.get("visibility") == "private":
        return
    has_webhook = db.scalar(
        select(EnterpriseWebhook.organization_id).where(
            EnterpriseWebhook.organization_id == job.offered_by_id
        )
    )
    if has_webhook is None:
        return
    # Locked to the commit: the events of a job are numbered in the order they commit.
    changed = lock_job_as_changed(db, job.id)
    event_id = uuid.uuid4()
    kind = event_type(action)
    payload = {
        "id": str(event_id),
        "type": kind,
        "at": at.isoformat(),
        "job": WebhookJobSchema().dump(enterprise_jobs(db, [changed])[0]),
    }
    db.add(
        WebhookDelivery(
            event_id=event_id,
            organization_id=job.offered_by_id,
            job_id=job.id,
            type=kind,
            payload=payload,
            status="queued",
            attempts=0,
            next_attempt_at=at,
            attempt_log=[],
            created_at=at,
        )
    )
