"""Wire formats of messaging."""

from typing import Any

from marshmallow import Schema, fields, validate

from fieldapi.input_guard import NOT_BLANK
from fieldapi.messaging.models import MESSAGE_STATUSES, SECRET_PURPOSES
from fieldapi.pagination import PageQuerySchema, page_schema
from fieldapi.phones import MAX_PHONE_INPUT


class MessageQuerySchema(PageQuerySchema):
    job_id = fields.UUID(metadata={"description": "only the texts of this job"})


class _ShownBody(fields.String):
    """A text's body, null when it is a secret (a login passcode)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if obj.purpose in SECRET_PURPOSES:
            return None
        return super()._serialize(value, attr, obj, **kwargs)


class MessageSchema(Schema):
    """Dumps a `Message`."""

    id = fields.UUID()
    to = fields.String(attribute="to_phone", metadata={"description": "E.164"})
    body = _ShownBody(
        allow_none=True, metadata={"description": "null for login passcodes (never shown)"}
    )
    purpose = fields.String(metadata={"example": "on_my_way"})
    status = fields.String(metadata={"enum": list(MESSAGE_STATUSES)})
    job_id = fields.UUID(allow_none=True)
    appointment_id = fields.UUID(allow_none=True)
    error_code = fields.Integer(allow_none=True, metadata={"description": "Twilio's error code"})
    error_message = fields.String(allow_none=True)
    attempts = fields.Integer()
    queued_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    updated_at = fields.AwareDateTime()


MessagePageSchema = page_schema(MessageSchema, "MessagePage")


class InboundQuerySchema(PageQuerySchema):
    from_phone = fields.String(
        validate=validate.Length(max=MAX_PHONE_INPUT),
        metadata={
            "description": "only texts from this number (any common form)",
            "pattern": NOT_BLANK,
        },
    )


class CustomerRefSchema(Schema):
    id = fields.UUID()
    name = fields.String()


class InboundMessageSchema(Schema):
    """Dumps an `inbox.ReceivedText`."""

    id = fields.UUID(attribute="message.id")
    from_phone = fields.String(attribute="message.from_phone", metadata={"description": "E.164"})
    to_phone = fields.String(
        attribute="message.to_phone",
        allow_none=True,
        metadata={"description": "our number, E.164"},
    )
    body = fields.String(attribute="message.body")
    received_at = fields.AwareDateTime(attribute="message.received_at")
    customer = fields.Nested(
        CustomerRefSchema,
        allow_none=True,
        metadata={"description": "the organization's customer with this number; null: none"},
    )


InboundPageSchema = page_schema(InboundMessageSchema, "InboundPage")


class CallbackAnswerSchema(Schema):
    result = fields.String(
        metadata={"enum": ["applied", "ignored", "duplicate", "pending", "unknown_status"]}
    )


class StatusCallbackFormSchema(Schema):
    """What Twilio posts (documentation; the form is read and signature-checked as a whole)."""

    MessageSid = fields.String(required=True)
    MessageStatus = fields.String(required=True, metadata={"example": "delivered"})
    ErrorCode = fields.String()
    AccountSid = fields.String()
    From = fields.String()
    To = fields.String()


class InboundFormSchema(Schema):
    """What Twilio posts for an inbound text (documentation)."""

    From = fields.String(required=True)
    Body = fields.String(required=True, metadata={"example": "STOP"})
    MessageSid = fields.String()
    To = fields.String()
