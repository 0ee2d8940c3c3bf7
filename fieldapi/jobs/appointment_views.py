"""HTTP endpoints: the calendar, appointments and their actions."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from fieldapi import lifecycle as lc
from fieldapi.accounts.auth import current_principal, login_required
from fieldapi.db import session, utcnow
from fieldapi.errors import Unprocessable, refusal
from fieldapi.idempotency import idempotent
from fieldapi.jobs import commands, queries
from fieldapi.jobs.answers import AppointmentAnswer, JobDetail, JobWithEta
from fieldapi.jobs.calendar_window import calendar_window
from fieldapi.jobs.schemas import (
    AppointmentUpdateSchema,
    CalendarAppointmentSchema,
    CalendarPageSchema,
    CalendarQuerySchema,
    CompleteSchema,
    EmptySchema,
    JobSchema,
    JobWithEtaSchema,
    OnMyWaySchema,
    PauseSchema,
)
from fieldapi.jobs.texts import TextSettings
from fieldapi.jobs.views_common import page_answer

blp = Blueprint(
    "appointments", __name__, url_prefix="/appointments", description="Calendar and visits"
)
REFUSED = "Refused in this status; `errors.allowed_actions` lists what is allowed"


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(CalendarQuerySchema, location="query")
@blp.response(200, CalendarPageSchema)
@blp.alt_response(
    422,
    **refusal(
        "a `cursor` that is not a `next_cursor` of this list; "
        "`to` not after `from` or more than 62 days later"
    ),
)
def calendar(query: dict[str, Any]) -> dict[str, Any]:
    """The calendar: appointments overlapping [from, to); technicians see their own.
    Without `from` and `to`: today in the organization's timezone."""
    db, principal = session(), current_principal()
    start, end = calendar_window(
        db,
        principal.organization_id,
        start=query.pop("from_", None),
        end=query.pop("to", None),
        now=utcnow(),
    )
    return page_answer(queries.calendar(db, principal, start=start, end=end, **query))


@blp.route("/<uuid:appointment_id>", methods=["GET"])
@login_required
@blp.response(200, CalendarAppointmentSchema)
def get_appointment(appointment_id: uuid.UUID) -> AppointmentAnswer:
    """One appointment, with its job and customer."""
    return queries.get_appointment(session(), current_principal(), appointment_id)


@blp.route("/<uuid:appointment_id>", methods=["PATCH"])
@login_required
@blp.arguments(AppointmentUpdateSchema)
@blp.response(200, CalendarAppointmentSchema)
@blp.alt_response(409, description="Only scheduled appointments change")
def update_appointment(body: dict[str, Any], appointment_id: uuid.UUID) -> AppointmentAnswer:
    """Reschedule or reassign a scheduled appointment (dispatchers); no status changes."""
    db, principal = session(), current_principal()
    settings = TextSettings.from_config(current_app.config)
    commands.update_appointment(
        db, principal, appointment_id, body, now=utcnow(), settings=settings
    )
    return queries.get_appointment(db, principal, appointment_id)


@blp.route("/<uuid:appointment_id>", methods=["DELETE"])
@login_required
@blp.response(204)
@blp.alt_response(409, description=REFUSED)
def delete_appointment(appointment_id: uuid.UUID) -> None:
    """Delete a scheduled appointment (dispatchers); with no other, the job is unscheduled."""
    commands.delete_appointment(session(), current_principal(), appointment_id, now=utcnow())


def _act(appointment_id: uuid.UUID, action: lc.ActionName, **values: Any) -> JobDetail:
    db, principal = session(), current_principal()
    result = commands.appointment_action(
        db,
        principal,
        appointment_id,
        action,
        now=utcnow(),
        settings=TextSettings.from_config(current_app.config),
        **values,
    )
    job, technicians, reasons = result.job, result.technicians, result.complete_reasons
    if result.eta is None:
        return JobDetail(job, technicians, principal, reasons)
    return JobWithEta(job, technicians, principal, reasons, result.eta.as_dict())


@blp.route("/<uuid:appointment_id>/actions/on-my-way", methods=["POST"])
@idempotent
@blp.arguments(OnMyWaySchema, required=False)
@blp.response(200, JobWithEtaSchema)
@blp.alt_response(409, description=REFUSED)
@blp.alt_response(422, **refusal("`lat` without `lon`, or `lon` without `lat`"))
def on_my_way(body: dict[str, Any], appointment_id: uuid.UUID) -> JobDetail:
    """On my way: the customer gets a text with the technician's name and ETA.

    `lat`/`lon` (together) are the phone's position; without them the technician's latest
    fresh ping is used, and with neither the text goes without a time.
    """
    if ("lat" in body) != ("lon" in body):
        raise Unprocessable("Send lat and lon together.", errors={"lat": ["With lon."]})
    position = (body["lat"], body["lon"]) if "lat" in body else None
    return _act(appointment_id, lc.ActionName.ON_MY_WAY, position=position)


@blp.route("/<uuid:appointment_id>/actions/start", methods=["POST"])
@idempotent
@blp.arguments(EmptySchema, required=False)
@blp.response(200, JobSchema)
@blp.alt_response(409, description=REFUSED)
def start(_body: dict[str, Any], appointment_id: uuid.UUID) -> JobDetail:
    """Start the visit; the customer is texted that the technician arrived (if enabled)."""
    return _act(appointment_id, lc.ActionName.START)


@blp.route("/<uuid:appointment_id>/actions/pause", methods=["POST"])
@idempotent
@blp.arguments(PauseSchema, required=False)
@blp.response(200, JobSchema)
@blp.alt_response(409, description=REFUSED)
def pause(body: dict[str, Any], appointment_id: uuid.UUID) -> JobDetail:
    """Pause: the visit ends unfinished (`reason` optional); the job becomes `paused`."""
    return _act(appointment_id, lc.ActionName.PAUSE, reason=body.get("reason"))


@blp.route("/<uuid:appointment_id>/actions/complete", methods=["POST"])
@idempotent
@blp.arguments(CompleteSchema)
@blp.response(200, JobSchema)
@blp.alt_response(409, description=REFUSED)
def complete(body: dict[str, Any], appointment_id: uuid.UUID) -> JobDetail:
    """Complete the visit with a complete reason; its outcome completes or pauses the job.

    The customer gets a survey text.
    """
    return _act(appointment_id, lc.ActionName.COMPLETE, reason_code=body["reason_code"])
