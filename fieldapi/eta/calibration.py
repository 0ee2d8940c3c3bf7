"""ETA calibration from an organization's own drives.

A trip is an on-my-way whose ETA had a known start position (the request's or a fresh
ping's: the activity entry keeps its straight-line `distance_m`), ended by the first
`start` or detected `arrived` of the same appointment after it. The model's bands are
fitted from the trips, nearest band first, each with the median pace (minutes per road
km, weighted by the km driven in the band) of the trips ending in it, after the stretches
of the nearer bands are taken off at their fitted pace: a median shrugs off the drive
with a lunch stop in it. A band's fitted pace is shrunk toward the default in proportion
to how few trips it has (n / (n + SHRINK_TRIPS)), so a handful of trips moves the ETA a
little, a hundred move it nearly all the way. Pure functions, except the one that reads the
trips (`organization_trips`); `fieldapi.eta.fits` keeps each organization's fit.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.eta.model import EtaModel, SpeedBands

SHRINK_TRIPS = 10.0  # a band's fit counts half once it has this many trips
MAX_TRIPS = 2000  # the most recent trips read
MAX_TRIP_MINUTES = 6 * 60  # longer: a day's plan changed, not a drive


@dataclass(frozen=True)
class Trip:
    distance_m: float  # straight line, from the known start position to the site
    minutes: float


@dataclass(frozen=True)
class BandFit:
    up_to_km: float  # road km
    default_kmh: float
    fitted_kmh: float
    trips: int


@dataclass(frozen=True)
class Calibration:
    trips: int
    bands: tuple[BandFit, ...]

    def speed_bands(self) -> SpeedBands:
        return tuple((band.up_to_km, band.fitted_kmh) for band in self.bands)


# Its WHERE is the predicate of ix_activity_events_on_my_way (fieldapi.jobs.models): the
# walk goes newest first through that index and stops at max_trips.
_TRIPS = text(
    """
    SELECT CAST(omw.details -> 'eta' ->> 'distance_m' AS float8) AS distance_m,
           extract(epoch FROM arrival.at - omw.at) / 60 AS minutes
    FROM activity_events omw
    JOIN LATERAL (
        SELECT e.at, e.action FROM activity_events e
        WHERE e.organization_id = omw.organization_id AND e.job_id = omw.job_id
          AND e.appointment_id = omw.appointment_id AND e.at > omw.at
          AND e.action IN ('start', 'arrived', 'on-my-way')
        ORDER BY e.at LIMIT 1
    ) arrival ON true
    WHERE omw.organization_id = :org AND omw.action = 'on-my-way'
      AND omw.details -> 'eta' ->> 'distance_m' IS NOT NULL
      AND omw.details -> 'eta' ->> 'method' IN ('request_position', 'latest_position',
                                                'calibrated')
      AND arrival.action <> 'on-my-way'
    ORDER BY omw.at DESC
    LIMIT :max_trips
    """
)


def organization_trips(db: Session, organization_id: uuid.UUID) -> list[Trip]:
    """The organization's most recent trips (a second on-my-way before any arrival ends
    nothing: that drive was interrupted, it is skipped)."""
    rows = db.execute(_TRIPS, {"org": organization_id, "max_trips": MAX_TRIPS}).all()
    return _trips(rows)


def _trips(rows: Sequence[Sequence[Any]]) -> list[Trip]:
    return [
        Trip(float(distance), float(minutes))
        for distance, minutes in rows
        if distance is not None and 0 < minutes <= MAX_TRIP_MINUTES and distance >= 0
    ]


def _stretches(road_km: float, bands: SpeedBands) -> list[float]:
    """The road km of a trip driven in each band."""
    out, start = [], 0.0
    for limit, _speed in bands:
        out.append(max(0.0, min(road_km, limit) - start))
        start = limit
    return out


def weighted_median(samples: Sequence[tuple[float, float]]) -> float:
    """The median of (value, weight) pairs: a trip that drove 10 km of a band says more
    about its pace than one that drove 200 m of it (whose few seconds of noise would
    read as a wild pace)."""
    ordered = sorted(samples)
    half, running = sum(weight for _value, weight in ordered) / 2, 0.0
    for value, weight in ordered:
        running += weight
        if running >= half:
            return value
    return ordered[-1][0]


def fit(trips: Sequence[Trip], model: EtaModel) -> Calibration:
    """Speeds per band from the trips, shrunk toward `model`'s defaults."""
    paces: list[float] = []  # fitted minutes per road km, band by band
    fits: list[BandFit] = []
    lower = 0.0
    for index, (limit, default_kmh) in enumerate(model.bands):
        default_pace = 60.0 / default_kmh
        samples = []
        for trip in trips:
            road_km = trip.distance_m / 1000 * model.detour_factor
            if not lower < road_km <= limit:
                continue
            stretch = _stretches(road_km, model.bands)
            before = sum(s * p for s, p in zip(stretch[:index], paces, strict=False))
            if stretch[index] > 0:
                samples.append(((trip.minutes - before) / stretch[index], stretch[index]))
        samples = [(pace, km) for pace, km in samples if pace > 0 and math.isfinite(pace)]
        weight = len(samples) / (len(samples) + SHRINK_TRIPS)
        pace = default_pace
        if samples:
            pace = weight * weighted_median(samples) + (1 - weight) * default_pace
        paces.append(pace)
        fits.append(BandFit(limit, default_kmh, 60.0 / pace, len(samples)))
        lower = limit
    return Calibration(len(trips), tuple(fits))


def calibrated_model(model: EtaModel, calibration: Calibration) -> EtaModel:
    return EtaModel(
        detour_factor=model.detour_factor,
        bands=calibration.speed_bands(),
        min_minutes=model.min_minutes,
    )
