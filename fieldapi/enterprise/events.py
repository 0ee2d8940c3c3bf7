"""Webhook events of an enterprise's jobs, queued in the transaction of the change.

`job_changed` is called from the one place a job's activity is written (every status
change, appointment, note and photo goes through it): for a job an enterprise offered and
an enterprise with a webhook, it adds a delivery row carrying the enterprise's view of the
job as it is now. Deliveries have their own table (not the texts' outbox): a text and a
webhook differ in everything the worker does with them (address, signing, answer,
ordering per job), and the texts' outbox is being reworked beside this.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.db import utcnow
from fieldapi.enterprise.job_view import job_view_of
from fieldapi.enterprise.models import EnterpriseWebhook, WebhookDelivery
from fieldapi.jobs.models import Job

# Activity that is not a change of the job the enterprise sees.
NOT_EVENTS = frozenset({"text_queued", "text_skipped", "update_job"})


def event_type(action: str) -> str:
    return "job." + action.replace("-", "_")


def job_changed(
    db: Session, job: Job, *, action: str, at: datetime | None, details: Mapping[str, Any]
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
    # The job's row lock, held to the commit, numbers a job's events in the order their
    # changes become visible: a concurrent change of the job (a note beside a reschedule)
    # takes its number, and its view of the job, after this one commits. Without it the
    # later number could commit first and be sent while the earlier one is still written.
    # FOR NO KEY UPDATE: the change's own rows (a note) already hold a key-share lock on
    # the job through their foreign key, which FOR UPDATE would wait for: two notes at
    # once would deadlock.
    db.execute(select(Job.id).where(Job.id == job.id).with_for_update(key_share=True))
    db.flush()  # the change itself, so that the view below shows it
    db.refresh(job, attribute_names=["appointments"])
    event_id = uuid.uuid4()
    kind = event_type(action)
    payload = {
        "id": str(event_id),
        "type": kind,
        "at": at.isoformat(),
        "job": json.loads(json.dumps(job_view_of(db, job), default=_json_default)),
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


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
