"""The one-ping upload in one statement: a phone on the move sends a ping every few seconds.

`service.ingest_pings` takes any batch in two statements inside a transaction, with the
authentication before it: five round trips with BEGIN and COMMIT. A single ping newer than
the user's latest position needs none of its context read: its jump check has only one
reference, the latest position itself. So the caller's token, their duty, the jump check,
the insert and the latest-position update are one statement, run in autocommit: one round
trip. `ingest.ingest_request` calls it for a request of one ping without an
Idempotency-Key; when the ping is late or invalid, its organization has working hours
(checked in one place, the ingest service), its week has no partition yet, the token is
unknown or the connection failed, it answers None and the general path settles the
request, with its own errors.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect

from fieldapi.accounts.sessions import CALLER_SQL
from fieldapi.locations.devices import DEVICE_CALLER_SQL, DeviceOwner
from fieldapi.locations.pings import EARTH_RADIUS_M, Rejection, is_accurate, validate_pings
from fieldapi.locations.service import (
    EN_ROUTE_SQL,
    INSERT_LATEST,
    MOVE_LATEST_FORWARD,
    OFF_DUTY,
    IngestResult,
    Limits,
)

# `implied_speed` of pings.py in SQL, from the latest position `me` to the new ping `p`:
# the same haversine, the same accuracy slack (a test holds the two to the same answers).
_IMPLIED_SPEED_SQL = f"""
    greatest(0.0, 2 * {EARTH_RADIUS_M} * asin(least(1.0, sqrt(
        sin((radians(p.lat) - radians(me.prev_lat)) / 2) ^ 2
        + cos(radians(me.prev_lat)) * cos(radians(p.lat))
          * sin(radians(p.lon - me.prev_lon) / 2) ^ 2)))
        - coalesce(me.prev_accuracy, 0.0) - coalesce(p.accuracy_m, 0.0))
    / CAST(extract(epoch FROM p.at - me.prev_at) AS float8)
"""

# A late ping (older than the latest position) is left alone: its jump check needs the
# history around it. The insert's ON CONFLICT makes a ping stored before with the same time
# a duplicate: the latest position itself (a phone resending its last ping), or one that
# never became the latest (an inaccurate or flagged one).
_APPEND_PING_SQL = f"""
    WITH caller AS ({{caller}}),
    p AS (
        SELECT CAST(:recorded_at AS timestamptz) AS at, CAST(:lat AS float8) AS lat,
               CAST(:lon AS float8) AS lon, CAST(:accuracy_m AS float8) AS accuracy_m,
               CAST(:speed_mps AS float8) AS speed_mps,
               CAST(:heading_deg AS float8) AS heading_deg,
               CAST(:altitude_m AS float8) AS altitude_m,
               CAST(:battery_pct AS float8) AS battery_pct,
               CAST(:accurate AS boolean) AS accurate,
               CAST(:now AS timestamptz) AS now
    ),
    me AS (
        SELECT c.organization_id, c.user_id, u.on_duty, l.recorded_at AS prev_at,
               ST_Y(l.position::geometry) AS prev_lat, ST_X(l.position::geometry) AS prev_lon,
               l.accuracy_m AS prev_accuracy,
               EXISTS (SELECT 1 FROM working_hours w
                       WHERE w.organization_id = c.organization_id) AS hours_set
        FROM caller c
        JOIN users u ON u.id = c.user_id
        LEFT JOIN latest_locations l
            ON l.organization_id = c.organization_id AND l.user_id = c.user_id
    ),
    verdict AS (
        SELECT me.organization_id, me.user_id, me.on_duty, me.hours_set,
               coalesce(me.prev_at > p.at, false) AS late,
               CASE WHEN me.prev_at < p.at THEN ({_IMPLIED_SPEED_SQL}) > :max_speed
                    ELSE false END AS impossible_jump
        FROM me, p
    ),
    stored AS (
        INSERT INTO location_pings (organization_id, user_id, recorded_at, position,
            accuracy_m, speed_mps, heading_deg, altitude_m, battery_pct, impossible_jump)
        SELECT v.organization_id, v.user_id, p.at,
               CAST(ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326) AS geography),
               p.accuracy_m, p.speed_mps, p.heading_deg, p.altitude_m, p.battery_pct,
               v.impossible_jump
        FROM verdict v, p
        WHERE v.on_duty AND NOT v.late AND NOT v.hours_set
        ON CONFLICT DO NOTHING
        RETURNING organization_id, user_id, position, impossible_jump
    ),
    moved AS (
        {INSERT_LATEST}
        SELECT s.organization_id, s.user_id, p.at, s.position, p.accuracy_m, p.speed_mps,
               p.heading_deg, p.altitude_m, p.battery_pct, p.now
        FROM stored s, p
        WHERE NOT s.impossible_jump AND p.accurate
        {MOVE_LATEST_FORWARD}
    )
    SELECT v.on_duty, v.late, (SELECT count(*) FROM stored), v.hours_set,
           v.organization_id, v.user_id,
           {EN_ROUTE_SQL.format(user="v.user_id", org="v.organization_id")}
    FROM verdict v
"""


def _compiled(caller_sql: str) -> str:
    """The statement with this caller, compiled once to psycopg's %(name)s placeholders:
    it runs on the bare driver."""
    statement = text(_APPEND_PING_SQL.replace("{caller}", caller_sql))
    return str(statement.compile(dialect=psycopg_dialect.dialect()))  # type: ignore[no-untyped-call]


# The caller is a session's access token (the apps) or a device token (tracker apps); each
# CTE gives the caller's organization_id and user_id, or no row.
_APPEND_PING = _compiled(CALLER_SQL)
_APPEND_DEVICE_PING = _compiled(DEVICE_CALLER_SQL)

Connect = Callable[[], AbstractContextManager["psycopg.Connection[Any]"]]


def append_single_ping(
    connect: Connect,
    caller: dict[str, Any],
    raw_ping: Any,
    *,
    now: datetime,
    limits: Limits,
) -> IngestResult | None:
    """Store a request's only ping in one statement, authenticating `caller` (the
    parameters of accounts' CALLER_SQL) in it; None when the general path must decide.

    `connect` gives a connection in autocommit (`Database.autocommit`): the statement is
    its own transaction.
    """
    appended = _append(_APPEND_PING, connect, caller, raw_ping, now=now, limits=limits)
    return None if appended is None else appended[1]


def append_device_ping(
    connect: Connect,
    device: dict[str, Any],
    raw_ping: Any,
    *,
    now: datetime,
    limits: Limits,
) -> tuple[DeviceOwner, IngestResult] | None:
    """The same for a tracker app's only fix, `device` the parameters of
    DEVICE_CALLER_SQL; the device's owner with the result, or None."""
    return _append(_APPEND_DEVICE_PING, connect, device, raw_ping, now=now, limits=limits)


def _append(
    statement: str,
    connect: Connect,
    caller: dict[str, Any],
    raw_ping: Any,
    *,
    now: datetime,
    limits: Limits,
) -> tuple[DeviceOwner, IngestResult] | None:
    valid, _rejected, _repeats = validate_pings(
        [raw_ping], now=now, retention_days=limits.retention_days
    )
    if not valid:
        return None  # the general path authenticates, then gives the reason
    ping = valid[0]
    params = {
        **caller,
        **ping._asdict(),
        "accurate": is_accurate(ping.accuracy_m, limits.max_accuracy_m),
        "now": now,
        "max_speed": limits.max_speed_mps,
    }
    try:
        with connect() as connection:
            row = connection.execute(statement, params).fetchone()
    except psycopg.IntegrityError:
        return None  # no partition for this time yet: the general path creates it
    except psycopg.OperationalError:
        # A connection lost (or a deadlock, a timeout): the general path tries again on
        # another. If the statement did commit, the ping reads as a duplicate there.
        return None
    if row is None:
        return None  # not a valid token: the general path answers 401
    on_duty, late, stored, hours_set, organization_id, user_id, en_route = row
    if late or hours_set:
        return None  # the general path checks a late ping's history, and working hours
    owner = DeviceOwner(organization_id, user_id)
    if not on_duty:
        return owner, IngestResult(rejected=[Rejection(ping.ordinal, OFF_DUTY)])
    following = (organization_id, user_id) if en_route and stored else None
    return owner, IngestResult(stored=stored, duplicates=1 - stored, en_route_of=following)
