"""Tracker devices: the tokens that let an app we did not write post one user's positions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from fieldapi.accounts.policy import require_manager
from fieldapi.accounts.principal import Principal
from fieldapi.accounts.tokens import hash_token, new_token
from fieldapi.errors import NotFound, Unprocessable
from fieldapi.locations.models import TrackerDevice

MAX_NAME = 100
# Device tokens are told apart from session tokens at a glance (in a log, a pasted URL).
TOKEN_PREFIX = "trk_"


@dataclass(frozen=True)
class DeviceOwner:
    """Whose positions a device token may post."""

    organization_id: uuid.UUID
    user_id: uuid.UUID


def tracker_urls(public_base_url: str, token: str) -> dict[str, str]:
    """What to paste into each app. OsmAnd appends its fields to the URL; Traccar Client
    takes the URL without `?id=` and the token as its device identifier."""
    base = public_base_url.rstrip("/")
    return {
        "osmand": f"{base}/ingest/osmand?id={quote(token, safe='')}",
        "owntracks": f"{base}/ingest/owntracks",
        "overland": f"{base}/ingest/overland",
    }


def add_device(
    db: Session, principal: Principal, name: str, *, secret_key: str, now: datetime
) -> tuple[TrackerDevice, str]:
    """A new device of the caller, and its token (shown once, stored hashed)."""
    clean = " ".join(name.split())
    if not clean or len(clean) > MAX_NAME:
        raise Unprocessable(
            f"A device name is 1 to {MAX_NAME} characters.",
            errors={"name": [f"1 to {MAX_NAME} characters."]},
        )
    token = TOKEN_PREFIX + new_token()
    device = TrackerDevice(
        organization_id=principal.organization_id,
        user_id=principal.user_id,
        name=clean,
        token_hash=hash_token(secret_key, token),
        created_at=now,
    )
    db.add(device)
    db.commit()
    return device, token


def list_devices(
    db: Session, principal: Principal, *, whole_team: bool = False
) -> Sequence[TrackerDevice]:
    """The caller's live devices, or (dispatchers) the whole team's, newest first."""
    query = select(TrackerDevice).where(
        TrackerDevice.organization_id == principal.organization_id,
        TrackerDevice.revoked_at.is_(None),
    )
    if whole_team:
        require_manager(principal, "see the team's devices")
    else:
        query = query.where(TrackerDevice.user_id == principal.user_id)
    return db.scalars(query.order_by(TrackerDevice.created_at.desc(), TrackerDevice.id)).all()


def revoke_device(
    db: Session, principal: Principal, device_id: uuid.UUID, *, whole_team: bool, now: datetime
) -> None:
    """Revoke one of the caller's devices (or, for dispatchers, one of the team's): its
    token stops working at once. Another user's or organization's device is 404."""
    if whole_team:
        require_manager(principal, "revoke the team's devices")
    query = (
        update(TrackerDevice)
        .where(
            TrackerDevice.id == device_id,
            TrackerDevice.organization_id == principal.organization_id,
            TrackerDevice.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    if not whole_team:
        query = query.where(TrackerDevice.user_id == principal.user_id)
    if db.execute(query).rowcount == 0:  # type: ignore[attr-defined]
        db.rollback()
        raise NotFound("Device not found.")
    db.commit()


# Who a device token posts for, as one query (`device_owner`) or as the caller of the
# one-statement ping (`locations.single_ping`): unknown, revoked, or the user deactivated
# (so a deactivation needs no extra step to stop the user's apps) find no row.
DEVICE_CALLER_SQL = """
    SELECT d.organization_id, d.user_id
    FROM tracker_devices d
    JOIN users u ON u.id = d.user_id AND u.organization_id = d.organization_id
    WHERE d.token_hash = :digest AND d.revoked_at IS NULL AND u.active
"""
_DEVICE_CALLER = text(DEVICE_CALLER_SQL)


def device_caller_params(token: str, secret_key: str) -> dict[str, Any] | None:
    """The parameters of DEVICE_CALLER_SQL; None for what cannot be a device token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    return {"digest": hash_token(secret_key, token)}


def device_owner(db: Session, token: str, *, secret_key: str) -> DeviceOwner | None:
    """Who a device token posts for; None when it is unknown, revoked or its user is
    deactivated."""
    params = device_caller_params(token, secret_key)
    if params is None:
        return None
    row = db.execute(_DEVICE_CALLER, params).one_or_none()
    return DeviceOwner(*row) if row else None
