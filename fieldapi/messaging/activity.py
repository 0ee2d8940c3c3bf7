"""A job's texts in its activity log: messaging hands each outcome to `jobs.activity`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fieldapi.jobs.activity import TextOutcome, record_text_outcome
from fieldapi.messaging.models import Message


def report_outcome(db: Session, message: Message, now: datetime) -> None:
    """Log the message's new status in its job's activity log (texts of no job: nothing)."""
    if message.job_id is None or message.organization_id is None:
        return
    record_text_outcome(
        db,
        TextOutcome(
            organization_id=message.organization_id,
            job_id=message.job_id,
            appointment_id=message.appointment_id,
            message_id=message.id,
            purpose=message.purpose,
            to=message.to_phone,
            status=message.status,
            error_code=message.error_code,
            error_message=message.error_message,
        ),
        now,
    )
