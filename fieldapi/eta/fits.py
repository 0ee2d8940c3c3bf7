"""An organization's ETA model, from its stored fit while that is fresh, else fitted again.

Fitting reads up to `MAX_TRIPS` trips from the activity log and fits them in Python: too
dear for every on-my-way and every nearest-technicians search of an organization with a
history (at 20,000 past trips it was 30 times a bare GET). The fit is kept in
`eta_calibrations` and used for `ETA_CALIBRATION_MAX_AGE`; the first ETA after that
fits again and stores it. The store is a textual upsert because GET sessions refuse ORM
writes (`fieldapi.db.read_only`): a search that refits stores it too.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import DateTime, ScalarSelect, Text, Uuid, bindparam, func, select, text
from sqlalchemy.orm import Session

from fieldapi.eta.calibration import (
    BandFit,
    Calibration,
    Trip,
    calibrated_model,
    fit,
    organization_trips,
)
from fieldapi.eta.model import EtaModel
from fieldapi.eta.models import EtaCalibration
from fieldapi.eta.settings import EtaSettings


@dataclass(frozen=True)
class OrganizationModel:
    """The model an organization's ETAs use, and the fit it comes from."""

    model: EtaModel
    calibration: Calibration
    calibrated: bool
    min_trips: int


def model_of(calibration: Calibration, settings: EtaSettings) -> OrganizationModel:
    """The calibrated model once the fit has `min_trips` trips, else the default."""
    min_trips = settings.calibration_min_trips
    calibrated = calibration.trips >= min_trips
    model = calibrated_model(settings.model, calibration) if calibrated else settings.model
    return OrganizationModel(model, calibration, calibrated, min_trips)


def refit(
    db: Session, organization_id: uuid.UUID, settings: EtaSettings, *, now: datetime
) -> OrganizationModel:
    """Fit the organization's trips now and store the fit."""
    trips: list[Trip] = organization_trips(db, organization_id)
    calibration = fit(trips, settings.model)
    db.execute(
        _STORE,
        {
            "org": organization_id,
            "model_key": model_key(settings.model),
            "trips": calibration.trips,
            "bands": json.dumps([_band_row(band) for band in calibration.bands]),
            "now": now,
        },
    )
    return model_of(calibration, settings)


def current_model(
    db: Session, organization_id: uuid.UUID, settings: EtaSettings, *, now: datetime
) -> OrganizationModel:
    """The stored fit while it is fresh, else `refit`."""
    parameters = {"org": organization_id, **fit_parameters(settings, now=now)}
    stored = db.scalar(select(stored_fit()), parameters)
    return from_stored(db, organization_id, stored, settings, now=now)


def from_stored(
    db: Session,
    organization_id: uuid.UUID,
    stored: Any,
    settings: EtaSettings,
    *,
    now: datetime,
) -> OrganizationModel:
    """The model from a `stored_fit` value, or `refit` when it is null (none, or stale)."""
    if stored is None:
        return refit(db, organization_id, settings, now=now)
    trips, bands = stored
    calibration = Calibration(trips, tuple(_band_fit(band) for band in bands))
    return model_of(calibration, settings)


def stored_fit() -> ScalarSelect[Any]:
    """The organization's (`org`) fit as a JSON [trips, bands] while it is fresh (fitted
    at `fitted_since` or later to the default model `model_key`), else null: an expression
    to read beside a statement's other columns, with `fit_parameters`."""
    return (
        select(func.json_build_array(EtaCalibration.trips, EtaCalibration.bands))
        .where(
            EtaCalibration.organization_id == bindparam("org", type_=Uuid),
            EtaCalibration.model_key == bindparam("model_key", type_=Text),
            EtaCalibration.fitted_at >= bindparam("fitted_since", type_=DateTime(timezone=True)),
        )
        .scalar_subquery()
    )


def fit_parameters(settings: EtaSettings, *, now: datetime) -> dict[str, Any]:
    """`stored_fit`'s parameters but the organization."""
    return {
        "model_key": model_key(settings.model),
        "fitted_since": now - settings.calibration_max_age,
    }


@cache  # asked on every on-my-way, of the few models the settings make
def model_key(model: EtaModel) -> str:
    """What a fit depends on besides the trips: the detour factor and the default bands."""
    return json.dumps([model.detour_factor, [[_finite(a), b] for a, b in model.bands]])


def _band_row(band: BandFit) -> list[Any]:
    return [_finite(band.up_to_km), band.default_kmh, band.fitted_kmh, band.trips]


def _band_fit(row: list[Any]) -> BandFit:
    up_to_km, default_kmh, fitted_kmh, trips = row
    return BandFit(
        math.inf if up_to_km is None else float(up_to_km),
        float(default_kmh),
        float(fitted_kmh),
        int(trips),
    )


def _finite(km: float) -> float | None:
    return None if math.isinf(km) else km


_STORE = text(
    """INSERT INTO eta_calibrations (organization_id, model_key, trips, bands, fitted_at)
    VALUES (:org, :model_key, :trips, CAST(:bands AS jsonb), :now)
    ON CONFLICT (organization_id) DO UPDATE SET model_key = excluded.model_key,
        trips = excluded.trips, bands = excluded.bands, fitted_at = excluded.fitted_at
    WHERE eta_calibrations.fitted_at <= excluded.fitted_at"""
)
