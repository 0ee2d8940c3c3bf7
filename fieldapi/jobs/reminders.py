"""The reminder text a set number of hours before a visit, sent by the worker's periodic
work: once per visit, only for visits still scheduled, never in the customer's night."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.jobs import commands
from fieldapi.jobs.texts import TextSettings, send_visit_text

# Visits inside their organization's reminder window that have no reminder yet (a
# reminder refused for an opt-out or a bad number is kept as a row too: never retried).
_DUE = text(
    """
    SELECT a.organization_id, a.job_id, a.id, c.timezone
    FROM appointments a
    JOIN jobs j ON j.id = a.job_id
    JOIN customers c ON c.id = j.customer_id
    JOIN organizations o ON o.id = a.organization_id
    WHERE a.status = 'scheduled' AND NOT j.canceled AND o.reminder_texts
      AND a.starts_at > :now AND a.starts_at <= :now + o.reminder_hours * interval '1 hour'
      AND NOT EXISTS (SELECT 1 FROM messages m
                      WHERE m.appointment_id = a.id AND m.purpose = 'reminder')
      AND NOT EXISTS (SELECT 1 FROM activity_events e
                      WHERE e.job_id = a.job_id AND e.appointment_id = a.id
                        AND e.action = 'text_skipped' AND e.details->>'purpose' = 'reminder')
    ORDER BY a.starts_at
    LIMIT 500
    """
)


def in_quiet_hours(moment: datetime, timezone: str, quiet: tuple[int, int]) -> bool:
    """`quiet` = (from hour, to hour) in the customer's time, e.g. (21, 8): 9 PM to 8 AM."""
    start, end = quiet
    hour = moment.astimezone(ZoneInfo(timezone)).hour
    return start <= hour or hour < end if start > end else start <= hour < end


def send_due_reminders(
    db: Session, now: datetime, *, settings: TextSettings, quiet_hours: tuple[int, int]
) -> int:
    """Queue the reminders that are due and not in the customer's quiet hours (those wait
    for a later run); how many visits got one. One transaction per visit."""
    sent = 0
    for organization_id, job_id, appointment_id, timezone in db.execute(_DUE, {"now": now}).all():
        if in_quiet_hours(now, timezone, quiet_hours):
            continue
        job, rows = commands.lock_job_of_organization(db, organization_id, job_id)
        appointment = next((row for row in rows if row.id == appointment_id), None)
        if appointment is None or appointment.status != "scheduled" or job.canceled:
            db.rollback()
            continue
        sent += send_visit_text(db, job, appointment, "reminder", now=now, settings=settings)
        db.commit()
    return sent
