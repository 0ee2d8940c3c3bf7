"""A job's texts in its activity log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fieldapi.jobs.models import ActivityEvent
from fieldapi.messaging.models import Message


def record_text_outcome(db: Session, message: Message, now: datetime) -> None:
    """The outcome of a job's text goes into that job's activity log, as the system's
    action `text_<status>` (delivered, undelivered, failed, read, blocked)."""
    if message.job_id is None or message.organization_id is None:
        return
    details: dict[str, object] = {
        "message_id": str(message.id),
        "purpose": message.purpose,
        "to": message.to_phone,
        "status": message.status,
    }
    if message.error_code is not None:
        details["error_code"] = message.error_code
    if message.error_message:
        details["error"] = message.error_message
    db.add(
        ActivityEvent(
            organization_id=message.organization_id,
            job_id=message.job_id,
            appointment_id=message.appointment_id,
            at=now,
            actor_kind="system",
            action=f"text_{message.status}",
            details=details,
        )
    )
