"""The on-my-way estimate: a position, the PostGIS distance to the site, the model."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import DateTime, Float, Select, Uuid, bindparam, select
from sqlalchemy.orm import Session

from fieldapi.eta.fits import fit_parameters, from_stored, stored_fit
from fieldapi.eta.model import arrive_by, estimate_minutes
from fieldapi.eta.settings import EtaSettings
from fieldapi.jobs.customers import geography_point, site_distance_m
from fieldapi.locations.positions import latest_fresh_position

# eta.method: where the technician's position came from, or why there is no estimate.
REQUEST_POSITION = "request_position"  # lat/lon sent with on-my-way
LATEST_POSITION = "latest_position"  # their latest ping, fresh enough
UNKNOWN_POSITION = "unknown_position"  # neither: the text goes without a time
UNKNOWN_SITE = "unknown_site"  # the customer has no site on the map
CALIBRATED = "calibrated"  # a known position, and speeds fitted from the organization's trips


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
    position, the distance and the organization's stored fit (a stale one is refitted)."""
    parameters = arrival_parameters(
        organization_id=organization_id,
        customer_id=customer_id,
        position=position,
        now=now,
        settings=settings,
    )
    statement = arrival_inputs(position is not None, bindparam("technician_id", type_=Uuid))
    row = db.execute(statement, {**parameters, "technician_id": technician_id}).one()
    return arrival_from(
        db, organization_id, row, from_request=position is not None, now=now, settings=settings
    )


def arrival_parameters(
    *,
    organization_id: uuid.UUID,
    customer_id: uuid.UUID,
    position: tuple[float, float] | None,
    now: datetime,
    settings: EtaSettings,
) -> dict[str, Any]:
    """The parameters of `arrival_inputs` but the technician's."""
    parameters: dict[str, Any] = {
        "org": organization_id,
        "customer_id": customer_id,
        **fit_parameters(settings, now=now),
    }
    if position is not None:
        parameters.update(lat=position[0], lon=position[1])
    else:
        parameters.update(since=now - settings.position_max_age)
    return parameters


@cache
def arrival_inputs(from_request: bool, technician: Any) -> Select[Any]:
    """One row of what an estimate needs: whether the position is known, its distance to
    the site and the organization's fresh stored fit (`stored_fit`), for a position sent with the
    request (`lat`, `lon`) or the latest ping of `technician` (an expression: a bound
    parameter, or a column of the statement that reads this row beside its own), fresh
    `since`; the site of `customer_id`, the fit of `org`. Built once per kind."""
    if from_request:
        here = geography_point(bindparam("lat", type_=Float), bindparam("lon", type_=Float))
    else:
        here = latest_fresh_position(
            bindparam("org", type_=Uuid),
            technician,
            bindparam("since", type_=DateTime(timezone=True)),
        )
    distance = site_distance_m(bindparam("customer_id", type_=Uuid), here)
    return select(
        here.is_not(None).label("known"), distance.label("distance_m"), stored_fit().label("fit")
    )


def arrival_from(
    db: Session,
    organization_id: uuid.UUID,
    row: Sequence[Any],
    *,
    from_request: bool,
    now: datetime,
    settings: EtaSettings,
) -> Eta:
    """The estimate from a row of `arrival_inputs` (refitting the organization's speeds
    when its stored fit was stale)."""
    known, distance, stored = row
    if not known:
        return Eta(method=UNKNOWN_POSITION)
    if distance is None:
        return Eta(method=UNKNOWN_SITE)
    distance = float(distance)
    chosen = from_stored(db, organization_id, stored, settings, now=now)
    method = (
        CALIBRATED if chosen.calibrated else REQUEST_POSITION if from_request else LATEST_POSITION
    )
    minutes = estimate_minutes(distance, chosen.model)
    return Eta(
        method=method, minutes=minutes, arrive_by=arrive_by(now, minutes), distance_m=distance
    )
