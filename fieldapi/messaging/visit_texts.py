"""Which texts a visit has had: another capability asks before queueing one per purpose."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.messaging.models import Message


def visit_had_text(db: Session, appointment_id: uuid.UUID, purpose: str) -> bool:
    """Whether a text of `purpose` was queued for the visit (sent, waiting or refused)."""
    texted = db.scalar(
        select(Message.id)
        .where(Message.appointment_id == appointment_id, Message.purpose == purpose)
        .limit(1)
    )
    return texted is not None
