"""The ETA model of the on-my-way text: simple on purpose, pure (no I/O, no clock).

    road_km   = straight-line km x ETA_DETOUR_FACTOR
    hours     = road_km driven band by band: the km of the trip that fall in a band
                are driven at that band's speed (ETA_SPEED_BANDS)
    minutes   = ceil(hours x 60), at least ETA_MIN_MINUTES

The default bands, `3:20,15:40,*:70`, say: the first 3 km at 20 km/h (side streets,
parking, getting out of the last site), the km from 3 to 15 at 40 km/h (city arterials),
everything beyond at 70 km/h (highway). Because each km is driven at its own band's speed,
a farther site never gets an earlier arrival: there is no jump at a band's edge (as there
would be with one speed chosen by the total distance).

The straight-line distance comes from PostGIS (`fieldapi.jobs.customers`), the technician's
position from the request or their latest fresh ping (`fieldapi.locations.positions`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fieldapi.settings import SettingError

SpeedBands = tuple[tuple[float, float], ...]  # (up to km, km/h); the last is (inf, km/h)

DEFAULT_BANDS: SpeedBands = ((3.0, 20.0), (15.0, 40.0), (math.inf, 70.0))
#: The arrival time in the text is rounded to this many minutes ("around 2:40 PM").
TEXT_ROUNDING_MINUTES = 5


def parse_speed_bands(raw: str) -> SpeedBands:
    """`3:20,15:40,*:70` -> ((3, 20), (15, 40), (inf, 70)); limits increasing, last `*`."""
    bands: list[tuple[float, float]] = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        limit_raw, sep, speed_raw = part.partition(":")
        if not sep:
            raise SettingError(f"a band is `km:km/h`, not {part!r}")
        try:
            limit = math.inf if limit_raw.strip() == "*" else float(limit_raw)
            speed = float(speed_raw)
        except ValueError as error:
            raise SettingError(f"a band is `km:km/h`, not {part!r}") from error
        if not (speed > 0 and math.isfinite(speed)) or not limit > 0:
            raise SettingError(f"distances and speeds must be positive: {part!r}")
        if bands and limit <= bands[-1][0]:
            raise SettingError("band limits must increase")
        bands.append((limit, speed))
    if not bands or bands[-1][0] != math.inf:
        raise SettingError("the last band must be `*:km/h` (every distance beyond)")
    return tuple(bands)


@dataclass(frozen=True)
class EtaModel:
    detour_factor: float = 1.35
    bands: SpeedBands = DEFAULT_BANDS
    min_minutes: int = 5


def travel_hours(road_km: float, bands: SpeedBands) -> float:
    """Hours to drive `road_km`, each stretch at its band's speed."""
    hours, start = 0.0, 0.0
    for limit, speed in bands:
        if road_km <= start:
            break
        stretch = min(road_km, limit) - start
        hours += stretch / speed
        start = limit
    return hours


def estimate_minutes(distance_m: float, model: EtaModel) -> int:
    """Whole minutes to reach a site `distance_m` away in a straight line."""
    if not math.isfinite(distance_m) or distance_m < 0:
        raise ValueError(f"not a distance: {distance_m!r}")
    road_km = distance_m / 1000 * model.detour_factor
    minutes = math.ceil(round(travel_hours(road_km, model.bands) * 60, 9))
    return max(model.min_minutes, minutes)


def arrive_by(now: datetime, minutes: int) -> datetime:
    """The arrival moment, to the second."""
    return (now + timedelta(minutes=minutes)).replace(microsecond=0)


def clock_text(moment: datetime, timezone: str, *, now: datetime) -> str:
    """`2:40 PM` in the customer's timezone, rounded to 5 minutes; `Tue 2:40 PM` when the
    arrival is not on the customer's today."""
    zone = ZoneInfo(timezone)
    step = TEXT_ROUNDING_MINUTES * 60
    rounded = datetime.fromtimestamp(round(moment.timestamp() / step) * step, tz=zone)
    hour = rounded.hour % 12 or 12
    text = f"{hour}:{rounded.minute:02d} {'AM' if rounded.hour < 12 else 'PM'}"
    today: date = now.astimezone(zone).date()
    if rounded.date() != today:
        text = f"{rounded:%a} {text}"
    return text
