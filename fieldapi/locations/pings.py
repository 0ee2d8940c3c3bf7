"""Pure ping handling: per-ping validation and the impossible-jump check (stdlib only).

Validation is hand-written rather than a marshmallow schema: it runs for up to 500 pings
per request on the hottest path, and each ping must fail on its own with its reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any, NamedTuple

MAX_PINGS = 500
FUTURE_TOLERANCE = timedelta(minutes=5)
EARTH_RADIUS_M = 6_371_008.8

# (field, low, high): optional fields and their accepted ranges. The upper bounds also
# keep every value inside PostgreSQL's `real`.
OPTIONAL_FIELDS: tuple[tuple[str, float, float], ...] = (
    ("accuracy_m", 0.0, 100_000.0),
    ("speed_mps", 0.0, 1_000.0),
    ("heading_deg", 0.0, 360.0),
    ("altitude_m", -1_000.0, 100_000.0),
    ("battery_pct", 0.0, 100.0),
)


class Ping(NamedTuple):
    """A valid ping (a tuple: 500 of them are built per request)."""

    ordinal: int  # its index in the request's `pings`
    recorded_at: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    altitude_m: float | None = None
    battery_pct: float | None = None


class Fix(NamedTuple):
    """A stored position: the reference points of the jump check."""

    recorded_at: datetime
    lat: float
    lon: float
    accuracy_m: float | None
    impossible_jump: bool = False


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    message: str


class InvalidPing(ValueError):
    pass


def _number(value: Any, field: str, low: float, high: float) -> float:
    # Comparisons are False for NaN (which Python's json module parses) and the bounds are
    # finite, so a value in range is finite too. bool is an int subclass but not a number
    # here, hence the exact class tests.
    if value.__class__ is float or value.__class__ is int:
        if low <= value <= high:
            return float(value)
        # An int is finite whatever its size, and math.isfinite of one past float's range
        # (309+ digits) raises OverflowError instead of answering.
        if value.__class__ is int or math.isfinite(value):
            raise InvalidPing(f"{field} must be between {low:g} and {high:g}")
    raise InvalidPing(f"{field} must be a finite number")


def parse_time(raw: Any, field: str = "recorded_at") -> datetime:
    """An RFC 3339 time with an offset, as an aware UTC datetime."""
    if not isinstance(raw, str) or len(raw) > 40:
        raise InvalidPing(f"{field} must be an RFC 3339 time string")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as error:
        raise InvalidPing(f"{field} is not a valid RFC 3339 time") from error
    if value.tzinfo is None:
        raise InvalidPing(f"{field} needs a UTC offset (like 2026-11-24T14:05:00Z)")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def validate_ping(index: int, raw: Any, *, earliest: datetime, latest: datetime) -> Ping:
    """One ping, or InvalidPing with the reason."""
    if not isinstance(raw, dict):
        raise InvalidPing("a ping must be a JSON object")
    for field in ("recorded_at", "lat", "lon"):
        if raw.get(field) is None:
            raise InvalidPing(f"{field} is required")
    recorded_at = parse_time(raw["recorded_at"])
    if recorded_at > latest:
        raise InvalidPing("recorded_at is more than 5 minutes in the future")
    if recorded_at < earliest:
        raise InvalidPing("recorded_at is older than the retention window")
    lat = _number(raw["lat"], "lat", -90.0, 90.0)
    lon = _number(raw["lon"], "lon", -180.0, 180.0)
    optional = []
    for field, low, high in OPTIONAL_FIELDS:
        value = raw.get(field)
        optional.append(None if value is None else _number(value, field, low, high))
    return Ping(index, recorded_at, lat, lon, *optional)


def validate_pings(
    raw_pings: Sequence[Any], *, now: datetime, retention_days: int
) -> tuple[list[Ping], list[Rejection], int]:
    """Valid pings sorted by time, rejections by index, and repeats inside the batch."""
    earliest = now - timedelta(days=retention_days)
    latest = now + FUTURE_TOLERANCE
    valid: dict[datetime, Ping] = {}
    rejected: list[Rejection] = []
    repeats = 0
    for index, raw in enumerate(raw_pings):
        try:
            ping = validate_ping(index, raw, earliest=earliest, latest=latest)
        except InvalidPing as error:
            rejected.append(Rejection(index, str(error)))
            continue
        if ping.recorded_at in valid:
            repeats += 1  # same user, same time: a duplicate, first one wins
        else:
            valid[ping.recorded_at] = ping
    return sorted(valid.values(), key=itemgetter(1)), rejected, repeats


def is_accurate(accuracy_m: float | None, max_accuracy_m: float) -> bool:
    """A fix without a reported accuracy is given the benefit of the doubt."""
    return accuracy_m is None or accuracy_m <= max_accuracy_m


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine); within 0.5% of the ellipsoid, plenty here."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def implied_speed(a: Fix | Ping, b: Fix | Ping) -> float:
    """The slowest speed that explains moving from a to b, given both fixes' accuracy."""
    seconds = abs((b.recorded_at - a.recorded_at).total_seconds())
    if seconds == 0:
        return 0.0  # the same instant: a duplicate of the reference fix
    slack = (a.accuracy_m or 0.0) + (b.accuracy_m or 0.0)
    return max(0.0, distance_m(a.lat, a.lon, b.lat, b.lon) - slack) / seconds


def flag_jumps(
    pings: Sequence[Ping],
    previous: Fix | None,
    *,
    max_speed_mps: float,
    max_accuracy_m: float,
    stored: Sequence[Fix] = (),
) -> list[bool]:
    """For new pings sorted by time: which imply an impossible jump from the previous good
    fix. `previous` is the last good fix stored before the first ping; `stored` holds the
    fixes already stored among the pings' times (the good ones are references too).

    Done here rather than in SQL because it is sequential: whether a ping counts as the
    next reference depends on whether it was itself flagged (a window function's lag()
    would compare the fix after a wild jump with the jump and flag it too).
    """
    references = [
        fix
        for fix in stored
        if not fix.impossible_jump and is_accurate(fix.accuracy_m, max_accuracy_m)
    ]
    next_stored = 0
    flags: list[bool] = []
    reference: Fix | Ping | None = previous
    for ping in pings:
        while next_stored < len(references) and references[next_stored][0] < ping.recorded_at:
            reference = references[next_stored]
            next_stored += 1
        flagged = reference is not None and implied_speed(reference, ping) > max_speed_mps
        flags.append(flagged)
        if not flagged and (ping.accuracy_m is None or ping.accuracy_m <= max_accuracy_m):
            reference = ping
    return flags


def iso_utc(value: datetime) -> str:
    """RFC 3339 in UTC with a Z, fractions only when there are any (as SQL_ISO_UTC)."""
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat()
    if "." in text:
        text = text.rstrip("0")
    return text + "Z"
