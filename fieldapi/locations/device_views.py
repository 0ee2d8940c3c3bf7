"""HTTP endpoints of tracker devices: /v1/me/devices, and the team's for dispatchers."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from fieldapi.accounts.auth import current_principal, login_required
from fieldapi.db import session, utcnow
from fieldapi.input_guard import NOT_BLANK
from fieldapi.locations import devices

blp = Blueprint("devices", __name__, description="Tracker apps a user added as devices")


class TrackerDeviceNameSchema(Schema):
    name = fields.String(
        required=True,
        metadata={
            "example": "Sam's Traccar Client",
            "description": "1 to 100 characters once trimmed",
            "pattern": NOT_BLANK,
            "maxLength": 100,
        },
    )


class TrackerDeviceSchema(Schema):
    id = fields.UUID()
    user_id = fields.UUID()
    name = fields.String()
    created_at = fields.AwareDateTime()


class TrackerUrlsSchema(Schema):
    osmand = fields.String(metadata={"description": "Traccar Client / OsmAnd"})
    owntracks = fields.String(metadata={"description": "OwnTracks, HTTP mode"})
    overland = fields.String(metadata={"description": "Overland, the token as access token"})


class NewTrackerDeviceSchema(TrackerDeviceSchema):
    token = fields.String(metadata={"description": "shown once; stored only hashed"})
    urls = fields.Nested(TrackerUrlsSchema)


@blp.route("/me/devices", methods=["POST"])
@login_required  # 401 before any 422
@blp.arguments(TrackerDeviceNameSchema)
@blp.response(201, NewTrackerDeviceSchema)
def add_device(body: dict[str, Any]) -> dict[str, Any]:
    """Add a tracker app: its token (shown once) and the URLs to paste into each app."""
    device, token = devices.add_device(
        session(),
        current_principal(),
        body["name"],
        secret_key=current_app.config["SECRET_KEY"],
        now=utcnow(),
    )
    urls = devices.tracker_urls(current_app.config["PUBLIC_BASE_URL"], token)
    return {
        "id": device.id,
        "user_id": device.user_id,
        "name": device.name,
        "created_at": device.created_at,
        "token": token,
        "urls": urls,
    }


@blp.route("/me/devices")
@login_required
@blp.response(200, TrackerDeviceSchema(many=True))
def my_devices() -> Any:
    """The caller's live devices, newest first."""
    return devices.list_devices(session(), current_principal())


@blp.route("/me/devices/<uuid:device_id>", methods=["DELETE"])
@login_required
@blp.response(204)
def revoke_my_device(device_id: uuid.UUID) -> None:
    """Revoke one of the caller's devices: its token stops working at once."""
    devices.revoke_device(session(), current_principal(), device_id, whole_team=False, now=utcnow())


@blp.route("/team/devices")
@login_required
@blp.response(200, TrackerDeviceSchema(many=True))
def team_devices() -> Any:
    """The whole team's live devices (dispatchers)."""
    return devices.list_devices(session(), current_principal(), whole_team=True)


@blp.route("/team/devices/<uuid:device_id>", methods=["DELETE"])
@login_required
@blp.response(204)
def revoke_team_device(device_id: uuid.UUID) -> None:
    """Revoke any device of the team (dispatchers)."""
    devices.revoke_device(session(), current_principal(), device_id, whole_team=True, now=utcnow())


blueprints: tuple[Blueprint, ...] = (blp,)
