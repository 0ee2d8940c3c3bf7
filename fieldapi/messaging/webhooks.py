"""Twilio's webhooks, once their signature is checked: status callbacks and inbound texts."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from fieldapi.errors import BadRequest
from fieldapi.messaging.delivery import STATUS_RANK, CallbackResult, receive_status_callback
from fieldapi.messaging.inbound import InboundResult, receive_inbound
from fieldapi.phones import InvalidPhone, to_e164

log = logging.getLogger(__name__)

SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
MAX_INBOUND_BODY = 1600  # Twilio's own limit for a message body
MAX_ERROR_CODE = 99_999  # Twilio's codes have five digits

# Parameters Twilio posts with a status callback; anything else is logged.
STATUS_CALLBACK_PARAMS = frozenset(
    {
        "AccountSid",
        "ApiVersion",
        "ChannelInstallSid",
        "ChannelPrefix",
        "ChannelStatusMessage",
        "ChannelToAddress",
        "ErrorCode",
        "ErrorMessage",
        "EventType",
        "From",
        "MessageSid",
        "MessageStatus",
        "MessagingServiceSid",
        "RawDlrDoneDate",
        "SmsSid",
        "SmsStatus",
        "To",
    }
)


def _required(form: Mapping[str, str], *names: str) -> list[str]:
    missing = {name: ["Missing data for required field."] for name in names if not form.get(name)}
    if missing:
        raise BadRequest(f"The webhook lacks {', '.join(missing)}.", errors=missing)
    return [form[name] for name in names]


def _error_code(raw: str | None) -> int | None:
    if not raw:
        return None
    try:
        code = int(raw)
    except ValueError:
        code = -1
    if not 0 <= code <= MAX_ERROR_CODE:
        log.info("status callback with an ErrorCode that is not one: %r, ignored", raw[:40])
        return None
    return code


def _text(raw: str | None, limit: int) -> str | None:
    """A posted text as PostgreSQL can store it (no NUL), at most `limit` characters."""
    return None if raw is None else raw.replace("\x00", "")[:limit]


def handle_status_callback(db: Session, form: Mapping[str, str], now: datetime) -> str:
    """Apply a signed status callback; the outcome's name (see CallbackResult)."""
    sid, status = _required(form, "MessageSid", "MessageStatus")
    if not SID.match(sid):
        raise BadRequest("MessageSid is not a Twilio SID.", errors={"MessageSid": ["Not a SID."]})
    extra = sorted(set(form) - STATUS_CALLBACK_PARAMS)
    if extra:
        log.info("status callback for %s with unexpected parameters %s", sid, extra[:20])
    status = status.strip().lower()
    if status not in STATUS_RANK:
        log.warning("status callback for %s with unknown status %r: ignored", sid, status[:40])
        return "unknown_status"
    result = receive_status_callback(
        db, sid=sid, status=status, error_code=_error_code(form.get("ErrorCode")), now=now
    )
    if result is CallbackResult.PENDING:
        log.info("status callback %r for %s, a SID not (yet) recorded: kept", status, sid)
    return result.value


def handle_inbound(
    db: Session, form: Mapping[str, str], now: datetime, default_region: str = "US"
) -> InboundResult:
    """Handle a signed inbound text: keywords, HELP, or a message kept for the organization."""
    (sender,) = _required(form, "From")
    try:
        from_phone = to_e164(sender, default_region)
    except InvalidPhone as error:
        raise BadRequest("From is not a phone number.", errors={"From": [str(error)]}) from error
    body = _text(form.get("Body"), MAX_INBOUND_BODY)
    if body is None:
        raise BadRequest("The webhook lacks Body.", errors={"Body": ["Missing."]})
    sid = form.get("MessageSid") or form.get("SmsSid") or None
    if sid is not None and not SID.match(sid):
        raise BadRequest("MessageSid is not a Twilio SID.", errors={"MessageSid": ["Not a SID."]})
    return receive_inbound(
        db,
        from_phone=from_phone,
        body=body,
        to_phone=_text(form.get("To"), 20) or None,
        sid=sid,
        now=now,
    )
