"""What a user does to get in and out: log in with a passcode, refresh, log out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from fieldapi.accounts.passcodes import PasscodeRules, redeem_passcode
from fieldapi.accounts.principal import Principal
from fieldapi.accounts.sessions import (
    Device,
    TokenLifetimes,
    TokenPair,
    open_session,
    revoke_session,
    rotate_refresh_token,
)


@dataclass(frozen=True)
class LoggedIn:
    tokens: TokenPair
    user: User


def log_in(
    db: Session,
    *,
    phone: str,
    passcode: str,
    source: str,
    device: Device | None,
    secret_key: str,
    now: datetime,
    rules: PasscodeRules,
    lifetimes: TokenLifetimes,
) -> LoggedIn:
    """Exchange a phone number and its current passcode for a new session; `source` is the
    caller's address, whose failures are counted too."""
    user = redeem_passcode(
        db, phone, passcode, source=source, secret_key=secret_key, now=now, rules=rules
    )
    tokens = open_session(
        db, user, secret_key=secret_key, now=now, device=device, lifetimes=lifetimes
    )
    db.commit()
    return LoggedIn(tokens, user)


def refresh(
    db: Session, refresh_token: str, *, secret_key: str, now: datetime, lifetimes: TokenLifetimes
) -> LoggedIn:
    """A new token pair for a live session; the old pair stops working."""
    tokens, user = rotate_refresh_token(
        db, refresh_token, secret_key=secret_key, now=now, lifetimes=lifetimes
    )
    db.commit()
    return LoggedIn(tokens, user)


def log_out(db: Session, principal: Principal, *, now: datetime) -> None:
    """End the caller's session: both of its tokens stop working."""
    revoke_session(db, principal.session_id, now=now, reason="logged out")
    db.commit()
