"""Wire formats of accounts."""

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, missing, validate

from fieldapi.accounts.auth import current_principal
from fieldapi.accounts.models import ORGANIZATION_KINDS, ROLES
from fieldapi.accounts.organizations import BOOKING_SLUG
from fieldapi.input_guard import NOT_BLANK
from fieldapi.phones import MAX_PHONE_INPUT


class OrganizationRefSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    kind = fields.String(metadata={"enum": list(ORGANIZATION_KINDS)})


class UserSchema(Schema):
    """Dumps a `User` (its organization through `User.organization`)."""

    id = fields.UUID()
    name = fields.String()
    phone = fields.String(metadata={"description": "E.164"})
    role = fields.String(metadata={"enum": list(ROLES)})
    active = fields.Boolean()
    on_duty = fields.Boolean()
    organization = fields.Nested(OrganizationRefSchema)


def phone_field() -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Length(max=MAX_PHONE_INPUT),
        metadata={
            "description": "any common form; answered in E.164",
            "example": "(312) 200-0100",
            "pattern": NOT_BLANK,
        },
    )


class PasscodeRequestSchema(Schema):
    phone = phone_field()


class PasscodeSentSchema(Schema):
    expires_in = fields.Integer(metadata={"description": "seconds the passcode is valid"})
    resend_after = fields.Integer(metadata={"description": "seconds before asking again"})


class DeviceSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # newer apps may describe themselves in more detail

    platform = fields.String(validate=validate.Length(max=40), metadata={"example": "ios"})
    app = fields.String(validate=validate.Length(max=40), metadata={"example": "field"})
    app_version = fields.String(validate=validate.Length(max=40), metadata={"example": "1.4.0"})


class SessionRequestSchema(Schema):
    phone = phone_field()
    passcode = fields.String(
        required=True,
        validate=validate.Length(max=16),
        metadata={"example": "123456", "pattern": "^[0-9]{6}$"},
    )
    device = fields.Nested(DeviceSchema)


class RefreshRequestSchema(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokensSchema(Schema):
    """Dumps a `service.LoggedIn`."""

    access_token = fields.String(attribute="tokens.access_token")
    refresh_token = fields.String(attribute="tokens.refresh_token")
    token_type = fields.String(attribute="tokens.token_type", metadata={"example": "Bearer"})
    expires_in = fields.Integer(
        attribute="tokens.expires_in", metadata={"description": "seconds the access token is valid"}
    )
    refresh_expires_in = fields.Integer(
        attribute="tokens.refresh_expires_in",
        metadata={"description": "seconds the refresh token is valid"},
    )
    user = fields.Nested(UserSchema)


class TeamMemberCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    phone = phone_field()
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class TeamMemberUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()


class _ForDispatchers(fields.String):
    """Dumped only when the caller is a dispatcher; absent from anyone else's answer."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        if not current_principal().is_dispatcher:
            return missing
        return super().get_value(obj, attr, accessor, default)


class OrganizationSettingsSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.String(validate=validate.Length(min=1, max=200), metadata={"pattern": NOT_BLANK})
    timezone = fields.String(
        validate=validate.Length(max=64), metadata={"example": "America/Chicago"}
    )
    arrival_texts = fields.Boolean(
        metadata={"description": "text customers when their technician starts the visit"}
    )
    kind = fields.String(dump_only=True, metadata={"enum": list(ORGANIZATION_KINDS)})
    connection_code = _ForDispatchers(
        dump_only=True,
        allow_none=True,
        metadata={"description": "a provider gives it to an enterprise to connect"},
    )
    booked_texts = fields.Boolean(
        metadata={"description": "text customers when a visit is booked or moved"}
    )
    reminder_texts = fields.Boolean(
        metadata={"description": "text customers a reminder `reminder_hours` before a visit"}
    )
    reminder_hours = fields.Integer(validate=validate.Range(min=1, max=168))
    canceled_texts = fields.Boolean(
        metadata={"description": "text customers when a visit is canceled"}
    )
    booking_enabled = fields.Boolean(
        metadata={"description": "the booking page GET /book/<booking_slug> takes requests"}
    )
    booking_slug = fields.String(
        validate=validate.Length(min=3, max=60),
        allow_none=False,
        metadata={"example": "done-right-chicago", "pattern": f"^{BOOKING_SLUG.pattern}$"},
    )
    auto_start_on_arrival = fields.Boolean(
        metadata={
            "description": "start an en-route visit when the technician's fixes show "
            "them at the site"
        }
    )
    currency = fields.String(
        metadata={
            "description": "ISO 4217 code of estimates and invoices",
            "example": "USD",
            "pattern": "^[A-Z]{3}$",
        }
    )
    tax_rate_pct = fields.Float(
        allow_nan=False,
        metadata={
            "description": "default tax rate of new documents, 0 to 100, two decimals at most",
            "example": 8.25,
            "minimum": 0,
            "maximum": 100,
        },
    )


class OrganizationSettingsAnswerSchema(OrganizationSettingsSchema):
    """Dumps an `Organization`: `booking_slug` is null until one is chosen."""

    booking_slug = fields.String(allow_none=True, metadata={"example": "done-right-chicago"})
