"""Wire formats of customers, jobs, appointments, actions, notes, photos, complete reasons."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from webargs.fields import DelimitedList

from fieldapi.input_guard import NOT_BLANK
from fieldapi.jobs.models import APPOINTMENT_STATUSES, JOB_STATUSES, VISIBILITIES
from fieldapi.jobs.reasons import CODE_PATTERN, MAX_CODE, MAX_LABEL, OUTCOMES
from fieldapi.jobs.rules import MAX_DURATION_MIN, MAX_TITLE
from fieldapi.pagination import PageQuerySchema, page_schema

RFC3339 = {"description": "RFC 3339 with an offset, e.g. 2026-11-24T14:05:00Z"}


class Rfc3339(fields.AwareDateTime):
    """Accepts only times with an offset; answers in UTC with a `Z`."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return str(value.astimezone(UTC).isoformat().replace("+00:00", "Z"))


class ApiPath(fields.String):
    """The dumped object's address in the API: `prefix`, its id, then `suffix`."""

    def __init__(self, prefix: str, suffix: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prefix = prefix
        self.suffix = suffix

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> str:
        return f"{self.prefix}{obj.id}{self.suffix}"


class StrictInteger(fields.Integer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)


def _text(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(1, max_length), **kwargs)


Visibility = validate.OneOf(list(VISIBILITIES))

# -- pagination -----------------------------------------------------------------------


# -- customers ------------------------------------------------------------------------


class SitePointSchema(Schema):
    type = fields.String(metadata={"example": "Point"})
    coordinates = fields.List(fields.Float(), metadata={"description": "[lon, lat]"})


class CustomerCreateSchema(Schema):
    name = _text(200, required=True)
    phone = _text(
        32, required=True, metadata={"description": "any common form", "pattern": NOT_BLANK}
    )
    email = fields.Email(allow_none=True, validate=validate.Length(max=320))
    address = _text(500, required=True)
    lat = fields.Float(required=True, validate=validate.Range(-90, 90), allow_nan=False)
    lon = fields.Float(required=True, validate=validate.Range(-180, 180), allow_nan=False)
    timezone = _text(64, required=True, metadata={"description": "IANA, e.g. America/Chicago"})


class CustomerUpdateSchema(Schema):
    name = _text(200)
    phone = _text(32, metadata={"pattern": NOT_BLANK})
    email = fields.Email(allow_none=True, validate=validate.Length(max=320))
    address = _text(500)
    lat = fields.Float(validate=validate.Range(-90, 90), allow_nan=False)
    lon = fields.Float(validate=validate.Range(-180, 180), allow_nan=False)
    timezone = _text(64)


class CustomerSchema(Schema):
    """Dumps a `Customer` (its site through the model's properties)."""

    id = fields.UUID()
    name = fields.String()
    phone = fields.String(allow_none=True, metadata={"description": "E.164"})
    email = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    site = fields.Nested(
        SitePointSchema,
        attribute="site_point",
        allow_none=True,
        metadata={"description": "GeoJSON"},
    )
    timezone = fields.String()
    texts_opted_out = fields.Boolean(
        dump_only=True,
        metadata={
            "description": "the number replied STOP: no text reaches it until it replies START"
        },
    )
    created_at = Rfc3339()
    updated_at = Rfc3339()


class CustomerQuerySchema(PageQuerySchema):
    q = fields.String(
        validate=validate.Length(1, 100),
        metadata={"description": "part of the name, phone or address"},
    )


CustomerPageSchema = page_schema(CustomerSchema, "CustomerPage")

# -- jobs and appointments ------------------------------------------------------------


class AppointmentCreateSchema(Schema):
    starts_at = Rfc3339(required=True, metadata=RFC3339)
    duration_min = StrictInteger(required=True, validate=validate.Range(1, MAX_DURATION_MIN))
    technician_id = fields.UUID(allow_none=True)


class AppointmentUpdateSchema(Schema):
    class Meta:
        openapi = {"minProperties": 1}  # an empty change is refused

    starts_at = Rfc3339(metadata=RFC3339)
    duration_min = StrictInteger(validate=validate.Range(1, MAX_DURATION_MIN))
    technician_id = fields.UUID(allow_none=True, metadata={"description": "null: unassign"})


class JobCreateSchema(Schema):
    customer_id = fields.UUID(required=True)
    title = _text(MAX_TITLE, required=True)
    description = fields.String(allow_none=True, validate=validate.Length(max=10_000))
    appointment = fields.Nested(AppointmentCreateSchema, allow_none=True)


class JobUpdateSchema(Schema):
    title = _text(MAX_TITLE)
    description = fields.String(allow_none=True, validate=validate.Length(max=10_000))


class PersonSchema(Schema):
    id = fields.UUID(allow_none=True)
    name = fields.String(allow_none=True)


class AppointmentSchema(Schema):
    """Dumps an `AppointmentAnswer`."""

    id = fields.UUID(attribute="row.id")
    job_id = fields.UUID(attribute="row.job_id")
    starts_at = Rfc3339(attribute="row.starts_at")
    ends_at = Rfc3339()
    duration_min = fields.Integer(attribute="row.duration_min")
    status = fields.String(attribute="row.status", metadata={"enum": list(APPOINTMENT_STATUSES)})
    technician = fields.Nested(PersonSchema, allow_none=True)
    reason_code = fields.String(attribute="row.reason_code", allow_none=True)
    outcome = fields.String(
        attribute="row.outcome", allow_none=True, metadata={"enum": ["complete", "pause"]}
    )
    pause_reason = fields.String(attribute="row.pause_reason", allow_none=True)
    ended_at = Rfc3339(attribute="row.ended_at", allow_none=True)
    allowed_actions = fields.List(
        fields.String(), metadata={"description": "what the caller may do to it now"}
    )


class JobRefSchema(Schema):
    """Dumps a `Job`."""

    id = fields.UUID()
    title = fields.String()
    status = fields.String(metadata={"enum": list(JOB_STATUSES)})


class CalendarAppointmentSchema(AppointmentSchema):
    job = fields.Nested(JobRefSchema, attribute="row.job")
    customer = fields.Nested(CustomerSchema, attribute="row.job.customer")


class OfferedBySchema(Schema):
    """Dumps an `Organization`."""

    id = fields.UUID()
    name = fields.String()


class JobSchema(Schema):
    """Dumps a `JobAnswer` (a `JobDetail` with its `complete_reasons`)."""

    id = fields.UUID(attribute="row.id")
    title = fields.String(attribute="row.title")
    description = fields.String(attribute="row.description", allow_none=True)
    status = fields.String(attribute="row.status", metadata={"enum": list(JOB_STATUSES)})
    offer_state = fields.String(
        attribute="row.offer_state", metadata={"enum": ["none", "pending", "accepted"]}
    )
    provider_name = fields.String(
        attribute="row.provider_name",
        allow_none=True,
        metadata={"description": "the enterprise that offered the job"},
    )
    offered_by = fields.Nested(
        OfferedBySchema,
        attribute="row.offered_by",
        allow_none=True,
        metadata={"description": "the enterprise that offered it"},
    )
    source = fields.String(
        attribute="row.source", metadata={"enum": ["dispatcher", "enterprise", "booking"]}
    )
    preferred_windows = fields.List(
        fields.Dict(keys=fields.String(), values=fields.String()),
        metadata={"description": "a booking request's windows: [{start, end}]"},
    )
    customer = fields.Nested(CustomerSchema, attribute="row.customer")
    appointments = fields.List(fields.Nested(AppointmentSchema))
    allowed_actions = fields.List(
        fields.String(), metadata={"description": "the job actions the caller may take now"}
    )
    complete_reasons = fields.List(
        fields.Nested("CompleteReasonSchema"),
        metadata={
            "description": "what completes this job's visits (GET of one job): the offering "
            "enterprise's own reasons when it has them, else the organization's"
        },
    )
    created_at = Rfc3339(attribute="row.created_at")
    updated_at = Rfc3339(attribute="row.updated_at")


class EtaSchema(Schema):
    minutes = fields.Integer(allow_none=True)
    arrive_by = Rfc3339(allow_none=True)
    distance_m = fields.Integer(allow_none=True, metadata={"description": "straight line"})
    method = fields.String(
        metadata={
            "enum": ["request_position", "latest_position", "unknown_position", "unknown_site"],
            "description": "where the position came from; unknown_*: no time in the text",
        }
    )


class JobWithEtaSchema(JobSchema):
    eta = fields.Nested(EtaSchema)


JobPageSchema = page_schema(JobSchema, "JobPage")
CalendarPageSchema = page_schema(CalendarAppointmentSchema, "CalendarPage")


class JobQuerySchema(PageQuerySchema):
    status = DelimitedList(
        fields.String(validate=validate.OneOf(JOB_STATUSES)),
        metadata={"description": "one or more statuses, comma separated"},
    )
    customer_id = fields.UUID()
    technician_id = fields.UUID()


class CalendarQuerySchema(PageQuerySchema):
    from_ = Rfc3339(
        data_key="from",
        metadata={"description": "RFC 3339; unset: today's midnight, organization's timezone"},
    )
    to = Rfc3339(
        metadata={"description": "RFC 3339, at most 62 days after from; unset: from + 1 day"}
    )
    technician_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(APPOINTMENT_STATUSES))


# -- actions --------------------------------------------------------------------------


class JobActionSchema(Schema):
    reason = fields.String(validate=validate.Length(max=1000), allow_none=True)


class OnMyWaySchema(Schema):
    lat = fields.Float(validate=validate.Range(-90, 90), allow_nan=False)
    lon = fields.Float(validate=validate.Range(-180, 180), allow_nan=False)


class EmptySchema(Schema):
    pass


class PauseSchema(Schema):
    reason = fields.String(validate=validate.Length(max=1000), allow_none=True)


class CompleteSchema(Schema):
    reason_code = _text(MAX_CODE, required=True)


# -- activity ---------------------------------------------------------------------------


class ActorSchema(Schema):
    """Dumps an `ActivityEvent`'s actor columns."""

    id = fields.UUID(attribute="actor_id", allow_none=True)
    name = fields.String(
        attribute="actor_name",
        allow_none=True,
        metadata={"description": "a user's name; an enterprise's name only"},
    )
    kind = fields.String(
        attribute="actor_kind", metadata={"enum": ["user", "enterprise", "system"]}
    )


class ActivitySchema(Schema):
    """Dumps an `ActivityEntry`."""

    id = fields.Integer(attribute="row.id")
    at = Rfc3339(attribute="row.at")
    actor = fields.Nested(ActorSchema, attribute="row")
    action = fields.String(attribute="row.action")
    appointment_id = fields.UUID(attribute="row.appointment_id", allow_none=True)
    from_status = fields.String(attribute="row.from_status", allow_none=True)
    to_status = fields.String(attribute="row.to_status", allow_none=True)
    details = fields.Dict()


ActivityPageSchema = page_schema(ActivitySchema, "ActivityPage")

# -- complete reasons -------------------------------------------------------------------


class CompleteReasonSchema(Schema):
    code = fields.String(
        required=True,
        validate=validate.Regexp(CODE_PATTERN),
        metadata={"description": "lower-case letters, digits, _ and -"},
    )
    label = _text(MAX_LABEL, required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(list(OUTCOMES)))


# -- notes and photos -------------------------------------------------------------------


class NoteCreateSchema(Schema):
    body = _text(10_000, required=True)
    visibility = fields.String(
        load_default="private",
        validate=Visibility,
        metadata={"description": "public: also the enterprise that provided the job"},
    )


class NoteSchema(Schema):
    """Dumps a `JobNote` (its author a `User`)."""

    id = fields.UUID()
    job_id = fields.UUID()
    body = fields.String()
    visibility = fields.String()
    author = fields.Nested(PersonSchema, allow_none=True)
    created_at = Rfc3339()


class PhotoFormSchema(Schema):
    visibility = fields.String(load_default="private", validate=Visibility)


class PhotoFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "JPEG, PNG or HEIC"})


class PhotoUploadSchema(Schema):
    """The whole multipart body, for the documentation (parsed as form + files)."""

    file = Upload(required=True, metadata={"description": "JPEG, PNG or HEIC"})
    visibility = fields.String(load_default="private", validate=Visibility)


class PhotoSchema(Schema):
    """Dumps a `JobPhoto` (its author a `User`)."""

    id = fields.UUID()
    job_id = fields.UUID()
    visibility = fields.String()
    content_type = fields.String()
    size_bytes = fields.Integer()
    url = ApiPath("/v1/photos/", metadata={"description": "GET it with the bearer token"})
    author = fields.Nested(PersonSchema, allow_none=True)
    created_at = Rfc3339()


NotePageSchema = page_schema(NoteSchema, "NotePage")
PhotoPageSchema = page_schema(PhotoSchema, "PhotoPage")
