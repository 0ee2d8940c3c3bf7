"""Wire formats of the enterprise side: connections, offers, the enterprise's jobs (their
schemas in `job_schemas`), their activity, notes and photos, reminders, webhooks and
deliveries."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from fieldapi.enterprise.job_schemas import EnterpriseJobSchema, PartyRefSchema
from fieldapi.enterprise.job_view import ENTERPRISE_STATUSES
from fieldapi.enterprise.models import CONNECTION_STATES, DELIVERY_STATUSES
from fieldapi.enterprise.texts import MAX_REMINDER_CHARS
from fieldapi.jobs.schemas import ApiPath, CustomerCreateSchema, Rfc3339
from fieldapi.pagination import PageQuerySchema, page_schema


def _text(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(1, max_length), **kwargs)


class ConnectionRequestSchema(Schema):
    connection_code = _text(64, required=True)


class ConnectionSchema(Schema):
    id = fields.UUID()
    state = fields.String(metadata={"enum": list(CONNECTION_STATES)})
    provider = fields.Nested(PartyRefSchema)
    enterprise = fields.Nested(PartyRefSchema)
    created_at = Rfc3339()
    updated_at = Rfc3339()
    ended_at = Rfc3339(allow_none=True)
    ended_by = fields.String(allow_none=True, metadata={"enum": ["provider", "enterprise"]})


class WindowSchema(Schema):
    start = Rfc3339(required=True)
    end = Rfc3339(required=True)


class OfferCustomerSchema(CustomerCreateSchema):
    pass


class OfferCreateSchema(Schema):
    provider_id = fields.UUID(required=True)
    title = _text(200, required=True)
    description = fields.String(allow_none=True, validate=validate.Length(max=10_000))
    external_id = fields.String(validate=validate.Length(1, 200), allow_none=True)
    customer = fields.Nested(OfferCustomerSchema, required=True)
    appointment_windows = fields.List(fields.Nested(WindowSchema))


class EnterpriseJobQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf(ENTERPRISE_STATUSES))
    provider_id = fields.UUID()


EnterpriseJobPageSchema = page_schema(EnterpriseJobSchema, "EnterpriseJobPage")


class EnterpriseActorSchema(Schema):
    kind = fields.String(metadata={"enum": ["enterprise", "provider"]})
    name = fields.String(allow_none=True)


class EnterpriseActivitySchema(Schema):
    id = fields.Integer()
    at = Rfc3339()
    actor = fields.Nested(EnterpriseActorSchema)
    action = fields.String()
    appointment_id = fields.UUID(allow_none=True)
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    details = fields.Dict()


EnterpriseActivityPageSchema = page_schema(EnterpriseActivitySchema, "EnterpriseActivityPage")


class EnterpriseNoteSchema(Schema):
    """Dumps a public `JobNote`."""

    id = fields.UUID()
    job_id = fields.UUID()
    body = fields.String()
    created_at = Rfc3339()


EnterpriseNotePageSchema = page_schema(EnterpriseNoteSchema, "EnterpriseNotePage")


class EnterprisePhotoSchema(Schema):
    """Dumps a public `JobPhoto`."""

    id = fields.UUID()
    job_id = fields.UUID()
    content_type = fields.String()
    size_bytes = fields.Integer()
    url = ApiPath("/v1/enterprise/photos/")
    created_at = Rfc3339()


EnterprisePhotoPageSchema = page_schema(EnterprisePhotoSchema, "EnterprisePhotoPage")


class ReminderCreateSchema(Schema):
    message = fields.String(allow_none=True, validate=validate.Length(max=MAX_REMINDER_CHARS))


class ReminderSchema(Schema):
    job_id = fields.UUID()
    sent_at = Rfc3339()
    texted = fields.Integer(metadata={"description": "how many dispatchers were texted"})


class WebhookSaveSchema(Schema):
    url = _text(2000, required=True)


class WebhookSchema(Schema):
    url = fields.String()
    secret = fields.String(
        metadata={"description": "shown only in this answer: signs every delivery"}
    )


class DeliveryAttemptSchema(Schema):
    at = fields.String()
    attempt = fields.Integer()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    answer = fields.String(allow_none=True)


class DeliverySchema(Schema):
    """Dumps a `WebhookDelivery`."""

    id = fields.UUID(
        attribute="event_id", metadata={"description": "the event id the receiver sees"}
    )
    type = fields.String()
    job_id = fields.UUID()
    status = fields.String(metadata={"enum": list(DELIVERY_STATUSES)})
    attempts = fields.Integer()
    next_attempt_at = Rfc3339(attribute="pending_attempt_at", allow_none=True)
    created_at = Rfc3339()
    finished_at = Rfc3339(allow_none=True)
    attempt_log = fields.List(fields.Nested(DeliveryAttemptSchema))


DeliveryPageSchema = page_schema(DeliverySchema, "DeliveryPage")
