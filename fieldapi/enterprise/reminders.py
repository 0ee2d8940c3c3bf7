"""Reminders: a manager asks the provider's dispatchers for a status update, at most once
per job per hour; logged on the job (both sides see it) with the manager's name."""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fieldapi import lifecycle as lc
from fieldapi.accounts.organizations import organization_name
from fieldapi.accounts.principal import Principal
from fieldapi.enterprise.access import require_enterprise_manager
from fieldapi.enterprise.job_view import DECLINED
from fieldapi.enterprise.texts import MAX_REMINDER_CHARS, TextRules, reminder_text, text_dispatchers
from fieldapi.errors import Conflict, NotFound, TooManyRequests, Unprocessable
from fieldapi.jobs.activity import Acting, record_event
from fieldapi.jobs.enterprise_access import last_entry_at, lock_offered_job

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
    require_enterprise_manager(principal)
    # Two reminders at once take turns on the job's lock, so only one of them is sent.
    job = lock_offered_job(db, principal.organization_id, job_id)
    if job is None:
        raise NotFound("No such job.")
    if job.offer_state == DECLINED:
        raise Conflict("The provider declined this job; there is no one to remind.")
    last = last_entry_at(db, job, "reminder_sent")
    if last is not None and now - last < REMINDER_EVERY:
        wait = math.ceil((last + REMINDER_EVERY - now).total_seconds())
        raise TooManyRequests(
            f"A reminder for this job went out at {last.isoformat()}; one per hour.",
            headers={"Retry-After": str(wait)},
        )
    enterprise_name = organization_name(db, principal.organization_id)
    assert enterprise_name is not None
    texted = text_dispatchers(
        db,
        job.organization_id,
        body=reminder_text(enterprise_name, principal.name, job.title, message),
        purpose="reminder",
        job_id=job.id,
        rules=rules,
    )
    acting = Acting(lc.Actor(kind=lc.ActorKind.ENTERPRISE), principal.user_id, principal.name)
    details = {"by": principal.name, "message": message, "texted": len(texted)}
    record_event(db, job, action="reminder_sent", at=now, acting=acting, details=details)
    db.commit()
    return len(texted)
