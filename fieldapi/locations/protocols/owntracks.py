"""OwnTracks in HTTP mode: one JSON message per POST, the answer a JSON array.

A `_type: location` message carries `tst` (epoch seconds), `lat`, `lon`, `acc` and `alt`
(m), `vel` (km/h), `cog` (degrees), `batt` (percent). The apps leave fields that are zero
out: a missing `lat` or `lon` is 0 (a fix on the equator or the prime meridian); a missing
optional field is stored as unknown, since "zero" and "not measured" cannot be told apart.
Every other `_type` (transition, waypoint, lwt, ...) and an empty body are accepted; a
`transition` carries the phone's position when it crossed a geofence, and an `enter` is
a signal of arrival (fieldapi.locations.arrival).
"""

from __future__ import annotations

import uuid
from typing import Any

from fieldapi.locations.protocols.wire import KMH_TO_MPS, RawPing, epoch_time, number, ping, scaled


class NotOwnTracks(ValueError):
    """A body no OwnTracks app sends (the view answers 400 with the reason)."""


def location_ping(message: dict[str, Any]) -> RawPing:
    tst = number(message.get("tst"))
    return ping(
        epoch_time(tst) if tst.__class__ is float else tst,
        message.get("lat", 0.0),
        message.get("lon", 0.0),
        accuracy_m=message.get("acc"),
        speed_mps=scaled(message.get("vel"), KMH_TO_MPS, unknown_below_zero=True),
        heading_deg=scaled(message.get("cog"), 1.0, unknown_below_zero=True),
        altitude_m=message.get("alt"),
        battery_pct=number(message.get("batt")),
    )


def message_type(body: Any) -> str | None:
    """The `_type` of a parsed message; None for an empty body."""
    if body is None:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("_type"), str):
        raise NotOwnTracks('An OwnTracks message is a JSON object with a "_type".')
    kind: str = body["_type"]
    return kind


def waypoint_tst(appointment_id: uuid.UUID) -> int:
    """A waypoint's identity on the phone is its `tst`: one stable number per appointment,
    so that sending the same sites again updates them instead of adding copies."""
    return 1_000_000_000 + int(appointment_id.hex[:8], 16) % 1_000_000_000


def set_waypoints(sites: list[dict[str, Any]], radius_m: float) -> dict[str, Any]:
    """The `cmd` that puts geofences on the phone: it then reports `transition` enter and
    leave events for them by itself."""
    return {
        "_type": "cmd",
        "action": "setWaypoints",
        "waypoints": {
            "_type": "waypoints",
            "waypoints": [
                {
                    "_type": "waypoint",
                    "desc": site["label"],
                    "lat": site["lat"],
                    "lon": site["lon"],
                    "rad": round(radius_m),
                    "tst": waypoint_tst(site["appointment_id"]),
                    "rid": str(site["appointment_id"]),
                }
                for site in sites
            ],
        },
    }
