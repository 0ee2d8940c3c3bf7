"""Texts people send us: the opt-out keywords, HELP, and anything else kept for the
organization that last texted the number."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from fieldapi.accounts.organizations import organization_name
from fieldapi.messaging import templates
from fieldapi.messaging.models import InboundMessage
from fieldapi.messaging.optouts import (
    HELP_KEYWORDS,
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    keyword_of,
    last_organization_texting,
    record_opt_out,
    remove_opt_out,
)


class InboundKind(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    MESSAGE = "message"


@dataclass(frozen=True)
class InboundResult:
    kind: InboundKind
    reply: str | None = None  # the text to answer with (TwiML), if any


def receive_inbound(
    db: Session,
    *,
    from_phone: str,
    body: str,
    to_phone: str | None,
    sid: str | None,
    now: datetime,
) -> InboundResult:
    """Handle one inbound text from `from_phone` (E.164); commits."""
    keyword = keyword_of(body)
    if keyword in OPT_OUT_KEYWORDS:
        record_opt_out(db, from_phone, source="reply", keyword=keyword, now=now)
        result = InboundResult(InboundKind.OPT_OUT)
    elif keyword in OPT_IN_KEYWORDS:
        remove_opt_out(db, from_phone)
        result = InboundResult(InboundKind.OPT_IN)
    elif keyword in HELP_KEYWORDS:
        organization_id = last_organization_texting(db, from_phone)
        name = _organization_name(db, organization_id)
        result = InboundResult(InboundKind.HELP, templates.inbound_help(name))
    else:
        # A retried webhook (same MessageSid) is stored once.
        db.execute(
            insert(InboundMessage)
            .values(
                id=uuid.uuid4(),
                organization_id=last_organization_texting(db, from_phone),
                from_phone=from_phone,
                to_phone=to_phone,
                body=body,
                twilio_sid=sid,
                received_at=now,
            )
            .on_conflict_do_nothing(index_elements=[InboundMessage.twilio_sid])
        )
        result = InboundResult(InboundKind.MESSAGE)
    db.commit()
    return result


def _organization_name(db: Session, organization_id: uuid.UUID | None) -> str | None:
    if organization_id is None:
        return None
    return organization_name(db, organization_id)
