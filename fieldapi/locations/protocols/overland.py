"""Overland: POST `{"locations": [GeoJSON Feature, ...], "current"?, "trip"?}`.

Each Feature is a Point `[lon, lat]` with properties `timestamp` (ISO 8601), `speed` (m/s,
-1 unknown), `course` (degrees, -1 unknown), `horizontal_accuracy`, `altitude` and
`battery_level` (0..1). The app sends the batch again until the answer is
`{"result": "ok"}`.
"""

from __future__ import annotations

from typing import Any

from fieldapi.locations.protocols.wire import RawPing, battery_fraction, ping, scaled

# The app's largest batch setting is well below this; a bigger body is not Overland's.
MAX_LOCATIONS = 1000


class NotOverland(ValueError):
    """A body no Overland app sends (the view answers 400 with the reason)."""


def feature_ping(feature: Any) -> Any:
    """One Feature as a ping; what is not a Point Feature is passed on, to be rejected."""
    if not isinstance(feature, dict):
        return feature
    geometry = feature.get("geometry")
    properties = feature.get("properties")
    if not isinstance(geometry, dict) or not isinstance(properties, dict):
        return {}
    coordinates = geometry.get("coordinates")
    if geometry.get("type") != "Point" or not isinstance(coordinates, list):
        return {}
    lon, lat = [*coordinates, None, None][:2]
    return ping(
        properties.get("timestamp"),
        lat,
        lon,
        accuracy_m=properties.get("horizontal_accuracy"),
        speed_mps=scaled(properties.get("speed"), 1.0, unknown_below_zero=True),
        heading_deg=scaled(properties.get("course"), 1.0, unknown_below_zero=True),
        altitude_m=properties.get("altitude"),
        battery_pct=battery_fraction(properties.get("battery_level")),
    )


def batch_pings(body: Any) -> list[RawPing]:
    if not isinstance(body, dict) or not isinstance(body.get("locations"), list):
        raise NotOverland('An Overland batch is {"locations": [GeoJSON Feature, ...]}.')
    locations: list[Any] = body["locations"]
    if len(locations) > MAX_LOCATIONS:
        raise NotOverland(f"At most {MAX_LOCATIONS} locations per batch.")
    return [feature_ping(feature) for feature in locations]
