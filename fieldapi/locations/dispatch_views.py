"""HTTP endpoint of dispatch help: the nearest technicians to a place or an appointment."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldapi.accounts.auth import current_principal, login_required
from fieldapi.accounts.policy import require_manager
from fieldapi.db import session, utcnow
from fieldapi.errors import refusal
from fieldapi.eta.fits import current_model
from fieldapi.eta.model import EtaModel
from fieldapi.eta.settings import EtaSettings
from fieldapi.locations import nearest

blp = Blueprint("dispatch", __name__, description="Dispatch help: the nearest technicians")


class NearestQuerySchema(Schema):
    lat = fields.Float(validate=validate.Range(-90, 90, error="Between -90 and 90."))
    lon = fields.Float(validate=validate.Range(-180, 180, error="Between -180 and 180."))
    appointment_id = fields.UUID(metadata={"description": "instead of lat and lon: its site"})
    limit = fields.Integer(load_default=10, validate=validate.Range(1, nearest.MAX_LIMIT))


class NearestUserSchema(Schema):
    id = fields.UUID()
    name = fields.String()


class NearestTechnicianSchema(Schema):
    user = fields.Nested(NearestUserSchema)
    distance_m = fields.Integer(metadata={"description": "straight line"})
    eta_minutes = fields.Integer()
    position_age_s = fields.Integer()
    current_appointment_id = fields.UUID(allow_none=True)


@blp.route("/dispatch/nearest")
@login_required  # 401 before any 422
@blp.arguments(NearestQuerySchema, location="query")
@blp.response(200, NearestTechnicianSchema(many=True))
@blp.alt_response(422, **refusal("neither `lat` and `lon` nor `appointment_id`"))
def nearest_technicians(query: dict[str, Any]) -> list[dict[str, Any]]:
    """On-duty technicians with a fresh position, nearest first by ETA (dispatchers)."""
    principal = current_principal()
    require_manager(principal, "look for the nearest technicians")
    settings = EtaSettings.from_config(current_app.config)
    appointment_id: uuid.UUID | None = query.get("appointment_id")
    now = utcnow()

    def model() -> EtaModel:
        chosen = current_model(session(), principal.organization_id, settings, now=now)
        session().commit()  # the fit it stored, if it fitted one
        return chosen.model

    return nearest.nearest_technicians(
        session(),
        principal.organization_id,
        nearest.Place(query.get("lat"), query.get("lon"), appointment_id),
        now=now,
        model=model,
        max_age=settings.position_max_age,
        limit=query["limit"],
    )


blueprints: tuple[Blueprint, ...] = (blp,)
