"""The on-my-way estimate: a position, the PostGIS distance to the site, the model."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import DateTime, Float, Select, Uuid, bindparam
from sqlalchemy.orm import Session

from fieldapi.eta.calibration import (
    Calibration,
    Trip,
    calibrated_model,
    fit,
    organization_trips,
    trips_and_values,
    trips_beside,
)
from fieldapi.eta.model import EtaModel, arrive_by, estimate_minutes
from fieldapi.jobs.customers import geography_point, site_distance_m
from fieldapi.locations.positions import latest_fresh_position

# eta.method: where the technician's position came from, or why there is no estimate.
REQUEST_POSITION = "request_position"  # lat/lon sent with on-my-way
LATEST_POSITION = "latest_position"  # their latest ping, fresh enough
UNKNOWN_POSITION = "unknown_position"  # neither: the text goes without a time
UNKNOWN_SITE = "unknown_site"  # the customer has no site on the map
CALIBRATED = "calibrated"  # a known position, and speeds fitted from the organization's trips


@dataclass(frozen=True)
class EtaSettings:
    model: EtaModel = field(default_factory=EtaModel)
    position_max_age: timedelta = timedelta(minutes=15)
    calibration_min_trips: int = 20

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EtaSettings:
        return cls(
            model=EtaModel(
                detour_factor=config["ETA_DETOUR_FACTOR"],
                bands=config["ETA_SPEED_BANDS"],
                min_minutes=config["ETA_MIN_MINUTES"],
            ),
            position_max_age=timedelta(seconds=config["ETA_POSITION_MAX_AGE"]),
            calibration_min_trips=config["ETA_CALIBRATION_MIN_TRIPS"],
        )


@dataclass(frozen=True)
class OrganizationModel:
    """The model an organization's ETAs use, and the fit it comes from."""

    model: EtaModel
    calibration: Calibration
    calibrated: bool
    min_trips: int


def organization_model(
    db: Session, organization_id: uuid.UUID, settings: EtaSettings
) -> OrganizationModel:
    """The calibrated model once the organization has enough trips, else the default."""
    return _model_of(organization_trips(db, organization_id), settings)


def _model_of(trips: list[Trip], settings: EtaSettings) -> OrganizationModel:
    calibration = fit(trips, settings.model)
    calibrated = len(trips) >= settings.calibration_min_trips
    model = calibrated_model(settings.model, calibration) if calibrated else settings.model
    return OrganizationModel(model, calibration, calibrated, settings.calibration_min_trips)


@dataclass(frozen=True)
class Eta:
    method: str
    minutes: int | None = None
    arrive_by: datetime | None = None
    distance_m: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "minutes": self.minutes,
            "arrive_by": self.arrive_by,
            "distance_m": None if self.distance_m is None else round(self.distance_m),
            "method": self.method,
        }


def estimate_arrival(
    db: Session,
    *,
    organization_id: uuid.UUID,
    technician_id: uuid.UUID,
    customer_id: uuid.UUID,
    position: tuple[float, float] | None,
    now: datetime,
    settings: EtaSettings,
) -> Eta:
    """The ETA of `technician_id` at the customer's site, from `position` (lat, lon) when
    given, else from the technician's latest ping if it is fresh. One statement reads the
    position, the distance and the organization's trips."""
    parameters = arrival_parameters(
        organization_id=organization_id,
        customer_id=customer_id,
        position=position,
        now=now,
        settings=settings,
    )
    statement = arrival_inputs(position is not None, bindparam("technician_id", type_=Uuid))
    row = db.execute(statement, {**parameters, "technician_id": technician_id}).one()
    return arrival_from(row, from_request=position is not None, now=now, settings=settings)


def arrival_parameters(
    *,
    organization_id: uuid.UUID,
    customer_id: uuid.UUID,
    position: tuple[float, float] | None,
    now: datetime,
    settings: EtaSettings,
) -> dict[str, Any]:
    """The parameters of `arrival_inputs` but the technician's."""
    parameters: dict[str, Any] = {"org": organization_id, "customer_id": customer_id}
    if position is not None:
        parameters.update(lat=position[0], lon=position[1])
    else:
        parameters.update(since=now - settings.position_max_age)
    return parameters


@cache
def arrival_inputs(from_request: bool, technician: Any) -> Select[Any]:
    """One row of what an estimate needs: whether the position is known, its distance to
    the site and the organization's trips (`trips_beside`), for a position sent with the
    request (`lat`, `lon`) or the latest ping of `technician` (an expression: a bound
    parameter, or a column of the statement that reads this row beside its own), fresh
    `since`; the site of `customer_id`, the trips of `org`. Built once per kind."""
    if from_request:
        here = geography_point(bindparam("lat", type_=Float), bindparam("lon", type_=Float))
    else:
        here = latest_fresh_position(
            bindparam("org", type_=Uuid),
            technician,
            bindparam("since", type_=DateTime(timezone=True)),
        )
    distance = site_distance_m(bindparam("customer_id", type_=Uuid), here)
    return trips_beside([here.is_not(None), distance])


def arrival_from(
    row: Sequence[Any], *, from_request: bool, now: datetime, settings: EtaSettings
) -> Eta:
    """The estimate from a row of `arrival_inputs`."""
    trips, (known, distance) = trips_and_values(row)
    if not known:
        return Eta(method=UNKNOWN_POSITION)
    if distance is None:
        return Eta(method=UNKNOWN_SITE)
    distance = float(distance)
    chosen = _model_of(trips, settings)
    method = (
        CALIBRATED if chosen.calibrated else REQUEST_POSITION if from_request else LATEST_POSITION
    )
    minutes = estimate_minutes(distance, chosen.model)
    return Eta(
        method=method, minutes=minutes, arrive_by=arrive_by(now, minutes), distance_m=distance
    )
