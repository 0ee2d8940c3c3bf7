"""HTTP endpoints of accounts: login, the logged-in user, the team."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import select

from fieldapi.accounts import service, team
from fieldapi.accounts.auth import current_principal, login_required
from fieldapi.accounts.models import Organization, User
from fieldapi.accounts.organizations import (
    regenerate_connection_code as regenerate_connection_code_of,
)
from fieldapi.accounts.organizations import update_organization
from fieldapi.accounts.passcodes import PasscodeRules, PasscodeSent, request_passcode
from fieldapi.accounts.schemas import (
    OrganizationSettingsAnswerSchema,
    OrganizationSettingsSchema,
    PasscodeRequestSchema,
    PasscodeSentSchema,
    RefreshRequestSchema,
    SessionRequestSchema,
    TeamMemberCreateSchema,
    TeamMemberUpdateSchema,
    TokensSchema,
    UserSchema,
)
from fieldapi.accounts.sessions import Device, TokenLifetimes
from fieldapi.db import session, utcnow
from fieldapi.errors import refusal
from fieldapi.extensions import client_address, rate_limited
from fieldapi.idempotency import idempotent

auth_blp = Blueprint(
    "auth", __name__, url_prefix="/auth", description="Login by phone number and SMS passcode"
)
me_blp = Blueprint("me", __name__, url_prefix="/me", description="The logged-in user")
team_blp = Blueprint("team", __name__, url_prefix="/team", description="Team management")
organization_blp = Blueprint(
    "organization_settings",
    __name__,
    url_prefix="/settings/organization",
    description="The organization's name, timezone and texts",
)


def user_view(user: User, organization: Organization) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "phone": user.phone,
        "role": user.role,
        "active": user.active,
        "on_duty": user.on_duty,
        "organization": {
            "id": organization.id,
            "name": organization.name,
            "kind": organization.kind,
        },
    }


def tokens_view(result: service.LoggedIn) -> dict[str, Any]:
    tokens = result.tokens
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": tokens.token_type,
        "expires_in": tokens.expires_in,
        "refresh_expires_in": tokens.refresh_expires_in,
        "user": user_view(result.user, result.organization),
    }


def _logs_passcodes(config: Mapping[str, Any]) -> bool:
    return bool(config["SMS_TRANSPORT"] == "console" and config["FIELDAPI_ENV"] == "development")


@auth_blp.route("/passcode", methods=["POST"])
@auth_blp.doc(security=[])
@rate_limited("PASSCODE_RATE_LIMIT")
@auth_blp.arguments(PasscodeRequestSchema)
@auth_blp.response(202, PasscodeSentSchema)
@auth_blp.alt_response(422, **refusal("a `phone` libphonenumber calls no real number"))
def ask_passcode(args: dict[str, Any]) -> PasscodeSent:
    """Text a login passcode to a phone number.

    The answer is the same whether or not the number has an account; only an active user
    gets a text. 429 with `Retry-After` within 30 s of the last code, past the hourly cap
    of the number, or while the number is locked after too many wrong passcodes.
    """
    config = current_app.config
    return request_passcode(
        session(),
        args["phone"],
        secret_key=config["SECRET_KEY"],
        now=utcnow(),
        rules=PasscodeRules.from_config(config),
        log_code=_logs_passcodes(config),
    )


@auth_blp.route("/session", methods=["POST"])
@auth_blp.doc(security=[])
@rate_limited("LOGIN_RATE_LIMIT")
@auth_blp.arguments(SessionRequestSchema)
@auth_blp.response(201, TokensSchema)
@auth_blp.alt_response(422, **refusal("a `phone` libphonenumber calls no real number"))
def log_in(args: dict[str, Any]) -> dict[str, Any]:
    """Log in with a phone number and the passcode texted to it.

    401 for a wrong, used or expired passcode; 429 with `Retry-After` while the number is
    locked after too many wrong ones.
    """
    config = current_app.config
    result = service.log_in(
        session(),
        phone=args["phone"],
        passcode=args["passcode"],
        source=client_address(),
        device=Device(**args.get("device", {})),
        secret_key=config["SECRET_KEY"],
        now=utcnow(),
        rules=PasscodeRules.from_config(config),
        lifetimes=TokenLifetimes.from_config(config),
    )
    return tokens_view(result)


@auth_blp.route("/session", methods=["DELETE"])
@auth_blp.response(204)
def log_out() -> None:
    """Log out: both tokens of this session stop working."""
    service.log_out(session(), current_principal(), now=utcnow())


@auth_blp.route("/refresh", methods=["POST"])
@auth_blp.doc(security=[])
@rate_limited("LOGIN_RATE_LIMIT")
@auth_blp.arguments(RefreshRequestSchema)
@auth_blp.response(200, TokensSchema)
def refresh(args: dict[str, Any]) -> dict[str, Any]:
    """Exchange the refresh token for a new pair.

    The old refresh token stops working; presenting it again ends the whole session (401).
    """
    config = current_app.config
    result = service.refresh(
        session(),
        args["refresh_token"],
        secret_key=config["SECRET_KEY"],
        now=utcnow(),
        lifetimes=TokenLifetimes.from_config(config),
    )
    return tokens_view(result)


@me_blp.route("")
@me_blp.response(200, UserSchema)
def me() -> dict[str, Any]:
    """The logged-in user and their organization."""
    principal = current_principal()
    user, organization = (
        session()
        .execute(
            select(User, Organization)
            .join(Organization, Organization.id == User.organization_id)
            .where(User.id == principal.user_id)
        )
        .one()
    )
    return user_view(user, organization)


@team_blp.route("", methods=["GET"])
@team_blp.response(200, UserSchema(many=True))
def list_team() -> list[dict[str, Any]]:
    """The organization's users, active or not (dispatchers only)."""
    principal = current_principal()
    db = session()
    organization = db.get_one(Organization, principal.organization_id)
    return [user_view(user, organization) for user in team.list_team(db, principal)]


@team_blp.route("", methods=["POST"])
@idempotent
@login_required
@team_blp.arguments(TeamMemberCreateSchema)
@team_blp.response(201, UserSchema)
@team_blp.alt_response(
    422,
    **refusal(
        "a `phone` libphonenumber calls no real number; `role` manager outside an enterprise"
    ),
)
def add_member(args: dict[str, Any]) -> dict[str, Any]:
    """Add a member (dispatchers only); they get a text with the app(s) to download.

    409 when the phone number already belongs to a user.
    """
    principal = current_principal()
    db = session()
    invite = team.InviteSettings.from_config(current_app.config)
    user = team.add_member(db, principal, invite=invite, **args)
    return user_view(user, db.get_one(Organization, user.organization_id))


@team_blp.route("/<uuid:user_id>", methods=["PATCH"])
@login_required
@team_blp.arguments(TeamMemberUpdateSchema)
@team_blp.response(200, UserSchema)
def update_member(args: dict[str, Any], user_id: uuid.UUID) -> dict[str, Any]:
    """Rename a member, change their role, deactivate or reactivate them (dispatchers only).

    `active: false` ends every session of theirs at once. 409 for the last active dispatcher.
    """
    principal = current_principal()
    db = session()
    user = team.update_member(db, principal, user_id, now=utcnow(), **args)
    return user_view(user, db.get_one(Organization, user.organization_id))


def organization_view(organization: Organization) -> dict[str, Any]:
    """The settings; the connection code only for the provider's dispatchers."""
    view = {
        "id": organization.id,
        "name": organization.name,
        "timezone": organization.timezone,
        "arrival_texts": organization.arrival_texts,
        "kind": organization.kind,
        "booked_texts": organization.booked_texts,
        "reminder_texts": organization.reminder_texts,
        "reminder_hours": organization.reminder_hours,
        "canceled_texts": organization.canceled_texts,
        "auto_start_on_arrival": organization.auto_start_on_arrival,
        "currency": organization.currency,
        "tax_rate_pct": organization.tax_rate_bp / 100,
        "booking_enabled": organization.booking_enabled,
        "booking_slug": organization.booking_slug,
    }
    if current_principal().is_dispatcher:
        view["connection_code"] = organization.connection_code
    return view


@organization_blp.route("", methods=["GET"])
@login_required
@organization_blp.response(200, OrganizationSettingsAnswerSchema)
def get_organization_settings() -> dict[str, Any]:
    """The caller's organization: name, timezone, whether arrival texts are sent."""
    return organization_view(session().get_one(Organization, current_principal().organization_id))


@organization_blp.route("", methods=["PATCH"])
@login_required
@organization_blp.arguments(OrganizationSettingsSchema)
@organization_blp.response(200, OrganizationSettingsAnswerSchema)
@organization_blp.alt_response(
    422,
    **refusal(
        "a `timezone` that is no IANA name, "
        "a `currency` that is no priced ISO 4217 code, `booking_enabled` without a `booking_slug`"
    ),
)
def update_organization_settings(args: dict[str, Any]) -> dict[str, Any]:
    """Change them (dispatchers only); `arrival_texts: false` stops the "has arrived" text
    on Start. The timezone is an IANA name."""
    return organization_view(update_organization(session(), current_principal(), **args))


@organization_blp.route("/connection-code", methods=["POST"])
@login_required
@organization_blp.response(200, OrganizationSettingsAnswerSchema)
def regenerate_connection_code() -> dict[str, Any]:
    """A new connection code (dispatchers of a provider); the old one stops connecting."""
    return organization_view(regenerate_connection_code_of(session(), current_principal()))


blueprints: tuple[Blueprint, ...] = (auth_blp, me_blp, team_blp, organization_blp)
