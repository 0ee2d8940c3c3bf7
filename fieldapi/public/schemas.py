"""Wire formats of the customer's side."""

from marshmallow import Schema, fields

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
