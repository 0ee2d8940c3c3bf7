"""A text's status: the states of the outbox and the one function that moves a message
from one to the next (as job statuses go through `fieldapi.lifecycle`).

queued -> sending (a worker claims it; again when another worker's lease expired)
sending -> sent (handed to the transport) | queued (retry later) | failed | blocked
sent -> delivered | undelivered | failed (Twilio's callbacks) -> read
queued -> blocked (the number opted out before any worker took it)

Moving into an outcome (delivered, undelivered, failed, read, blocked) from a state
before one writes the outcome into the text's job's activity log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fieldapi.jobs.activity import TextOutcome, record_text_outcome
from fieldapi.messaging.models import Message, MessageStatus

S = MessageStatus
NEXT: dict[MessageStatus, frozenset[MessageStatus]] = {
    S.QUEUED: frozenset({S.SENDING, S.BLOCKED}),
    S.SENDING: frozenset({S.SENDING, S.SENT, S.QUEUED, S.FAILED, S.BLOCKED}),
    S.SENT: frozenset({S.DELIVERED, S.UNDELIVERED, S.FAILED, S.READ}),
    S.DELIVERED: frozenset({S.READ}),
    S.UNDELIVERED: frozenset({S.READ}),
    S.FAILED: frozenset({S.READ}),
    S.READ: frozenset(),
    S.BLOCKED: frozenset(),
}
OUTCOMES = frozenset({S.DELIVERED, S.UNDELIVERED, S.FAILED, S.READ, S.BLOCKED})
del S


__all__ = ["NEXT", "OUTCOMES", "IllegalMove", "MessageStatus", "move"]


class IllegalMove(ValueError):
    """A move the outbox never makes: a bug in the caller, not bad input."""


def move(db: Session, message: Message, to: MessageStatus, now: datetime) -> None:
    """Move `message` to `to` (set its error fields first: the activity log copies them).

    Clears the lease unless it is `sending`; the first delivered/read sets `delivered_at`.
    """
    before = MessageStatus(message.status)
    if to not in NEXT[before]:
        raise IllegalMove(f"a text does not go from {before} to {to}")
    message.status = str(to)
    message.updated_at = now
    if to != MessageStatus.SENDING:
        message.lease_until = None
    if to in (MessageStatus.DELIVERED, MessageStatus.READ) and message.delivered_at is None:
        message.delivered_at = now
    if to in OUTCOMES and before not in OUTCOMES:
        _report_outcome(db, message, now)


def _report_outcome(db: Session, message: Message, now: datetime) -> None:
    """The job's activity log gets the outcome (a text of no job: nothing)."""
    if message.job_id is None:
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
