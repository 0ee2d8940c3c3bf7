"""Queueing texts: a row in the caller's transaction, sent later by `fieldapi worker`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from fieldapi.db import utcnow
from fieldapi.errors import Unprocessable
from fieldapi.messaging.message_status import MessageStatus
from fieldapi.messaging.models import Message
from fieldapi.messaging.optouts import block, opt_out_of
from fieldapi.phones import InvalidPhone, region_of, to_e164
from fieldapi.writes import insert_row


def queue_message(
    db: Session,
    *,
    organization_id: uuid.UUID,
    to: str,
    body: str,
    purpose: str,
    allowed_regions: Sequence[str],
    job_id: uuid.UUID | None = None,
    appointment_id: uuid.UUID | None = None,
    opted_out: bool | None = None,
) -> Message:
    """Queue a text inside the caller's transaction, so it exists exactly when the change
    that caused it commits. An invalid or out-of-region number fails here, not in the worker.
    A text to a number that opted out is kept, as `blocked` with the reason, and never sent.

    `opted_out`: whether `to` is on the opt-out list, when the caller read that in this
    transaction with its own rows (a customer's `texts_opted_out`); a number on it, or one
    not given in E.164, is still looked up (the block needs the list's row)."""
    try:
        phone = to_e164(to)
    except InvalidPhone as error:
        raise Unprocessable(f"Cannot text {to!r}: {error}") from error
    if region_of(phone) not in allowed_regions:
        raise Unprocessable(f"Texts to {phone} are not allowed (region not enabled).")
    message = Message(
        id=uuid.uuid4(),
        organization_id=organization_id,
        to_phone=phone,
        body=body,
        purpose=purpose,
        job_id=job_id,
        appointment_id=appointment_id,
        status=MessageStatus.QUEUED.value,
    )
    if opted_out is not False or phone != to:
        opt_out = opt_out_of(db, phone)
        if opt_out is not None:
            block(db, message, opt_out, utcnow())
    insert_row(db, message)
    return message
