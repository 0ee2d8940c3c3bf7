"""Locations: ping ingest, duty, the team map and tracks (plain values and a Session in)."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any, NamedTuple

import orjson
import psycopg.errors
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from fieldapi.accounts.members import is_member, set_on_duty
from fieldapi.accounts.policy import may_see_user
from fieldapi.accounts.principal import Principal
from fieldapi.errors import Conflict, NotFound, Unprocessable
from fieldapi.locations.partitions import ensure_partitions
from fieldapi.locations.pings import (
    Fix,
    Ping,
    Rejection,
    flag_jumps,
    is_accurate,
    iso_utc,
    validate_pings,
)
from fieldapi.locations.privacy import (
    OUTSIDE_HOURS,
    WORKING_HOURS_JSON_SQL,
    WorkingWeek,
    record_track_view,
)

MAX_TRACK_WINDOW = timedelta(days=7)
# The jump check looks this far back for a previous good fix; beyond it any move is
# plausible (70 m/s for a day is 6,000 km), and the bound keeps the lookup cheap.
JUMP_LOOKBACK = timedelta(days=1)
OFF_DUTY = "not stored: you are off duty (PUT /v1/me/duty to go on duty)"


@dataclass(frozen=True)
class Limits:
    max_accuracy_m: float = 200.0
    max_speed_mps: float = 70.0
    retention_days: int = 60
    stale_after_s: int = 600

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        return cls(
            max_accuracy_m=config["LOCATION_MAX_ACCURACY_M"],
            max_speed_mps=config["LOCATION_MAX_SPEED_MPS"],
            retention_days=config["LOCATION_RETENTION_DAYS"],
            stale_after_s=config["LOCATION_STALE_AFTER"],
        )


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    # (organization_id, user_id) when pings were stored for a technician en route: the
    # caller lets the en-route visit follow them (fieldapi.jobs.en_route).
    en_route_of: tuple[uuid.UUID, uuid.UUID] | None = None


# Is the user driving to a visit? A probe of a partial index, in the statement that runs
# anyway: the pings of everyone else cost nothing more.
EN_ROUTE_SQL = """EXISTS (SELECT 1 FROM appointments a WHERE a.technician_id = {user}
        AND a.organization_id = {org} AND a.status = 'enroute')"""


# One statement reads what the jump check and the duplicate check need: is the user on
# duty, their last good fix before the batch, and what is already stored within the
# batch's time span. The latest position is that last fix unless the batch is older than
# it (a late upload): only then does the UNION ALL's second branch run (LIMIT 1 stops at
# the first row), a backward scan of the primary key, bounded by JUMP_LOOKBACK.
_CONTEXT = text(
    f"""
    SELECT u.on_duty, prev.recorded_at, ST_Y(prev.position::geometry),
           ST_X(prev.position::geometry), prev.accuracy_m,
           span.times, span.lats, span.lons, span.accuracies, span.flags,
           o.timezone, {WORKING_HOURS_JSON_SQL},
           {EN_ROUTE_SQL.format(user=":user", org=":org")}
    FROM users u
    JOIN organizations o ON o.id = u.organization_id
    LEFT JOIN LATERAL (
        (SELECT l.recorded_at, l.position, l.accuracy_m FROM latest_locations l
         WHERE l.organization_id = :org AND l.user_id = :user AND l.recorded_at < :first)
        UNION ALL
        (SELECT p.recorded_at, p.position, p.accuracy_m FROM location_pings p
         WHERE p.organization_id = :org AND p.user_id = :user
           AND p.recorded_at < :first AND p.recorded_at >= :lookback
           AND NOT p.impossible_jump AND (p.accuracy_m IS NULL OR p.accuracy_m <= :max_accuracy)
         ORDER BY p.recorded_at DESC LIMIT 1)
        LIMIT 1
    ) prev ON true
    LEFT JOIN LATERAL (
        SELECT array_agg(p.recorded_at) AS times, array_agg(ST_Y(p.position::geometry)) AS lats,
               array_agg(ST_X(p.position::geometry)) AS lons,
               array_agg(p.accuracy_m) AS accuracies, array_agg(p.impossible_jump) AS flags
        FROM location_pings p
        WHERE p.organization_id = :org AND p.user_id = :user
          AND p.recorded_at BETWEEN :first AND :last
    ) span ON true
    WHERE u.id = :user AND u.organization_id = :org
    """
)

# The head and the tail of the insert of a latest position, shared by both ingest paths:
# SELECT the row in between. It moves forward in recorded_at, never back.
INSERT_LATEST = """INSERT INTO latest_locations AS l (organization_id, user_id, recorded_at,
        position, accuracy_m, speed_mps, heading_deg, altitude_m, battery_pct, updated_at)"""
MOVE_LATEST_FORWARD = """ON CONFLICT (organization_id, user_id) DO UPDATE SET
        recorded_at = EXCLUDED.recorded_at, position = EXCLUDED.position,
        accuracy_m = EXCLUDED.accuracy_m, speed_mps = EXCLUDED.speed_mps,
        heading_deg = EXCLUDED.heading_deg, altitude_m = EXCLUDED.altitude_m,
        battery_pct = EXCLUDED.battery_pct, updated_at = EXCLUDED.updated_at
    WHERE l.recorded_at < EXCLUDED.recorded_at"""

# One statement for the whole batch, whatever its size: the new pings go into the history
# (unnest of one array per column), and the latest position moves forward to the newest
# good one, if any and if it is newer. Duplicates were left out by the caller, so no ON
# CONFLICT (speculative insertion costs about a third of the statement); two uploads of
# the same pings at the same moment collide on the primary key and the loser retries.
_STORE_BATCH = text(
    f"""
    WITH moved AS (
        {INSERT_LATEST}
        SELECT :org, :user, CAST(:at AS timestamptz),
               CAST(ST_SetSRID(ST_MakePoint(:lon1, :lat1), 4326) AS geography),
               :accuracy_m1, :speed_mps1, :heading_deg1, :altitude_m1, :battery_pct1, :now
        WHERE CAST(:at AS timestamptz) IS NOT NULL
        {MOVE_LATEST_FORWARD}
    )
    INSERT INTO location_pings (organization_id, user_id, recorded_at, position,
        accuracy_m, speed_mps, heading_deg, altitude_m, battery_pct, impossible_jump)
    SELECT :org, :user, CAST('epoch' AS timestamptz) + us * interval '1 microsecond',
           CAST(ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geography),
           accuracy_m, speed_mps, heading_deg, altitude_m, battery_pct, impossible_jump
    FROM unnest(
        CAST(:recorded_us AS int8[]), CAST(:lon AS float8[]), CAST(:lat AS float8[]),
        CAST(:accuracy_m AS real[]), CAST(:speed_mps AS real[]), CAST(:heading_deg AS real[]),
        CAST(:altitude_m AS real[]), CAST(:battery_pct AS real[]),
        CAST(:impossible_jump AS boolean[])
    ) AS b(us, lon, lat, accuracy_m, speed_mps, heading_deg, altitude_m, battery_pct,
           impossible_jump)
    """
)
_COLUMNS = ("accuracy_m", "speed_mps", "heading_deg", "altitude_m", "battery_pct")


def _array(values: list[Any]) -> str | None:
    """A PostgreSQL array literal of validated numbers, booleans and None: JSON's list
    syntax in braces (array input reads `null`, `true`, `1e-05`, `1e+22`). orjson does it
    ten times faster than json.dumps, itself several times faster than psycopg adapting 500
    Python objects one by one. A column with no value at all is sent as NULL: unnest() pads
    it with NULLs."""
    if values.count(None) == len(values):
        return None
    return "{" + orjson.dumps(values)[1:-1].decode() + "}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _store_params(pings: list[Ping], flags: list[bool], newest: Ping | None) -> dict[str, Any]:
    columns = dict(zip(Ping._fields, zip(*pings, strict=True), strict=True))  # transposed
    params: dict[str, Any] = {
        name: _array(list(columns[name])) for name in ("lon", "lat", *_COLUMNS)
    }
    # Integer microseconds: exact, and quicker to write and to read than ISO text.
    params["recorded_us"] = _array([(at - _EPOCH) // _MICROSECOND for at in columns["recorded_at"]])
    params["impossible_jump"] = _array(flags)
    # The newest good ping, if any, for the latest position.
    params["at"] = newest.recorded_at if newest else None
    for name in ("lon", "lat", *_COLUMNS):
        params[f"{name}1"] = getattr(newest, name) if newest else None
    return params


def _stored_fixes(row: Any) -> list[Fix]:
    """What the context query found already stored in the batch's time span."""
    times, lats, lons, accuracies, flags = row[5:10]
    if not times:
        return []
    return sorted(
        (Fix(*values) for values in zip(times, lats, lons, accuracies, flags, strict=True)),
        key=itemgetter(0),
    )


class _Stored(NamedTuple):
    how_many: int
    outside_hours: list[Ping]
    en_route: bool


def _store(
    db: Session,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    pings: list[Ping],
    *,
    now: datetime,
    limits: Limits,
) -> _Stored | None:
    """Store the (sorted, unique) pings that are new and inside the working hours; how
    many, the ones outside, and whether the user is en route to a visit; None when off
    duty."""
    keys = {"org": organization_id, "user": user_id}
    first, last = pings[0].recorded_at, pings[-1].recorded_at
    # Plain statements on the session's connection: the ORM has nothing to add here.
    connection = db.connection()
    row = connection.execute(
        _CONTEXT,
        {
            **keys,
            "first": first,
            "last": last,
            "lookback": first - JUMP_LOOKBACK,
            "max_accuracy": limits.max_accuracy_m,
        },
    ).one_or_none()
    if row is None:
        raise NotFound("User not found.")
    if not row[0]:
        return None
    en_route = bool(row[12])
    week = WorkingWeek.from_json(row[10], row[11])
    outside = [ping for ping in pings if not week.allows(ping.recorded_at)]
    if outside:
        pings = [ping for ping in pings if week.allows(ping.recorded_at)]
    previous = Fix(row[1], row[2], row[3], row[4]) if row[1] is not None else None
    stored = _stored_fixes(row)
    taken = {fix.recorded_at for fix in stored}
    fresh = [ping for ping in pings if ping.recorded_at not in taken]
    if not fresh:
        return _Stored(0, outside, en_route)
    flags = flag_jumps(
        fresh,
        previous,
        stored=stored,
        max_speed_mps=limits.max_speed_mps,
        max_accuracy_m=limits.max_accuracy_m,
    )
    newest = next(
        (
            ping
            for ping, flagged in zip(reversed(fresh), reversed(flags), strict=True)
            if not flagged and is_accurate(ping.accuracy_m, limits.max_accuracy_m)
        ),
        None,
    )
    connection.execute(_STORE_BATCH, {**keys, "now": now, **_store_params(fresh, flags, newest)})
    return _Stored(len(fresh), outside, en_route)


def _sqlstate_error(error: DBAPIError, kind: type[Exception], text_part: str = "") -> bool:
    return isinstance(error.orig, kind) and text_part in str(error.orig)


def ingest_pings(
    db: Session,
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    raw_pings: Sequence[Any],
    now: datetime,
    limits: Limits,
) -> IngestResult:
    """Validate each ping on its own, store the new good ones; commits once."""
    pings, rejected, repeats = validate_pings(
        raw_pings, now=now, retention_days=limits.retention_days
    )
    result = IngestResult(rejected=rejected, duplicates=repeats)
    if not pings:
        return result
    store = functools.partial(_store, db, organization_id, user_id, pings, now=now, limits=limits)
    try:
        stored = store()
    except IntegrityError as error:
        db.rollback()
        if _sqlstate_error(error, psycopg.errors.CheckViolation, "no partition"):
            # The worker has not created partitions for a while: do it now, retry once.
            ensure_partitions(db, now, retention_days=limits.retention_days)
        elif not _sqlstate_error(error, psycopg.errors.UniqueViolation):
            raise
        # Else the same pings were being stored by another request (a phone retrying
        # before the first answer came): committed now, they read as duplicates.
        try:
            stored = store()
        except IntegrityError as again:
            db.rollback()
            raise Conflict("These pings are being stored by another request.") from again
    if stored is None:
        result.rejected = sorted(
            [*rejected, *(Rejection(p.ordinal, OFF_DUTY) for p in pings)], key=lambda r: r.index
        )
        return result
    db.commit()
    result.stored = stored.how_many
    result.duplicates += len(pings) - stored.how_many - len(stored.outside_hours)
    if stored.outside_hours:
        refused = [Rejection(p.ordinal, OUTSIDE_HOURS) for p in stored.outside_hours]
        result.rejected = sorted([*rejected, *refused], key=lambda r: r.index)
    if stored.en_route and stored.how_many:
        result.en_route_of = (organization_id, user_id)
    return result


def ingest_result_json(result: IngestResult) -> str:
    """The answer of POST /v1/locations, as IngestResultSchema documents it."""
    rejected = [{"index": r.index, "message": r.message} for r in result.rejected]
    return json.dumps(
        {"stored": result.stored, "duplicates": result.duplicates, "rejected": rejected},
        separators=(",", ":"),
    )


def set_duty(db: Session, principal: Principal, on_duty: bool) -> bool:
    """Start or stop being tracked; pings sent while off duty are stored nowhere."""
    set_on_duty(db, principal.organization_id, principal.user_id, on_duty)
    db.commit()
    return on_duty


# ---- the team map --------------------------------------------------------------------


def sql_iso_utc(column: str) -> str:
    """SQL rendering a timestamptz like `iso_utc` does, whatever the session's TimeZone
    (JSON's ISO format of the UTC wall time: fractions only when there are any)."""
    return f"((to_json({column} AT TIME ZONE 'UTC') #>> '{{}}') || 'Z')"


@dataclass(frozen=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


# The whole FeatureCollection is built by PostgreSQL in one statement: the latest table
# holds one row per user, and the current appointment is a LATERAL lookup per member.
# The view returns the text as is, so the endpoint costs little more than this query.
TEAM_MAP_SQL = f"""
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', coalesce(json_agg(f.feature ORDER BY f.name, f.user_id), '[]'::json)
)::text
FROM (
    SELECT u.name, u.id AS user_id, json_build_object(
        'type', 'Feature',
        'id', u.id,
        'geometry', ST_AsGeoJSON(l.position, 7)::json,
        'properties', json_build_object(
            'user_id', u.id, 'name', u.name, 'role', u.role,
            'recorded_at', {sql_iso_utc("l.recorded_at")},
            'accuracy_m', l.accuracy_m, 'speed_mps', l.speed_mps,
            'heading_deg', l.heading_deg, 'battery_pct', l.battery_pct,
            'stale', l.recorded_at < :stale_before,
            'appointment', a.appointment
        )
    ) AS feature
    FROM latest_locations l
    JOIN users u ON u.id = l.user_id AND u.organization_id = l.organization_id
    LEFT JOIN LATERAL (
        SELECT json_build_object(
            'id', ap.id, 'status', ap.status, 'job_id', ap.job_id, 'job_title', j.title,
            'customer_name', c.name, 'starts_at', {sql_iso_utc("ap.starts_at")}
        ) AS appointment
        FROM appointments ap
        JOIN jobs j ON j.id = ap.job_id
        JOIN customers c ON c.id = j.customer_id
        WHERE ap.technician_id = u.id AND ap.organization_id = :org
          AND ap.status IN ('enroute', 'started')
        ORDER BY ap.status = 'started' DESC, ap.updated_at DESC
        LIMIT 1
    ) a ON true
    WHERE l.organization_id = :org AND u.active AND u.on_duty
      AND (CAST(:min_lat AS float8) IS NULL OR (
          ST_Y(l.position::geometry)
              BETWEEN CAST(:min_lat AS float8) AND CAST(:max_lat AS float8)
          AND CASE WHEN CAST(:min_lon AS float8) <= CAST(:max_lon AS float8)
                   THEN ST_X(l.position::geometry)
                        BETWEEN CAST(:min_lon AS float8) AND CAST(:max_lon AS float8)
                   -- a view across the antimeridian (GeoJSON bbox with west > east)
                   ELSE ST_X(l.position::geometry) >= CAST(:min_lon AS float8)
                        OR ST_X(l.position::geometry) <= CAST(:max_lon AS float8) END))
) f
"""
_TEAM_MAP = text(TEAM_MAP_SQL)


def team_map_params(
    organization_id: uuid.UUID, *, now: datetime, stale_after_s: int, bbox: BBox | None
) -> dict[str, Any]:
    box = vars(bbox) if bbox else dict.fromkeys(("min_lon", "min_lat", "max_lon", "max_lat"))
    return {
        "org": organization_id,
        "stale_before": now - timedelta(seconds=stale_after_s),
        **box,
    }


def team_map_json(
    db: Session, organization_id: uuid.UUID, *, now: datetime, limits: Limits, bbox: BBox | None
) -> str:
    """GeoJSON of the on-duty active members with a position (one statement)."""
    params = team_map_params(
        organization_id, now=now, stale_after_s=limits.stale_after_s, bbox=bbox
    )
    return str(db.execute(_TEAM_MAP, params).scalar_one())


# ---- tracks --------------------------------------------------------------------------

_GOOD_FIXES = """
    SELECT recorded_at, position::geometry AS g FROM location_pings
    WHERE organization_id = :org AND user_id = :user
      AND recorded_at >= :since AND recorded_at <= :until
      AND NOT impossible_jump AND (accuracy_m IS NULL OR accuracy_m <= :max_accuracy)
"""
_TRACK = text(f"SELECT ST_X(g), ST_Y(g), recorded_at FROM ({_GOOD_FIXES}) f ORDER BY recorded_at")
# Douglas-Peucker needs a metric tolerance, so the line goes through the UTM zone of its
# centroid (distortion < 0.1% within a zone). Each vertex carries its time, as seconds
# since `since`, in M; ST_Simplify keeps the M of the vertices it keeps.
_SIMPLIFIED_TRACK = text(
    f"""
    WITH line AS (
        SELECT ST_SetSRID(ST_MakeLine(
            ST_MakePointM(ST_X(g), ST_Y(g), extract(epoch FROM recorded_at - :since))
            ORDER BY recorded_at), 4326) AS l
        FROM ({_GOOD_FIXES}) f
    ), zone AS (
        SELECT l, CASE WHEN ST_Y(ST_Centroid(l)) >= 0 THEN 32600 ELSE 32700 END
                  + least(60, floor((ST_X(ST_Centroid(l)) + 180) / 6)::int + 1) AS srid
        FROM line WHERE l IS NOT NULL
    )
    SELECT ST_X(p.geom), ST_Y(p.geom), ST_M(p.geom)
    FROM zone, LATERAL ST_DumpPoints(
        ST_Transform(ST_Simplify(ST_Transform(l, srid), :tolerance, true), 4326)) p
    ORDER BY p.path
    """
)


def check_window(since: datetime, until: datetime) -> None:
    if until <= since:
        raise Unprocessable("until must be after since.", errors={"until": ["Before since."]})
    if until - since > MAX_TRACK_WINDOW:
        raise Unprocessable(
            "A track covers at most 7 days per call.",
            errors={"until": ["At most 7 days after since."]},
        )


def user_track(
    db: Session,
    principal: Principal,
    user_id: uuid.UUID,
    *,
    since: datetime,
    until: datetime,
    tolerance_m: float | None,
    limits: Limits,
) -> dict[str, Any]:
    """A GeoJSON Feature: the LineString of the window's good fixes and their times."""
    check_window(since, until)
    if not (may_see_user(principal, user_id) and is_member(db, principal.organization_id, user_id)):
        raise NotFound("User not found.")
    record_track_view(db, principal, user_id, since=since, until=until, now=datetime.now(UTC))
    params = {
        "org": principal.organization_id,
        "user": user_id,
        "since": since,
        "until": until,
        "max_accuracy": limits.max_accuracy_m,
    }
    if tolerance_m:
        rows = db.execute(_SIMPLIFIED_TRACK, {**params, "tolerance": tolerance_m}).all()
        points = [(lon, lat, since + timedelta(seconds=m)) for lon, lat, m in rows]
    else:
        points = [tuple(row) for row in db.execute(_TRACK, params).all()]
    coordinates = [[round(lon, 7), round(lat, 7)] for lon, lat, _at in points]
    geometry: dict[str, Any] | None = None
    if len(coordinates) >= 2:
        geometry = {"type": "LineString", "coordinates": coordinates}
    elif coordinates:
        geometry = {"type": "Point", "coordinates": coordinates[0]}
    return {
        "type": "Feature",
        "id": user_id,
        "geometry": geometry,
        "properties": {
            "user_id": user_id,
            "since": iso_utc(since),
            "until": iso_utc(until),
            "tolerance_m": tolerance_m,
            "times": [iso_utc(at) for _lon, _lat, at in points],
        },
    }
