"""The OsmAnd protocol, as Traccar Client and OsmAnd send it: flat fields (query string or
form) or Traccar Client's JSON (one location object, or an array of flat objects).

Flat fields: `id`/`deviceid` (the device token), `lat`, `lon` or `location=lat,lon`,
`timestamp`, `speed` in knots, `bearing`/`heading`, `altitude`, `accuracy`, `batt` (percent);
the rest is ignored. Without a timestamp a fix is taken as of now, as Traccar does.
JSON: `{"device_id", "location": {"timestamp", "coords": {"latitude", "longitude",
"accuracy", "speed" (m/s), "heading", "altitude"}, "battery": {"level": 0..1}}}`, where a
speed or heading of -1 means unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldapi.locations.protocols.wire import (
    KNOTS_TO_MPS,
    RawPing,
    battery_fraction,
    ping,
    scaled,
    traccar_time,
)


class NotOsmAnd(ValueError):
    """A body no OsmAnd client sends (the view answers 400 with the reason)."""


@dataclass(frozen=True)
class Upload:
    token: str | None
    pings: list[RawPing]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def flat_ping(fields: Mapping[str, Any], *, now: datetime) -> RawPing:
    """One fix from flat fields (query string, form, or one object of a JSON array)."""
    lat, lon = fields.get("lat"), fields.get("lon")
    location = fields.get("location")
    if lat is None and lon is None and isinstance(location, str) and "," in location:
        lat, _, lon = location.partition(",")
    timestamp = fields.get("timestamp")
    heading = fields.get("bearing", fields.get("heading"))
    return ping(
        now.isoformat() if timestamp in (None, "") else traccar_time(timestamp),
        lat,
        lon,
        accuracy_m=fields.get("accuracy"),
        speed_mps=scaled(fields.get("speed"), KNOTS_TO_MPS, unknown_below_zero=True),
        heading_deg=scaled(heading, 1.0, unknown_below_zero=True),
        altitude_m=fields.get("altitude"),
        battery_pct=scaled(fields.get("batt"), 1.0, unknown_below_zero=True),
    )


def _flat_token(fields: Mapping[str, Any]) -> str | None:
    return _text(fields.get("id")) or _text(fields.get("deviceid"))


def from_fields(fields: Mapping[str, Any], *, now: datetime) -> Upload:
    """The query string's (or the form's) fields."""
    return Upload(_flat_token(fields), [flat_ping(fields, now=now)])


def _json_location(location: Any, *, now: datetime) -> RawPing:
    if not isinstance(location, dict):
        raise NotOsmAnd('"location" must be an object.')
    coords = location.get("coords")
    if not isinstance(coords, dict):
        coords = {}
    battery = location.get("battery")
    timestamp = location.get("timestamp")
    return ping(
        now.isoformat() if timestamp is None else traccar_time(timestamp),
        coords.get("latitude"),
        coords.get("longitude"),
        accuracy_m=coords.get("accuracy"),
        speed_mps=scaled(coords.get("speed"), 1.0, unknown_below_zero=True),
        heading_deg=scaled(coords.get("heading"), 1.0, unknown_below_zero=True),
        altitude_m=coords.get("altitude"),
        battery_pct=battery_fraction(battery.get("level")) if isinstance(battery, dict) else None,
    )


def from_json(body: Any, *, query_token: str | None, now: datetime) -> Upload:
    """Traccar Client's JSON: one object with `location`, or an array of flat objects."""
    if isinstance(body, dict):
        token = query_token or _text(body.get("device_id"))
        return Upload(token, [_json_location(body.get("location"), now=now)])
    if isinstance(body, list) and body:
        token = query_token or next(
            (found for item in body if isinstance(item, dict) if (found := _flat_token(item))),
            None,
        )
        return Upload(
            token,
            [flat_ping(item, now=now) if isinstance(item, dict) else item for item in body],
        )
    raise NotOsmAnd(
        'A JSON body is {"device_id", "location": {...}} or a non-empty array of positions.'
    )
