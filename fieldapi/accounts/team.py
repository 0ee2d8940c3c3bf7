"""Team management by dispatchers: list, add (with an invite text), rename, change role,
deactivate and reactivate members."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fieldapi.accounts.models import (
    ENTERPRISE_ROLES,
    PROVIDER_ROLES,
    AuthSession,
    Organization,
    User,
)
from fieldapi.accounts.numbers import read_phone
from fieldapi.accounts.policy import require_team_admin
from fieldapi.accounts.principal import Principal
from fieldapi.accounts.sessions import ACCESS_REFUSED, revoke_user_sessions
from fieldapi.errors import Conflict, Forbidden, NotFound, Unauthorized, Unprocessable
from fieldapi.messaging import templates
from fieldapi.messaging.outbox import queue_message

DISPATCHING_ROLES = ("dispatcher", "both", "manager")  # who manages the team
PHONE_TAKEN = "This phone number already belongs to a user."


@dataclass(frozen=True)
class InviteSettings:
    field_app_url: str
    manager_app_url: str
    default_region: str = "US"
    allowed_regions: tuple[str, ...] = ("US", "CA")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> InviteSettings:
        return cls(
            field_app_url=config["FIELD_APP_URL"],
            manager_app_url=config["MANAGER_APP_URL"],
            default_region=config["PHONE_DEFAULT_REGION"],
            allowed_regions=tuple(config["SMS_ALLOWED_REGIONS"]),
        )


def list_team(db: Session, principal: Principal) -> Sequence[User]:
    """Everyone in the caller's organization, active or not, by name."""
    require_team_admin(principal, "see the team")
    return db.scalars(
        select(User)
        .where(User.organization_id == principal.organization_id)
        .order_by(User.name, User.id)
    ).all()


def add_member(
    db: Session,
    principal: Principal,
    *,
    name: str,
    phone: str,
    role: str,
    invite: InviteSettings,
) -> User:
    """A new member, texted a link to the app(s) their role uses. A phone number already on
    any team is a 409: a number is one login."""
    require_team_admin(principal, "add team members")
    clean_name = _clean_name(name)
    _check_role(db, principal, role)
    e164 = read_phone(
        phone, default_region=invite.default_region, allowed_regions=invite.allowed_regions
    )
    lock_team(db, principal)
    if db.scalar(select(User.id).where(User.phone == e164)) is not None:
        raise Conflict(PHONE_TAKEN, errors={"phone": [PHONE_TAKEN]})
    organization = db.get_one(Organization, principal.organization_id)
    user = User(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name=clean_name,
        phone=e164,
        role=role,
        active=True,
    )
    try:
        with db.begin_nested():
            db.add(user)
    except IntegrityError as error:  # the same number added at the same moment elsewhere
        raise Conflict(PHONE_TAKEN, errors={"phone": [PHONE_TAKEN]}) from error
    queue_message(
        db,
        organization_id=organization.id,
        to=e164,
        body=templates.invite(
            organization.name, clean_name, role, invite.field_app_url, invite.manager_app_url
        ),
        purpose="invite",
        allowed_regions=invite.allowed_regions,
    )
    db.commit()
    return user


def update_member(
    db: Session,
    principal: Principal,
    user_id: uuid.UUID,
    *,
    now: datetime,
    name: str | None = None,
    role: str | None = None,
    active: bool | None = None,
) -> User:
    """Rename, change the role, deactivate or reactivate. Deactivating ends every session of
    the member in the same transaction; reactivating lets them log in again (old tokens stay
    dead). The last active dispatcher of an organization stays one (409)."""
    require_team_admin(principal, "change team members")
    lock_team(db, principal)
    user = db.scalars(
        select(User)
        .where(User.id == user_id, User.organization_id == principal.organization_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if user is None:
        raise NotFound("No such team member.")
    new_name = _clean_name(name) if name is not None else user.name
    if role is not None:
        _check_role(db, principal, role)
    new_role = role if role is not None else user.role
    new_active = active if active is not None else user.active
    still_dispatching = new_active and new_role in DISPATCHING_ROLES
    if user.active and user.role in DISPATCHING_ROLES and not still_dispatching:
        _keep_a_dispatcher(db, user)
    if user.active and not new_active:
        revoke_user_sessions(db, user.id, now=now, reason="deactivated")
    user.name, user.role, user.active = new_name, new_role, new_active
    db.commit()
    return user


def lock_team(db: Session, principal: Principal) -> None:
    """One team change at a time per organization, so two dispatchers demoting each other at
    once cannot leave it without one. The caller is checked again under the lock: a change
    that committed while this request waited may have demoted or deactivated them, or
    ended their session."""
    # FOR NO KEY UPDATE: team changes take turns, but inserts that reference the
    # organization (pings, jobs, texts, idempotency keys) take FOR KEY SHARE on its row for
    # their foreign key, which FOR UPDATE would block (and deadlock with).
    db.execute(
        select(Organization.id)
        .where(Organization.id == principal.organization_id)
        .with_for_update(key_share=True)
    )
    caller = db.execute(
        select(User.active, User.role, AuthSession.revoked_at)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(User.id == principal.user_id, AuthSession.id == principal.session_id)
    ).one()
    if not caller.active or caller.revoked_at is not None:
        raise Unauthorized(ACCESS_REFUSED)
    if caller.role not in DISPATCHING_ROLES:
        raise Forbidden("Only dispatchers can change team members.")


def _keep_a_dispatcher(db: Session, user: User) -> None:
    others = db.scalar(
        select(func.count())
        .select_from(User)
        .where(
            User.organization_id == user.organization_id,
            User.id != user.id,
            User.active.is_(True),
            User.role.in_(DISPATCHING_ROLES),
        )
    )
    if not others:
        raise Conflict(
            f"{user.name} is the last active dispatcher of the organization; make someone "
            "else a dispatcher first."
        )


def _clean_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean or len(clean) > 200:
        message = "A name of 1 to 200 characters is required."
        raise Unprocessable(message, errors={"name": [message]})
    return clean


def _check_role(db: Session, principal: Principal, role: str) -> None:
    """Providers have dispatchers and technicians; enterprises have managers."""
    organization = db.get_one(Organization, principal.organization_id)
    roles = ENTERPRISE_ROLES if organization.is_enterprise else PROVIDER_ROLES
    if role not in roles:
        message = f"The role must be one of {', '.join(roles)}."
        raise Unprocessable(message, errors={"role": [message]})
