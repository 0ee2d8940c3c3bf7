"""HTTP endpoints of accounts: login, the logged-in user, the team."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import joinedload

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
def log_in(args: dict[str, Any]) -> service.LoggedIn:
    """Log in with a phone number and the passcode texted to it.

    401 for a wrong, used or expired passcode; 429 with `Retry-After` while the number is
    locked after too many wrong ones.
    """
    config = current_app.config
    return service.log_in(
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
def refresh(args: dict[str, Any]) -> service.LoggedIn:
    """Exchange the refresh token for a new pair.

    The old refresh token stops working; presenting it again ends the whole session (401).
    """
    config = current_app.config
    return service.refresh(
        session(),
        args["refresh_token"],
        secret_key=config["SECRET_KEY"],
        now=utcnow(),
        lifetimes=TokenLifetimes.from_config(config),
    )


@me_blp.route("")
@me_blp.response(200, UserSchema)
def me() -> User:
    """The logged-in user and their organization."""
    query = (
        select(User)
        .options(joinedload(User.organization, innerjoin=True))
        .where(User.id == current_principal().user_id)
    )
    return session().scalars(query).one()


@team_blp.route("", methods=["GET"])
@team_blp.response(200, UserSchema(many=True))
def list_team() -> Sequence[User]:
    """The organization's users, active or not (dispatchers only)."""
    return team.list_team(session(), current_principal())


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
def add_member(args: dict[str, Any]) -> User:
    """Add a member (dispatchers only); they get a text with the app(s) to download.

    409 when the phone number already belongs to a user.
    """
    principal = current_principal()
    db = session()
    invite = team.InviteSettings.from_config(current_app.config)
    return team.add_member(db, principal, invite=invite, **args)


@team_blp.route("/<uuid:user_id>", methods=["PATCH"])
@login_required
@team_blp.arguments(TeamMemberUpdateSchema)
@team_blp.response(200, UserSchema)
def update_member(args: dict[str, Any], user_id: uuid.UUID) -> User:
    """Rename a member, change their role, deactivate or reactivate them (dispatchers only).

    `active: false` ends every session of theirs at once. 409 for the last active dispatcher.
    """
    principal = current_principal()
    db = session()
    return team.update_member(db, principal, user_id, now=utcnow(), **args)


@organization_blp.route("", methods=["GET"])
@login_required
@organization_blp.response(200, OrganizationSettingsAnswerSchema)
def get_organization_settings() -> Organization:
    """The caller's organization: name, timezone, whether arrival texts are sent."""
    return session().get_one(Organization, current_principal().organization_id)


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
def update_organization_settings(args: dict[str, Any]) -> Organization:
    """Change them (dispatchers only); `arrival_texts: false` stops the "has arrived" text
    on Start. The timezone is an IANA name."""
    return update_organization(session(), current_principal(), **args)


@organization_blp.route("/connection-code", methods=["POST"])
@login_required
@organization_blp.response(200, OrganizationSettingsAnswerSchema)
def regenerate_connection_code() -> Organization:
    """A new connection code (dispatchers of a provider); the old one stops connecting."""
    return regenerate_connection_code_of(session(), current_principal())


blueprints: tuple[Blueprint, ...] = (auth_blp, me_blp, team_blp, organization_blp)
