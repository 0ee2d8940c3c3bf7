"""Login sessions: issue, authenticate, revoke. Tokens are stored only as hashes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fieldapi.accounts.models import AuthSession, Organization, User
from fieldapi.accounts.principal import Principal
from fieldapi.accounts.tokens import hash_token, new_token

ACCESS_TOKEN_TTL = timedelta(minutes=15)
REFRESH_TOKEN_TTL = timedelta(days=30)


@dataclass(frozen=True)
class Device:
    platform: str | None = None
    app: str | None = None
    app_version: str | None = None


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: uuid.UUID


def open_session(
    db: Session, user: User, *, secret_key: str, now: datetime, device: Device | None = None
) -> TokenPair:
    """Start a session for a user who has just proved they hold their phone."""
    device = device or Device()
    access, refresh = new_token(), new_token()
    record = AuthSession(
        id=uuid.uuid4(),
        organization_id=user.organization_id,
        user_id=user.id,
        access_token_hash=hash_token(secret_key, access),
        access_expires_at=now + ACCESS_TOKEN_TTL,
        refresh_token_hash=hash_token(secret_key, refresh),
        refresh_expires_at=now + REFRESH_TOKEN_TTL,
        device_platform=device.platform,
        device_app=device.app,
        device_app_version=device.app_version,
        created_at=now,
    )
    db.add(record)
    db.flush()
    return TokenPair(access, refresh, int(ACCESS_TOKEN_TTL.total_seconds()), record.id)


def authenticate(
    db: Session, access_token: str, *, secret_key: str, now: datetime
) -> Principal | None:
    """The caller behind an access token, or None: every check runs on every request,
    so a revoked session or a deactivated user fails at once."""
    row = db.execute(
        select(AuthSession.id, User.id, User.organization_id, User.name, User.role)
        .join(User, User.id == AuthSession.user_id)
        .join(Organization, Organization.id == User.organization_id)
        .where(
            AuthSession.access_token_hash == hash_token(secret_key, access_token),
            AuthSession.revoked_at.is_(None),
            AuthSession.access_expires_at > now,
            User.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    session_id, user_id, organization_id, name, role = row
    return Principal(user_id, organization_id, session_id, name, role)


def revoke_session(db: Session, session_id: uuid.UUID, *, now: datetime, reason: str) -> None:
    db.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


def revoke_user_sessions(db: Session, user_id: uuid.UUID, *, now: datetime, reason: str) -> int:
    result = db.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return result.rowcount
