"""Delivery status: Twilio's callbacks move a message's status forward, never back.

A callback is stored once per (SID, status), so a repeat changes nothing. It carries only
the SID: its text is found by the SID across organizations (ix_messages_twilio_sid). One
that arrives before the worker has recorded the SID (Twilio can be that fast) waits as a
`PendingStatusCallback` and is applied by `attach_pending_callbacks` when the SID is
recorded; both sides take the same advisory lock on the SID, so neither can miss the other.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from fieldapi.messaging.message_status import MessageStatus, move
from fieldapi.messaging.models import Message, PendingStatusCallback, StatusCallback
from fieldapi.messaging.optouts import record_opt_out
from fieldapi.messaging.transports import PERMANENT_OPT_OUT_CODE

log = logging.getLogger(__name__)

# Twilio's outbound statuses in the order a message goes through them. Our own "sent"
# means "handed to Twilio", so only the outcomes after it (rank 4 and 5) ever apply; the
# move itself is `message_status.move`.
STATUS_RANK: dict[str, int] = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 5,
}
_BLOCKED_RANK = 99  # a blocked text was never handed over; nothing moves it

# What Twilio's delivery error codes mean (https://www.twilio.com/docs/api/errors).
DELIVERY_ERRORS: dict[int, str] = {
    21610: "The recipient has unsubscribed.",
    30003: "Unreachable destination handset.",
    30004: "Message blocked.",
    30005: "Unknown destination handset.",
    30006: "Landline or unreachable carrier.",
    30007: "Message filtered by the carrier.",
    30008: "Unknown error.",
}

UNMATCHED_CALLBACKS_KEPT = timedelta(days=7)


class CallbackResult(enum.StrEnum):
    APPLIED = "applied"  # the message's status moved forward
    IGNORED = "ignored"  # not forward (late or repeated information)
    DUPLICATE = "duplicate"  # this very callback was handled before
    PENDING = "pending"  # no message has this SID (yet): kept for when the worker records it


def rank(status: str) -> int:
    return _BLOCKED_RANK if status == MessageStatus.BLOCKED else STATUS_RANK.get(status, -1)


def lock_sid(db: Session, sid: str) -> None:
    """Serialize the work on one SID (callback vs. the worker recording it)."""
    db.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:sid, 0))"), {"sid": sid})


def _advance(
    db: Session, message: Message, status: str, error_code: int | None, now: datetime
) -> bool:
    if STATUS_RANK[status] <= rank(message.status):
        return False
    if error_code is not None:
        message.error_code = error_code
        message.error_message = DELIVERY_ERRORS.get(error_code, f"Twilio error {error_code}.")
        if error_code == PERMANENT_OPT_OUT_CODE:
            record_opt_out(db, message.to_phone, source="twilio", keyword=str(error_code), now=now)
    move(db, message, MessageStatus(status), now)
    return True


def _store(
    db: Session, message: Message, status: str, error_code: int | None, now: datetime
) -> bool:
    """Record one callback of `message`; False when this very callback was stored before."""
    assert message.twilio_sid is not None
    stored = db.scalar(
        insert(StatusCallback)
        .values(
            organization_id=message.organization_id,
            message_id=message.id,
            message_sid=message.twilio_sid,
            status=status,
            error_code=error_code,
            received_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=[
                StatusCallback.organization_id,
                StatusCallback.message_sid,
                StatusCallback.status,
            ]
        )
        .returning(StatusCallback.id)
    )
    return stored is not None


def receive_status_callback(
    db: Session, *, sid: str, status: str, error_code: int | None, now: datetime
) -> CallbackResult:
    """Store and apply one status callback (`status` must be one of STATUS_RANK); commits."""
    lock_sid(db, sid)
    message = db.scalar(select(Message).where(Message.twilio_sid == sid).with_for_update())
    if message is None:
        kept = db.scalar(
            insert(PendingStatusCallback)
            .values(message_sid=sid, status=status, error_code=error_code, received_at=now)
            .on_conflict_do_nothing(
                index_elements=[PendingStatusCallback.message_sid, PendingStatusCallback.status]
            )
            .returning(PendingStatusCallback.id)
        )
        db.commit()
        return CallbackResult.PENDING if kept is not None else CallbackResult.DUPLICATE
    if not _store(db, message, status, error_code, now):
        db.commit()
        return CallbackResult.DUPLICATE
    applied = _advance(db, message, status, error_code, now)
    db.commit()
    return CallbackResult.APPLIED if applied else CallbackResult.IGNORED


def attach_pending_callbacks(db: Session, message: Message, now: datetime) -> int:
    """Apply the callbacks that arrived for `message`'s SID before it was recorded.

    Call inside the transaction that records the SID, after `lock_sid`.
    """
    assert message.twilio_sid is not None
    pending = db.scalars(
        delete(PendingStatusCallback)
        .where(PendingStatusCallback.message_sid == message.twilio_sid)
        .returning(PendingStatusCallback)
    ).all()
    # Apply in status order: Twilio does not promise to call back in order.
    for callback in sorted(pending, key=lambda c: (STATUS_RANK[c.status], c.id)):
        if _store(db, message, callback.status, callback.error_code, callback.received_at):
            _advance(db, message, callback.status, callback.error_code, now)
    return len(pending)


def purge_unmatched_callbacks(db: Session, now: datetime) -> int:
    """Forget callbacks that never matched a message (someone else's SIDs); commits."""
    result = db.execute(
        delete(PendingStatusCallback).where(
            PendingStatusCallback.received_at < now - UNMATCHED_CALLBACKS_KEPT
        )
    )
    db.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
