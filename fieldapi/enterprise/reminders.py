"""Reminders: a manager asks the provider's dispatchers for a status update, at most once
per job per hour; logged on the job (both sides see it) with the manager's name."""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi import lifecycle as lc
from fieldapi.accounts.models import Organization
from fieldapi.accounts.principal import Principal
from fieldapi.enterprise.jobs import offered_job
from fieldapi.enterprise.texts import MAX_REMINDER_CHARS, TextRules, reminder_text, text_dispatchers
from fieldapi.errors import Conflict, TooManyRequests, Unprocessable
from fieldapi.jobs.activity import Acting, record_event
from fieldapi.jobs.models import ActivityEvent, Job

REMINDER_EVERY = timedelta(hours=1)


def send_reminder(
    db: Session,
    principal: Principal,
    job_id: uuid.UUID,
    *,
    message: str | None,
    now: datetime,
    rules: TextRules,
) -> int:
    """How many dispatchers were texted. 409 for a declined offer; 429 with Retry-After
    within the hour of the last one."""
    message = " ".join(message.split()) if message else None
    if message is not None and len(message) > MAX_REMINDER_CHARS:
        raise Unprocessable(
            f"A reminder's message is at most {MAX_REMINDER_CHARS} characters.",
            errors={"message": ["Too long."]},
        )
    job = offered_job(db, principal, job_id)
    if job.offer_state == "declined":
        raise Conflict("The provider declined this job; there is no one to remind.")
    # Two reminders at once take turns here, so only one of them is sent.
    db.execute(select(Job.id).where(Job.id == job.id).with_for_update())
    last = db.scalar(
        select(func.max(ActivityEvent.at)).where(
            ActivityEvent.organization_id == job.organization_id,
            ActivityEvent.job_id == job.id,
            ActivityEvent.action == "reminder_sent",
        )
    )
    if last is not None and now - last < REMINDER_EVERY:
        wait = math.ceil((last + REMINDER_EVERY - now).total_seconds())
        raise TooManyRequests(
            f"A reminder for this job went out at {last.isoformat()}; one per hour.",
            headers={"Retry-After": str(wait)},
        )
    enterprise = db.get_one(Organization, principal.organization_id)
    texted = text_dispatchers(
        db,
        job.organization_id,
        body=reminder_text(enterprise.name, principal.name, job.title, message),
        purpose="reminder",
        job_id=job.id,
        rules=rules,
    )
    acting = Acting(lc.Actor(kind=lc.ActorKind.ENTERPRISE), principal.user_id, principal.name)
    details = {"by": principal.name, "message": message, "texted": len(texted)}
    record_event(db, job, action="reminder_sent", at=now, acting=acting, details=details)
    db.commit()
    return len(texted)
