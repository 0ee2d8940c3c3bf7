"""HTTP endpoints of messaging: the texts lists and Twilio's webhooks."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from flask_smorest import Blueprint
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.datastructures import MultiDict

from fieldapi.accounts.auth import current_principal, login_required
from fieldapi.db import session, utcnow
from fieldapi.errors import refusal
from fieldapi.input_guard import takes_body
from fieldapi.messaging import inbox, service, webhooks
from fieldapi.messaging.models import Message
from fieldapi.messaging.schemas import (
    CallbackAnswerSchema,
    InboundFormSchema,
    InboundPageSchema,
    InboundQuerySchema,
    MessagePageSchema,
    MessageQuerySchema,
    StatusCallbackFormSchema,
)
from fieldapi.messaging.webhook_request import FORM_TYPE, read_signed_form
from fieldapi.pagination import Page

messages_blp = Blueprint(
    "messages",
    __name__,
    url_prefix="/messages",
    description="Texts sent for the organization and texts customers sent back",
)
webhooks_blp = Blueprint(
    "twilio_webhooks",
    __name__,
    url_prefix="/webhooks/twilio",
    description="Twilio's callbacks (form-encoded, signed with X-Twilio-Signature)",
)


_TWIML = "TwiML: the HELP answer, otherwise an empty <Response/>"
_XML = {"schema": {"type": "string"}}


def _form_body(schema: type) -> dict[str, Any]:
    return {"required": True, "content": {FORM_TYPE: {"schema": schema}}}


def _signed_form() -> MultiDict[str, str]:
    config = current_app.config
    return read_signed_form(
        request,
        public_base_url=config["PUBLIC_BASE_URL"],
        auth_token=config["TWILIO_AUTH_TOKEN"],
    )


@messages_blp.route("", methods=["GET"])
@login_required  # 401 before any 422
@messages_blp.arguments(MessageQuerySchema, location="query")
@messages_blp.response(200, MessagePageSchema)
@messages_blp.alt_response(401, description="No or bad access token")
@messages_blp.alt_response(403, description="Technicians may not list texts")
@messages_blp.alt_response(404, description="`job_id` is not a job of the organization")
@messages_blp.alt_response(422, **refusal("a `cursor` that is not a `next_cursor` of this list"))
def list_messages(query: dict[str, Any]) -> Page[Message]:
    """The organization's texts with their delivery status, newest first.

    Dispatchers only. `job_id` narrows to one job's texts (404 when the job is not
    visible). Pages of `limit`; `next_cursor` fetches the next one.
    """
    return service.list_messages(session(), current_principal(), **query)


@messages_blp.route("/inbound", methods=["GET"])
@login_required  # 401 before any 422
@messages_blp.arguments(InboundQuerySchema, location="query")
@messages_blp.response(200, InboundPageSchema)
@messages_blp.alt_response(401, description="No or bad access token")
@messages_blp.alt_response(403, description="Technicians may not read customers' texts")
@messages_blp.alt_response(
    422,
    **refusal(
        "a `cursor` that is not a `next_cursor` of this list; "
        "a `from_phone` libphonenumber calls no real number"
    ),
)
def list_inbound(query: dict[str, Any]) -> Page[inbox.ReceivedText]:
    """The texts customers sent the organization, newest first.

    Dispatchers only. Keywords (STOP, START, HELP...) are not listed. `from_phone` narrows
    to one sender; `customer` is the organization's customer with the sender's number, if
    any. Pages of `limit`; `next_cursor` fetches the next one.
    """
    region = current_app.config["PHONE_DEFAULT_REGION"]
    return inbox.list_inbound(session(), current_principal(), default_region=region, **query)


@webhooks_blp.route("/status", methods=["POST"])
@webhooks_blp.doc(security=[])
@takes_body(FORM_TYPE, parsed_by_view=True)
@webhooks_blp.doc(requestBody=_form_body(StatusCallbackFormSchema))
@webhooks_blp.response(200, CallbackAnswerSchema)
@webhooks_blp.alt_response(403, description="Missing or wrong X-Twilio-Signature")
@webhooks_blp.alt_response(413, description="Body over 64 KiB")
def twilio_status() -> dict[str, str]:
    """Twilio's delivery status callback.

    The status only moves forward; a repeated or late callback, or an unknown status, is
    answered 200 and changes nothing.
    """
    form = _signed_form()
    return {"result": webhooks.handle_status_callback(session(), form, utcnow())}


@webhooks_blp.route("/inbound", methods=["POST"])
@webhooks_blp.doc(security=[])
@takes_body(FORM_TYPE, parsed_by_view=True)
@webhooks_blp.doc(requestBody=_form_body(InboundFormSchema))
@webhooks_blp.response(200, description=_TWIML)
@webhooks_blp.doc(responses={"200": {"description": _TWIML, "content": {"text/xml": _XML}}})
@webhooks_blp.alt_response(403, description="Missing or wrong X-Twilio-Signature")
def twilio_inbound() -> Response:
    """An inbound text: STOP and the other opt-out keywords, START, HELP, or a message."""
    form = _signed_form()
    region = current_app.config.get("PHONE_DEFAULT_REGION", "US")
    result = webhooks.handle_inbound(session(), form, utcnow(), region)
    twiml = MessagingResponse()
    if result.reply:
        twiml.message(result.reply)
    return Response(str(twiml), status=200, content_type="text/xml; charset=utf-8")


blueprints: tuple[Blueprint, ...] = (messages_blp, webhooks_blp)
