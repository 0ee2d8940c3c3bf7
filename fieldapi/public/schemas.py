"""Wire formats of the customer's side."""

from marshmallow import Schema, fields, validate

from fieldapi.input_guard import NOT_BLANK
from fieldapi.jobs.schemas import Rfc3339
from fieldapi.public.tracking import ARRIVED, CANCELED, FINISHED, ON_THE_WAY


class NameSchema(Schema):
    name = fields.String()


class FirstNameSchema(Schema):
    first_name = fields.String(allow_none=True)


class TrackingEtaSchema(Schema):
    minutes = fields.Integer()
    arrive_by = Rfc3339()


class TrackingPositionSchema(Schema):
    lat = fields.Float(metadata={"description": "rounded to 3 decimals (about 100 m)"})
    lon = fields.Float(metadata={"description": "rounded to 3 decimals (about 100 m)"})
    accuracy_m = fields.Float()
    recorded_at = Rfc3339()


class SiteSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()


class TrackingSchema(Schema):
    status = fields.String(metadata={"enum": [ON_THE_WAY, ARRIVED, FINISHED, CANCELED]})
    organization = fields.Nested(NameSchema)
    technician = fields.Nested(FirstNameSchema)
    eta = fields.Nested(TrackingEtaSchema, allow_none=True)
    position = fields.Nested(
        TrackingPositionSchema,
        allow_none=True,
        metadata={"description": "only while on the way, coarsened"},
    )
    site = fields.Nested(SiteSchema, allow_none=True)
    updated_at = Rfc3339()


class BookingPasscodeRequestSchema(Schema):
    phone = fields.String(
        required=True, validate=validate.Length(min=1, max=64), metadata={"pattern": NOT_BLANK}
    )


class BookingWindowSchema(Schema):
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)


class BookingRequestSchema(Schema):
    name = fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata={"pattern": NOT_BLANK}
    )
    phone = fields.String(
        required=True, validate=validate.Length(min=1, max=64), metadata={"pattern": NOT_BLANK}
    )
    passcode = fields.String(
        required=True, validate=validate.Length(min=1, max=20), metadata={"pattern": NOT_BLANK}
    )
    address = fields.String(
        required=True, validate=validate.Length(min=1, max=500), metadata={"pattern": NOT_BLANK}
    )
    lat = fields.Float(validate=validate.Range(min=-90, max=90), allow_nan=False)
    lon = fields.Float(validate=validate.Range(min=-180, max=180), allow_nan=False)
    email = fields.Email(validate=validate.Length(max=320))
    description = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    preferred_windows = fields.List(
        fields.Nested(BookingWindowSchema), validate=validate.Length(max=3), load_default=list
    )


class BookingCreatedSchema(Schema):
    request_id = fields.UUID()
