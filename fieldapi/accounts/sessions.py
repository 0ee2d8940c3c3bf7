"""Login sessions: issue, authenticate, revoke. Tokens are stored only as hashes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from fieldapi.accounts.models import AuthSession, UsedRefreshToken, User
from fieldapi.accounts.principal import Principal
from fieldapi.accounts.tokens import hash_token, new_token
from fieldapi.errors import Unauthorized

ACCESS_TOKEN_TTL = timedelta(minutes=15)
REFRESH_TOKEN_TTL = timedelta(days=30)
REFRESH_RETRY_GRACE = timedelta(seconds=30)
REFRESH_REFUSED = "The refresh token is not valid; log in again."
ACCESS_REFUSED = "The access token is not valid or has expired."


@dataclass(frozen=True)
class TokenLifetimes:
    access: timedelta = ACCESS_TOKEN_TTL
    refresh: timedelta = REFRESH_TOKEN_TTL
    # How long after its use a refresh token may be sent again as a retry of a lost answer.
    refresh_retry: timedelta = REFRESH_RETRY_GRACE

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TokenLifetimes:
        return cls(
            access=timedelta(minutes=config["ACCESS_TOKEN_MINUTES"]),
            refresh=timedelta(days=config["REFRESH_TOKEN_DAYS"]),
            refresh_retry=timedelta(seconds=config["REFRESH_RETRY_SECONDS"]),
        )


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
    refresh_expires_in: int = int(REFRESH_TOKEN_TTL.total_seconds())
    token_type: str = "Bearer"


def open_session(
    db: Session,
    user: User,
    *,
    secret_key: str,
    now: datetime,
    device: Device | None = None,
    lifetimes: TokenLifetimes | None = None,
) -> TokenPair:
    """Start a session for a user who has just proved they hold their phone."""
    device = device or Device()
    lifetimes = lifetimes or TokenLifetimes()
    access, refresh = new_token(), new_token()
    record = AuthSession(
        id=uuid.uuid4(),
        organization_id=user.organization_id,
        user_id=user.id,
        access_token_hash=hash_token(secret_key, access),
        access_expires_at=now + lifetimes.access,
        refresh_token_hash=hash_token(secret_key, refresh),
        refresh_expires_at=now + lifetimes.refresh,
        device_platform=device.platform,
        device_app=device.app,
        device_app_version=device.app_version,
        created_at=now,
    )
    db.add(record)
    db.flush()
    return _pair(access, refresh, record.id, lifetimes)


def rotate_refresh_token(
    db: Session,
    refresh_token: str,
    *,
    secret_key: str,
    now: datetime,
    lifetimes: TokenLifetimes | None = None,
) -> tuple[TokenPair, User]:
    """Exchange a refresh token for a new pair; the old tokens stop working. The caller
    commits; a refused token raises Unauthorized after committing any revocation.

    A refresh token seen a second time has leaked (or been raced): the whole session ends
    (401), unless it is a retry. A phone on a weak network often loses the answer to a
    refresh and sends the same token again; within `refresh_retry` of its first use, while
    no newer refresh token of the session has been used, it gets a new pair, and the pair
    of the lost answer stops working. That pair's refresh token is recorded as used at the
    same moment, so the grace ends for all of them together and any of them seen after it
    ends the session. (Okta and Auth0 allow the same grace.)"""
    lifetimes = lifetimes or TokenLifetimes()
    digest = hash_token(secret_key, refresh_token)
    record = db.scalars(
        select(AuthSession)
        .where(AuthSession.refresh_token_hash == digest)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    used_at = now
    if record is None:
        record, used_at = _retried_session(db, digest, now, lifetimes.refresh_retry)
    user = db.get_one(User, record.user_id)
    if record.revoked_at is not None or record.refresh_expires_at <= now or not user.active:
        raise Unauthorized(REFRESH_REFUSED)
    # The token sent, or on a retry the one of the pair it replaces.
    db.add(
        UsedRefreshToken(
            organization_id=record.organization_id,
            token_hash=record.refresh_token_hash,
            session_id=record.id,
            used_at=used_at,
        )
    )
    access, refresh = new_token(), new_token()
    record.access_token_hash = hash_token(secret_key, access)
    record.access_expires_at = now + lifetimes.access
    record.refresh_token_hash = hash_token(secret_key, refresh)
    record.refresh_expires_at = now + lifetimes.refresh
    record.refreshed_at = now
    db.flush()
    return _pair(access, refresh, record.id, lifetimes), user


def _retried_session(
    db: Session, digest: str, now: datetime, grace: timedelta
) -> tuple[AuthSession, datetime]:
    """The session a used refresh token may still refresh as a retry, and when the token
    was first used; otherwise the session ends (when the token was one of its used ones)
    and the refresh is refused."""
    used = db.execute(
        select(UsedRefreshToken.session_id, UsedRefreshToken.used_at).where(
            UsedRefreshToken.token_hash == digest
        )
    ).one_or_none()
    if used is None:
        raise Unauthorized(REFRESH_REFUSED)
    record = db.scalars(
        select(AuthSession)
        .where(AuthSession.id == used.session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    newer_used = db.scalar(
        select(UsedRefreshToken.token_hash)
        .where(
            UsedRefreshToken.session_id == used.session_id,
            UsedRefreshToken.used_at > used.used_at,
        )
        .limit(1)
    )
    if now - used.used_at <= grace and newer_used is None:
        return record, used.used_at
    revoke_session(db, used.session_id, now=now, reason="refresh token reused")
    db.commit()
    raise Unauthorized(REFRESH_REFUSED)


def _pair(access: str, refresh: str, session_id: uuid.UUID, lifetimes: TokenLifetimes) -> TokenPair:
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=int(lifetimes.access.total_seconds()),
        session_id=session_id,
        refresh_expires_in=int(lifetimes.refresh.total_seconds()),
    )


# One indexed lookup on a plain statement (text: no ORM entity loading, no statement to
# build per call). Every check runs on every request, so a revoked session or a deactivated
# user fails on the very next one. Users' organization_id is a NOT NULL foreign key, so
# the user's organization exists without joining it.
# The caller behind an access token's digest (`:digest`) at `:now`: every check runs on
# every request, so a revoked session or a deactivated user fails at once. A statement
# that must authenticate in the same round trip (the one-ping ingest) embeds it as a CTE.
CALLER_SQL = """
    SELECT s.id AS session_id, u.id AS user_id, u.organization_id, u.name, u.role
    FROM auth_sessions s JOIN users u ON u.id = s.user_id
    WHERE s.access_token_hash = :digest AND s.revoked_at IS NULL
      AND s.access_expires_at > :now AND u.active
"""
_AUTHENTICATE = text(CALLER_SQL)


def caller_params(access_token: str, secret_key: str, now: datetime) -> dict[str, Any]:
    """The parameters of CALLER_SQL."""
    return {"digest": hash_token(secret_key, access_token), "now": now}


def authenticate(
    db: Session, access_token: str, *, secret_key: str, now: datetime
) -> Principal | None:
    """The caller behind an access token, or None: every check runs on every request,
    so a revoked session or a deactivated user fails at once."""
    params = caller_params(access_token, secret_key, now)
    row = db.connection().execute(_AUTHENTICATE, params).first()
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
    return int(result.rowcount)  # type: ignore[attr-defined]


def prune_used_refresh_tokens(db: Session, *, now: datetime) -> int:
    """Periodic clean-up: used tokens of sessions that can no longer be refreshed anyway."""
    dead = select(AuthSession.id).where(
        (AuthSession.refresh_expires_at < now) | AuthSession.revoked_at.is_not(None)
    )
    result = db.execute(delete(UsedRefreshToken).where(UsedRefreshToken.session_id.in_(dead)))
    db.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
