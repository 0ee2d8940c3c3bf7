"""The opt-out list: numbers that replied STOP (or that Twilio reports unsubscribed)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from fieldapi.messaging.message_status import MessageStatus, move
from fieldapi.messaging.models import Message, OptOut

# Twilio's standard keywords (matched on the whole text, any case, surrounding spaces).
OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "REVOKE", "OPTOUT", "CANCEL"}
)
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})


def keyword_of(body: str) -> str | None:
    """The standard keyword `body` is, or None for any other text."""
    word = body.strip().upper()
    if word in OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS | HELP_KEYWORDS:
        return word
    return None


def opt_out_of(db: Session, phone: str) -> OptOut | None:
    with db.no_autoflush:  # callers may hold half-built objects of their own
        return db.get(OptOut, phone)


def blocked_reason(opt_out: OptOut) -> str:
    if opt_out.source == "twilio":
        return f"The recipient has unsubscribed (Twilio error {opt_out.keyword})."
    return f"The recipient opted out by replying {opt_out.keyword or 'STOP'}."


def last_organization_texting(db: Session, phone: str) -> uuid.UUID | None:
    """The organization of the newest text queued for `phone`."""
    return db.scalar(
        select(Message.organization_id)
        .where(Message.to_phone == phone)
        .order_by(Message.queued_at.desc())
        .limit(1)
    )


def block(db: Session, message: Message, opt_out: OptOut, now: datetime) -> None:
    """Mark `message` blocked (never to be handed to a transport), with the reason."""
    message.error_message = blocked_reason(opt_out)
    move(db, message, MessageStatus.BLOCKED, now)


def record_opt_out(
    db: Session, phone: str, *, source: str, keyword: str | None, now: datetime
) -> OptOut:
    """Add `phone` to the list (idempotent: the first opt-out is kept) and block the texts
    waiting for it in the outbox (a worker holding one checks again before sending)."""
    organization_id = last_organization_texting(db, phone)
    db.execute(
        insert(OptOut)
        .values(
            phone=phone, at=now, source=source, keyword=keyword, organization_id=organization_id
        )
        .on_conflict_do_nothing(index_elements=[OptOut.phone])
    )
    opt_out = db.get_one(OptOut, phone, populate_existing=True)
    waiting = db.scalars(
        select(Message)
        .where(Message.to_phone == phone, Message.status == MessageStatus.QUEUED)
        .with_for_update(skip_locked=True)
    )
    for message in waiting:
        block(db, message, opt_out, now)
    return opt_out


def remove_opt_out(db: Session, phone: str) -> bool:
    """Take `phone` off the list; whether it was on it."""
    result = db.execute(delete(OptOut).where(OptOut.phone == phone))
    return bool(result.rowcount)  # type: ignore[attr-defined]
