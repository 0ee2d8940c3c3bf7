"""HTTP endpoints the tracker apps post to (/ingest/osmand, /ingest/owntracks,
/ingest/overland): each reads its wire format, authenticates the device token and feeds
the pings to the one ingest service, then answers exactly what stops its client retrying.

A batch that is partly bad is still answered with success once the token is good and the
body readable: every client re-sends anything else forever (Traccar Client and OwnTracks
hold their whole queue behind it), and a bad fix never becomes good. The bad fixes are
stored nowhere; the answer says how many (a header for OsmAnd, whose body must be empty).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from flask import Request, Response, current_app, request
from flask_smorest import Blueprint

from fieldapi.db import database, session, utcnow, writing_request
from fieldapi.errors import BadRequest, DomainError, PayloadTooLarge, Unauthorized
from fieldapi.input_guard import JSON_TYPE, takes_body
from fieldapi.jobs.en_route import DriveSettings, arrive_at_site
from fieldapi.locations import arrival, devices, service
from fieldapi.locations.body import parse_json
from fieldapi.locations.ingest import ingest_device_pings
from fieldapi.locations.protocols import osmand, overland, owntracks
from fieldapi.metrics import count_pings

blp = Blueprint(
    "trackers", __name__, url_prefix="/ingest", description="Tracker apps we did not write"
)

FORM_TYPE = "application/x-www-form-urlencoded"
OSMAND_UNKNOWN = "Unknown or revoked device id."
REJECTED_HEADER = "X-Fieldapi-Rejected"


def _body(req: Request) -> bytes:
    limit = current_app.config["MAX_JSON_BYTES"]
    if req.content_length is not None and req.content_length > limit:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
    data = req.get_data(cache=True)
    if len(data) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
    return data


def _json(data: bytes) -> Any:
    try:
        return parse_json(data)
    except (ValueError, RecursionError) as error:
        raise BadRequest("The body is not valid JSON.") from error


def _ingest(
    token: str | None, raw_pings: list[Any]
) -> tuple[devices.DeviceOwner, service.IngestResult] | None:
    """The device's owner and what was stored; None for an unknown or revoked token."""
    if not token:
        return None
    ingested = ingest_device_pings(
        session(),
        token=token,
        raw_pings=raw_pings,
        connect=database().autocommit,
        secret_key=current_app.config["SECRET_KEY"],
        now=utcnow(),
        limits=service.Limits.from_config(current_app.config),
        config=current_app.config,
    )
    if ingested is not None:
        result = ingested[1]
        count_pings(result.stored, result.duplicates, len(result.rejected))
    return ingested


def _owner(token: str | None) -> devices.DeviceOwner | None:
    if not token:
        return None
    return devices.device_owner(session(), token, secret_key=current_app.config["SECRET_KEY"])


def _owntracks_unauthorized() -> Unauthorized:
    return Unauthorized(
        "Unknown or revoked device token (HTTP Basic: any user, the token as password).",
        headers={"WWW-Authenticate": 'Basic realm="fieldapi"'},
    )


def _owner_or(token: str | None, refused: Unauthorized) -> devices.DeviceOwner:
    """The token's owner, or `refused` raised."""
    owner = _owner(token)
    if owner is None:
        raise refused
    return owner


def _rejected_header(result: service.IngestResult) -> dict[str, str]:
    if not result.rejected:
        return {}
    first = result.rejected[0].message.encode("ascii", "replace").decode()
    return {REJECTED_HEADER: f"{len(result.rejected)}; {first}"}


@blp.route("/osmand", methods=["GET", "POST", "PUT"])
@takes_body(JSON_TYPE, FORM_TYPE, parsed_by_view=True)
@blp.doc(security=[])
@blp.response(200, description="Accepted (empty body); the client drops the position")
@blp.alt_response(400, description="Unknown or revoked device id, or an unreadable body")
def ingest_osmand() -> Response:
    """Traccar Client and OsmAnd: query or form fields, or Traccar Client's JSON."""
    writing_request()
    now = utcnow()
    data = _body(request)
    try:
        if request.is_json:
            upload = osmand.from_json(_json(data), query_token=request.args.get("id"), now=now)
        elif request.args:
            upload = osmand.from_fields(request.args, now=now)
        else:
            upload = osmand.from_fields(request.form, now=now)
    except osmand.NotOsmAnd as error:
        raise BadRequest(str(error)) from error
    ingested = _ingest(upload.token, upload.pings)
    if ingested is None:
        raise BadRequest(OSMAND_UNKNOWN)
    return Response(b"", status=200, headers=_rejected_header(ingested[1]))


def _basic_password() -> str | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] or None


@blp.route("/owntracks", methods=["POST"])
@blp.doc(security=[])  # HTTP Basic, the token as password: see the summary
@blp.response(200, description="A JSON array: [] or commands for the phone")
@blp.alt_response(401, description="Unknown or revoked device token (the Basic password)")
def ingest_owntracks() -> Response:
    """OwnTracks in HTTP mode: any user name, the device token as the password."""
    token = _basic_password()
    try:
        data = _body(request)
        message = _json(data) if data.strip() else None
        kind = owntracks.message_type(message)
    except owntracks.NotOwnTracks as error:
        _owner_or(token, _owntracks_unauthorized())  # no valid token: a 401, whatever the body
        raise BadRequest(str(error)) from error
    except DomainError:
        _owner_or(token, _owntracks_unauthorized())
        raise
    result, answer = None, []
    if kind in ("location", "transition") and isinstance(message, dict):
        # A transition's position, where the phone crossed the geofence, is a fix like any
        # other: validation, duty and working hours decide whether it counts.
        fix = owntracks.location_ping(message)
        ingested = _ingest(token, [fix])
        if ingested is None:
            raise _owntracks_unauthorized()
        owner, result = ingested
        if kind == "location":
            answer = _waypoints(owner)
        elif message.get("event") == "enter" and not result.rejected:
            arrive_at_site(
                session(),
                organization_id=owner.organization_id,
                technician_id=owner.user_id,
                lat=fix["lat"],
                lon=fix["lon"],
                accuracy_m=fix["accuracy_m"],
                at=datetime.fromisoformat(fix["recorded_at"]),
                now=utcnow(),
                settings=DriveSettings.from_config(current_app.config),
                source="owntracks_transition",
            )
    else:
        _owner_or(token, _owntracks_unauthorized())
    headers = _rejected_header(result) if result else {}
    return Response(json.dumps(answer), status=200, mimetype="application/json", headers=headers)


def _waypoints(owner: devices.DeviceOwner) -> list[dict[str, Any]]:
    """`setWaypoints` with the user's sites for today, when there are any.

    Read in autocommit: a transaction that only read ends in a ROLLBACK, and psycopg drops
    a connection's prepared statements on a ROLLBACK, so the one-ping statement that runs
    on that connection next would be planned afresh on every location message."""
    with database().read_sessions() as db:
        sites = arrival.todays_sites(db, owner.organization_id, owner.user_id, now=utcnow())
    return [owntracks.set_waypoints(sites, current_app.config["ARRIVAL_RADIUS_M"])] if sites else []


@blp.route("/overland", methods=["POST"])
@blp.response(200, description='{"result": "ok"} and the counts')
@blp.alt_response(401, description="Unknown or revoked device token")
def ingest_overland() -> dict[str, Any]:
    """Overland: a batch of GeoJSON Features, `Authorization: Bearer <device token>`."""
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    token = sent.strip() if scheme.lower() == "bearer" else None
    refused = Unauthorized("Unknown or revoked device token (Authorization: Bearer <token>).")
    try:
        pings = overland.batch_pings(_json(_body(request)))
    except overland.NotOverland as error:
        _owner_or(token, refused)  # no valid token: a 401, whatever the body
        raise BadRequest(str(error)) from error
    except DomainError:
        _owner_or(token, refused)
        raise
    ingested = _ingest(token, pings)
    if ingested is None:
        raise refused
    result = ingested[1]
    return {
        "result": "ok",
        "stored": result.stored,
        "duplicates": result.duplicates,
        "rejected": [{"index": r.index, "message": r.message} for r in result.rejected],
    }


blueprints: tuple[Blueprint, ...] = (blp,)
