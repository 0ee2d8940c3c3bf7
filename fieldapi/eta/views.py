"""HTTP endpoint of the ETA: the organization's model and the speeds fitted from its trips."""

from __future__ import annotations

import math
from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from fieldapi.accounts.auth import current_principal, login_required
from fieldapi.accounts.policy import require_manager
from fieldapi.db import session, utcnow
from fieldapi.eta.fits import refit
from fieldapi.eta.settings import EtaSettings

blp = Blueprint("eta", __name__, description="The ETA model and its calibration")


class BandFitSchema(Schema):
    up_to_km = fields.Float(
        allow_none=True, metadata={"description": "road km; null: every km beyond"}
    )
    default_kmh = fields.Float()
    fitted_kmh = fields.Float(metadata={"description": "shrunk toward the default"})
    trips = fields.Integer(metadata={"description": "trips that ended in this band"})


class EtaSettingsSchema(Schema):
    method = fields.String(metadata={"description": "`calibrated` or `default`"})
    trips = fields.Integer()
    min_trips = fields.Integer(metadata={"description": "ETA_CALIBRATION_MIN_TRIPS"})
    detour_factor = fields.Float()
    bands = fields.List(fields.Nested(BandFitSchema))


@blp.route("/settings/eta")
@login_required
@blp.response(200, EtaSettingsSchema)
def get_eta_settings() -> dict[str, Any]:
    """The organization's ETA: default or calibrated, and the fitted speeds (dispatchers)."""
    principal = current_principal()
    require_manager(principal, "read the ETA calibration")
    settings = EtaSettings.from_config(current_app.config)
    chosen = refit(session(), principal.organization_id, settings, now=utcnow())
    session().commit()  # the fit it stored
    return {
        "method": "calibrated" if chosen.calibrated else "default",
        "trips": chosen.calibration.trips,
        "min_trips": chosen.min_trips,
        "detour_factor": settings.model.detour_factor,
        "bands": [
            {
                "up_to_km": None if math.isinf(band.up_to_km) else band.up_to_km,
                "default_kmh": band.default_kmh,
                "fitted_kmh": round(band.fitted_kmh, 2),
                "trips": band.trips,
            }
            for band in chosen.calibration.bands
        ],
    }


blueprints: tuple[Blueprint, ...] = (blp,)
