"""HTTP endpoints of locations: ping ingest, duty, the team map, tracks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import Response, current_app, request
from flask_smorest import Blueprint

from fieldapi.accounts.auth import (
    bearer_token,
    current_principal,
    login_required,
)
from fieldapi.accounts.policy import require_manager
from fieldapi.db import database, session, utcnow
from fieldapi.errors import DomainError, refusal
from fieldapi.idempotency import idempotent_view_authenticates, key_sent
from fieldapi.input_guard import JSON_TYPE, takes_body
from fieldapi.locations import service
from fieldapi.locations.body import read_ping_batch
from fieldapi.locations.ingest import ingest_request
from fieldapi.locations.schemas import (
    TRACK_DEFAULT_WINDOW,
    DutySchema,
    IngestResultSchema,
    PingBatchSchema,
    TeamMapQuerySchema,
    TeamMapSchema,
    TrackQuerySchema,
    TrackSchema,
)
from fieldapi.metrics import count_pings

# Paths are given whole ("/locations", "/team/locations", ...): accounts owns /team and /me.
blp = Blueprint("locations", __name__, description="Location pings, the team map and tracks")

_PING_BATCH_BODY = {"required": True, "content": {"application/json": {"schema": PingBatchSchema}}}


def _limits() -> service.Limits:
    return service.Limits.from_config(current_app.config)


@blp.route("/locations", methods=["POST"])
@takes_body(JSON_TYPE, parsed_by_view=True)
@idempotent_view_authenticates
@blp.doc(requestBody=_PING_BATCH_BODY)
@blp.response(200, IngestResultSchema)
@blp.alt_response(413, description="Over 500 pings or over MAX_JSON_BYTES")
@blp.alt_response(422, **refusal("an `Idempotency-Key` already used for another body"))
def post_locations() -> Response:
    """Upload 1 to 500 of the caller's pings.

    Each ping is validated on its own: bad ones are listed in `rejected` and do not sink
    the batch; a ping with the same `recorded_at` as a stored one is a duplicate.
    """
    raw_pings = _read_batch()
    now = utcnow()
    result = ingest_request(
        session(),
        raw_pings=raw_pings,
        access_token=bearer_token(),
        keyed=key_sent(),
        authenticate=current_principal,
        connect=database().autocommit,
        secret_key=current_app.config["SECRET_KEY"],
        now=now,
        limits=_limits(),
        config=current_app.config,
    )
    count_pings(result.stored, result.duplicates, len(result.rejected))
    # IngestResultSchema's shape written directly: the hottest endpoint skips a dump
    # of plain ints and strings.
    return Response(service.ingest_result_json(result), mimetype="application/json")


def _read_batch() -> list[Any]:
    try:
        return read_ping_batch(request, current_app.config["MAX_JSON_BYTES"])
    except DomainError:
        current_principal()  # without a valid token it is a 401, whatever the body
        raise


@blp.route("/me/duty", methods=["PUT"])
@login_required  # 401 before any 422
@blp.arguments(DutySchema)
@blp.response(200, DutySchema)
def put_duty(body: dict[str, Any]) -> dict[str, Any]:
    """Go on or off duty; off duty, the caller's pings are not stored."""
    on_duty = service.set_duty(session(), current_principal(), body["on_duty"])
    return {"on_duty": on_duty}


@blp.route("/team/locations")
@login_required  # 401 before any 422
@blp.arguments(TeamMapQuerySchema, location="query")
@blp.response(200, TeamMapSchema)
@blp.alt_response(422, **refusal("a `bbox` whose south edge is above its north edge"))
def team_locations(query: dict[str, Any]) -> Response:
    """The team map: each on-duty member's latest position (GeoJSON).

    One Point per active, on-duty member with a position, `stale` when older than
    LOCATION_STALE_AFTER, with the appointment they are en route to or working on.
    Dispatchers only.
    """
    principal = current_principal()
    require_manager(principal, "see the team map")
    body = service.team_map_json(
        session(),
        principal.organization_id,
        now=utcnow(),
        limits=_limits(),
        bbox=query.get("bbox"),
    )
    return Response(body, mimetype="application/json")


@blp.route("/users/<uuid:user_id>/track")
@login_required  # 401 before any 422
@blp.arguments(TrackQuerySchema, location="query", as_kwargs=True)
@blp.response(200, TrackSchema)
@blp.alt_response(422, **refusal("`until` not after `since`, or more than 7 days later"))
def user_track(
    user_id: uuid.UUID,
    since: datetime | None = None,
    until: datetime | None = None,
    tolerance_m: float | None = None,
) -> dict[str, Any]:
    """A user's track: the LineString of their good fixes in a window of up to 7 days
    (by default the 8 hours until now)."""
    until = until or utcnow()
    since = since or until - TRACK_DEFAULT_WINDOW
    return service.user_track(
        session(),
        current_principal(),
        user_id,
        since=since,
        until=until,
        tolerance_m=tolerance_m,
        limits=_limits(),
    )


blueprints: tuple[Blueprint, ...] = (blp,)
