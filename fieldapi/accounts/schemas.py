"""Wire formats of accounts."""

from marshmallow import Schema, fields


class OrganizationRefSchema(Schema):
    id = fields.UUID()
    name = fields.String()


class UserSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    phone = fields.String(metadata={"description": "E.164"})
    role = fields.String(metadata={"enum": ["dispatcher", "technician", "both"]})
    active = fields.Boolean()
    on_duty = fields.Boolean()
    organization = fields.Nested(OrganizationRefSchema)
