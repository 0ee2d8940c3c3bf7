"""What the three tracker formats share: numbers and times as the apps write them, turned
into the fields of a ping (`fieldapi.locations.pings`), which validates them all.

A value that cannot be read is passed on as it came, so that the one validation gives
its reason (`lat must be a finite number`); a value the app marks unknown becomes None.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

KNOTS_TO_MPS = 1852 / 3600
KMH_TO_MPS = 1 / 3.6
# Traccar's rule for a numeric timestamp: below 2^31 it counts seconds, else milliseconds.
SECONDS_LIMIT = 2**31
RawPing = dict[str, Any]


def number(value: Any) -> Any:
    """A float from a JSON number or a form field's text; anything else as it came."""
    if value.__class__ is int or value.__class__ is float:
        return float(value)
    if isinstance(value, str) and len(value) <= 40:
        try:
            return float(value.strip())
        except ValueError:
            return value
    return value


def scaled(value: Any, factor: float, *, unknown_below_zero: bool = False) -> Any:
    """A unit conversion of `number(value)`; a negative value is None where the app means
    "unknown" by it (Traccar's and Overland's speed and heading of -1)."""
    read = number(value)
    if read is None or read.__class__ is not float:
        return read
    if unknown_below_zero and read < 0:
        return None
    return read * factor if math.isfinite(read) else read


def epoch_time(seconds: float) -> Any:
    """RFC 3339 text of an epoch time in seconds; the number itself when out of range."""
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return seconds


def traccar_time(value: Any) -> Any:
    """A Traccar timestamp: epoch seconds or milliseconds (as a number or text), ISO 8601,
    or `yyyy-MM-dd HH:mm:ss` (UTC); what is none of these is passed on as it came."""
    read = number(value)
    if read.__class__ is float:
        if not math.isfinite(read):
            return value
        return epoch_time(read if abs(read) < SECONDS_LIMIT else read / 1000)
    if isinstance(read, str) and len(read) <= 40:
        text = read.strip().replace(" ", "T", 1)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return value
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()
    return value


def battery_fraction(value: Any) -> Any:
    """A 0..1 battery level as percent; -1 (unknown) as None."""
    return scaled(value, 100.0, unknown_below_zero=True)


def ping(
    recorded_at: Any,
    lat: Any,
    lon: Any,
    *,
    accuracy_m: Any = None,
    speed_mps: Any = None,
    heading_deg: Any = None,
    altitude_m: Any = None,
    battery_pct: Any = None,
) -> RawPing:
    """A ping as POST /v1/locations takes it, for the one ingest service."""
    return {
        "recorded_at": recorded_at,
        "lat": number(lat),
        "lon": number(lon),
        "accuracy_m": number(accuracy_m),
        "speed_mps": speed_mps,
        "heading_deg": heading_deg,
        "altitude_m": number(altitude_m),
        "battery_pct": battery_pct,
    }
