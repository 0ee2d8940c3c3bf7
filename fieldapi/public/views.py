"""HTTP endpoints of the customer's side: the tracking API and page, the booking API and
page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint as PageBlueprint
from flask import Response, current_app, render_template, url_for
from flask_smorest import Blueprint

from fieldapi.accounts.passcodes import PasscodeRules
from fieldapi.accounts.schemas import PasscodeSentSchema
from fieldapi.db import session, utcnow
from fieldapi.errors import NotFound, Unprocessable
from fieldapi.extensions import client_address, rate_limited
from fieldapi.public.booking import (
    BookingRequest,
    booking_organization,
    request_booking_code,
    submit_booking,
)
from fieldapi.public.schemas import (
    BookingCreatedSchema,
    BookingPasscodeRequestSchema,
    BookingRequestSchema,
    TrackingSchema,
)
from fieldapi.public.tracking import TrackingSettings, tracking_status

blp = Blueprint(
    "tracking", __name__, url_prefix="/tracking", description="The customer's tracking link"
)
pages = PageBlueprint(
    "public_pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/public/static",
)


def _status(token: str) -> dict[str, Any]:
    settings = TrackingSettings.from_config(current_app.config)
    return tracking_status(session(), token, now=utcnow(), settings=settings)


@blp.route("/<token>", methods=["GET"])
@blp.doc(security=[])
@rate_limited("TRACKING_RATE_LIMIT")
@blp.response(200, TrackingSchema)
@blp.alt_response(404, description="Unknown or expired token")
def get_tracking(token: str) -> dict[str, Any]:
    """A visit as its customer follows it (no auth: the token is the key)."""
    return _status(token)


@pages.route("/t/<token>", methods=["GET"])
@rate_limited("TRACKING_RATE_LIMIT")
def tracking_page(token: str) -> Response | tuple[str, int]:
    """The live tracking page of the on-my-way text."""
    try:
        status = _status(token)
    except NotFound:
        return render_template("gone.html"), 404
    html = render_template(
        "tracking.html",
        status=status,
        api_url=url_for("tracking.get_tracking", token=token),
        refresh_ms=current_app.config["TRACKING_REFRESH_SECONDS"] * 1000,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'"
    )
    return response


bookings = Blueprint(
    "bookings", __name__, url_prefix="/bookings", description="The customers' booking page"
)


def _passcode_rules() -> PasscodeRules:
    return PasscodeRules.from_config(current_app.config)


def _blank_to_error(body: dict[str, Any], names: tuple[str, ...]) -> None:
    blank = {name: ["Blank."] for name in names if not str(body.get(name, "")).strip()}
    if blank:
        raise Unprocessable("Some fields are blank.", errors=blank)


@bookings.route("/<slug>/passcode", methods=["POST"])
@bookings.doc(security=[])
@rate_limited("BOOKING_RATE_LIMIT")
@bookings.arguments(BookingPasscodeRequestSchema)
@bookings.response(202, PasscodeSentSchema)
@bookings.alt_response(404, description="Unknown slug, or booking turned off")
def post_booking_passcode(body: dict[str, Any], slug: str) -> Any:
    """Text a code to the customer's number, to prove it before a request is taken."""
    config = current_app.config
    return request_booking_code(
        session(),
        slug,
        body["phone"],
        secret_key=config["SECRET_KEY"],
        now=utcnow(),
        rules=_passcode_rules(),
    )


@bookings.route("/<slug>", methods=["POST"])
@bookings.doc(security=[])
@rate_limited("BOOKING_RATE_LIMIT")
@bookings.arguments(BookingRequestSchema)
@bookings.response(201, BookingCreatedSchema)
@bookings.alt_response(404, description="Unknown slug, or booking turned off")
def post_booking(body: dict[str, Any], slug: str) -> dict[str, Any]:
    """Ask for a visit: the organization sees an `offered` job with `source: booking`."""
    _blank_to_error(body, ("name", "address", "description"))
    windows = tuple((w["start"], w["end"]) for w in body.pop("preferred_windows"))
    text = {k: v.strip() for k, v in body.items() if isinstance(v, str)}
    request = BookingRequest(
        name=text["name"],
        phone=text["phone"],
        passcode=text["passcode"],
        address=text["address"],
        description=text["description"],
        email=text.get("email"),
        lat=body.get("lat"),
        lon=body.get("lon"),
        preferred_windows=windows,
    )
    job_id = submit_booking(
        session(),
        slug,
        request,
        source=client_address(),
        secret_key=current_app.config["SECRET_KEY"],
        now=utcnow(),
        rules=_passcode_rules(),
    )
    return {"request_id": job_id}


@pages.route("/book/<slug>", methods=["GET"])
@rate_limited("TRACKING_RATE_LIMIT")
def booking_page(slug: str) -> Response | tuple[str, int]:
    """The organization's booking page: a form, the SMS code, the confirmation."""
    try:
        organization = booking_organization(session(), slug)
    except NotFound:
        return render_template("gone.html", missing="booking"), 404
    html = render_template(
        "booking.html",
        organization_name=organization.name,
        passcode_url=url_for("bookings.post_booking_passcode", slug=slug),
        booking_url=url_for("bookings.post_booking", slug=slug),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "form-action 'self'"
    )
    return response


blueprints: tuple[Blueprint, ...] = (blp, bookings)
