"""What dispatchers see of their organization's texts."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from fieldapi.accounts.policy import require_manager, visible_jobs
from fieldapi.accounts.principal import Principal
from fieldapi.errors import NotFound, Unprocessable
from fieldapi.jobs.models import Job
from fieldapi.messaging.models import Message

# Texts whose body must not be shown to anyone but their recipient.
SECRET_PURPOSES = frozenset({"passcode"})
MAX_PAGE = 100


@dataclass(frozen=True)
class MessagePage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(message: Message) -> str:
    raw = json.dumps([message.queued_at.isoformat(), str(message.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    invalid = Unprocessable(
        "The cursor is not valid; pass the next_cursor of a previous page.",
        errors={"cursor": ["Not a cursor of this list."]},
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, message_id = json.loads(raw)
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("naive time")
        return moment, uuid.UUID(message_id)
    except (binascii.Error, ValueError, TypeError) as error:  # JSONDecodeError is a ValueError
        raise invalid from error


def message_view(message: Message) -> dict[str, Any]:
    secret = message.purpose in SECRET_PURPOSES
    return {
        "id": message.id,
        "to": message.to_phone,
        "body": None if secret else message.body,
        "purpose": message.purpose,
        "status": message.status,
        "job_id": message.job_id,
        "appointment_id": message.appointment_id,
        "error_code": message.error_code,
        "error_message": message.error_message,
        "attempts": message.attempts,
        "queued_at": message.queued_at,
        "sent_at": message.sent_at,
        "delivered_at": message.delivered_at,
        "updated_at": message.updated_at,
    }


def list_messages(
    db: Session,
    principal: Principal,
    *,
    job_id: uuid.UUID | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> MessagePage:
    """The organization's texts, newest first; a page of `limit` after `cursor`."""
    require_manager(principal, "see the organization's texts")
    query = select(Message).where(Message.organization_id == principal.organization_id)
    if job_id is not None:
        if db.scalar(select(Job.id).where(Job.id == job_id, visible_jobs(principal))) is None:
            raise NotFound("No such job.")
        query = query.where(Message.job_id == job_id)
    if cursor:
        after = decode_cursor(cursor)
        query = query.where(tuple_(Message.queued_at, Message.id) < after)
    limit = max(1, min(limit, MAX_PAGE))
    rows = db.scalars(
        query.order_by(Message.queued_at.desc(), Message.id.desc()).limit(limit + 1)
    ).all()
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1]) if len(rows) > limit else None
    return MessagePage([message_view(m) for m in page], next_cursor)
