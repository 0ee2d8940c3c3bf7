"""HTTP endpoints of location privacy: working hours, and who read the caller's track."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldapi.accounts.auth import current_principal, login_required
from fieldapi.accounts.organizations import organization_timezone
from fieldapi.db import session
from fieldapi.errors import refusal
from fieldapi.locations import privacy

blp = Blueprint("privacy", __name__, description="Working hours and track reads")


HH_MM = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"  # HH:MM in, HH:MM:SS answered


class WorkingSpanSchema(Schema):
    weekday = fields.Integer(
        required=True,
        validate=validate.Range(0, 6),
        metadata={"description": "0 is Monday, 6 is Sunday"},
    )
    starts = fields.Time(required=True, metadata={"example": "08:00", "pattern": HH_MM})
    ends = fields.Time(required=True, metadata={"example": "18:00", "pattern": HH_MM})


class WorkingHoursSchema(Schema):
    timezone = fields.String(dump_only=True, metadata={"description": "the organization's"})
    hours = fields.List(
        fields.Nested(WorkingSpanSchema),
        required=True,
        validate=validate.Length(max=7),
        metadata={"description": "no spans: positions are taken whenever one is on duty"},
    )


class ViewerSchema(Schema):
    id = fields.UUID()
    name = fields.String()


class TrackViewSchema(Schema):
    viewer = fields.Nested(ViewerSchema)
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    viewed_at = fields.AwareDateTime()


def _answer(hours: list[dict[str, Any]]) -> dict[str, Any]:
    principal = current_principal()
    return {
        "timezone": organization_timezone(session(), principal.organization_id),
        "hours": hours,
    }


@blp.route("/settings/working-hours")
@login_required
@blp.response(200, WorkingHoursSchema)
def get_working_hours() -> dict[str, Any]:
    """The organization's working hours: outside them, positions are stored nowhere."""
    return _answer(privacy.working_hours(session(), current_principal().organization_id))


@blp.route("/settings/working-hours", methods=["PUT"])
@login_required  # 401 before any 422
@blp.arguments(WorkingHoursSchema)
@blp.response(200, WorkingHoursSchema)
@blp.alt_response(422, **refusal("a weekday twice, or a span that does not start before it ends"))
def put_working_hours(body: dict[str, Any]) -> dict[str, Any]:
    """Replace the working hours (dispatchers); `hours: []` lifts the limit."""
    return _answer(privacy.set_working_hours(session(), current_principal(), body["hours"]))


@blp.route("/me/track-views")
@login_required
@blp.response(200, TrackViewSchema(many=True))
def my_track_views() -> list[dict[str, Any]]:
    """Who read the caller's track (the last 200 reads, newest first)."""
    return privacy.track_views_of(session(), current_principal())


blueprints: tuple[Blueprint, ...] = (blp,)
