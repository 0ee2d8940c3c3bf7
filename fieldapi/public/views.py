"""HTTP endpoints of the customer's side: the tracking API and the tracking page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint as PageBlueprint
from flask import Response, current_app, render_template, url_for
from flask_smorest import Blueprint

from fieldapi.db import session, utcnow
from fieldapi.errors import NotFound
from fieldapi.extensions import rate_limited
from fieldapi.public.schemas import TrackingSchema
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


blueprints: tuple[Blueprint, ...] = (blp,)
