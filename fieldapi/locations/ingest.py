"""The entry points of ping ingest: a request's pings in, an `IngestResult` out, and a
technician en route followed up (ETA, running late, arrival) after the pings are stored.

`ingest_request` serves the apps (a bearer token): a lone ping sent without an
Idempotency-Key takes the one-statement path (`single_ping.append_single_ping`, which
authenticates inside its statement with accounts' `CALLER_SQL`); any other request, and any
lone ping that path leaves undecided, takes the general path (`service.ingest_pings`),
after the usual authentication. `ingest_device_pings` serves the tracker apps, with their
device token, in the same two ways.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fieldapi.accounts.principal import Principal
from fieldapi.accounts.sessions import caller_params
from fieldapi.jobs.en_route import DriveSettings, follow_the_drive
from fieldapi.locations.devices import DeviceOwner, device_caller_params, device_owner
from fieldapi.locations.service import IngestResult, Limits, ingest_pings
from fieldapi.locations.single_ping import Connect, append_device_ping, append_single_ping


def ingest_request(
    db: Session,
    *,
    raw_pings: Sequence[Any],
    access_token: str | None,
    keyed: bool,
    authenticate: Callable[[], Principal],
    connect: Connect,
    secret_key: str,
    now: datetime,
    limits: Limits,
    config: Mapping[str, Any],
) -> IngestResult:
    """Store the caller's pings. `access_token` is the request's bearer token (None: none
    sent), `keyed` whether it carries an Idempotency-Key, `authenticate` the caller as the
    general path needs them (it raises 401), `connect` an autocommit connection, `config`
    the app's settings (the drive's follow-up reads them, only for a technician en route)."""
    result = None
    if access_token is not None and len(raw_pings) == 1 and not keyed:
        caller = caller_params(access_token, secret_key, now)
        result = append_single_ping(connect, caller, raw_pings[0], now=now, limits=limits)
    if result is None:
        principal = authenticate()
        result = ingest_pings(
            db,
            organization_id=principal.organization_id,
            user_id=principal.user_id,
            raw_pings=raw_pings,
            now=now,
            limits=limits,
        )
    _follow_en_route(db, result, now=now, config=config)
    return result


def ingest_device_pings(
    db: Session,
    *,
    token: str,
    raw_pings: Sequence[Any],
    connect: Connect,
    secret_key: str,
    now: datetime,
    limits: Limits,
    config: Mapping[str, Any],
) -> tuple[DeviceOwner, IngestResult] | None:
    """Store the pings a tracker app sent with its device token: the device's owner and
    the result, or None when the token is unknown, revoked or its user deactivated. A lone
    fix takes the one-statement path, as the apps' lone ping does."""
    appended = None
    device = device_caller_params(token, secret_key)
    if device is not None and len(raw_pings) == 1:
        appended = append_device_ping(connect, device, raw_pings[0], now=now, limits=limits)
    if appended is None:
        owner = device_owner(db, token, secret_key=secret_key)
        if owner is None:
            return None
        result = ingest_pings(
            db,
            organization_id=owner.organization_id,
            user_id=owner.user_id,
            raw_pings=raw_pings,
            now=now,
            limits=limits,
        )
        appended = owner, result
    _follow_en_route(db, appended[1], now=now, config=config)
    return appended


def _follow_en_route(
    db: Session, result: IngestResult, *, now: datetime, config: Mapping[str, Any]
) -> None:
    """After an accepted upload, from any app: a technician en route gets the drive's
    follow-up (ETA, running late, arrival from the fixes)."""
    if result.en_route_of is None:
        return
    organization_id, user_id = result.en_route_of
    follow_the_drive(
        db,
        organization_id=organization_id,
        technician_id=user_id,
        now=now,
        settings=DriveSettings.from_config(config),
    )
