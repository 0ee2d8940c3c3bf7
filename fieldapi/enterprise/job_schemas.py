"""Wire formats of the enterprise's view of a job: `EnterpriseJobSchema` in the API,
`WebhookJobSchema` in webhook events; both dump a `job_view.EnterpriseJob`."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from fieldapi.enterprise.job_view import ENTERPRISE_STATUSES
from fieldapi.jobs.schemas import Rfc3339


class PartyRefSchema(Schema):
    id = fields.UUID()
    name = fields.String()


class EnterpriseCustomerSchema(Schema):
    name = fields.String()
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    timezone = fields.String()


class EnterpriseAppointmentSchema(Schema):
    id = fields.UUID()
    starts_at = Rfc3339()
    duration_min = fields.Integer()
    status = fields.String()


class WindowOutSchema(Schema):
    start = fields.String(metadata={"description": "RFC 3339"})
    end = fields.String(metadata={"description": "RFC 3339"})


class EnterpriseJobSchema(Schema):
    """Dumps an `EnterpriseJob`."""

    id = fields.UUID()
    external_id = fields.String(allow_none=True)
    title = fields.String()
    description = fields.String(allow_none=True)
    status = fields.String(
        metadata={"enum": list(ENTERPRISE_STATUSES), "description": "the provider's status"}
    )
    provider = fields.Nested(PartyRefSchema)
    customer = fields.Nested(EnterpriseCustomerSchema)
    appointment_windows = fields.List(fields.Nested(WindowOutSchema))
    appointments = fields.List(fields.Nested(EnterpriseAppointmentSchema))
    created_at = Rfc3339()
    updated_at = Rfc3339()


class IsoTime(Rfc3339):
    """Dumps a time as Python's `isoformat` writes it, in the offset it has."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value.isoformat())


class WebhookAppointmentSchema(EnterpriseAppointmentSchema):
    starts_at = IsoTime()


class WebhookJobSchema(EnterpriseJobSchema):
    """The `job` of a webhook event: the API's job, its times as events have always carried
    them (`+00:00` where the API writes `Z`)."""

    appointments = fields.List(fields.Nested(WebhookAppointmentSchema))
    created_at = IsoTime()
    updated_at = IsoTime()
