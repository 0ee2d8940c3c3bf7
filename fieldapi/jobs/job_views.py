"""HTTP endpoints: jobs, their actions, appointments, activity log, notes and photos."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from fieldapi import lifecycle as lc
from fieldapi.accounts.auth import current_principal, login_required
from fieldapi.db import session, utcnow
from fieldapi.errors import refusal
from fieldapi.idempotency import idempotent
from fieldapi.input_guard import MULTIPART_TYPE, takes_body
from fieldapi.jobs import activity, attachments, commands, queries
from fieldapi.jobs.answers import AppointmentAnswer, JobDetail
from fieldapi.jobs.models import JobNote, JobPhoto
from fieldapi.jobs.schemas import (
    ActivityPageSchema,
    AppointmentCreateSchema,
    CalendarAppointmentSchema,
    JobActionSchema,
    JobCreateSchema,
    JobPageSchema,
    JobQuerySchema,
    JobSchema,
    JobUpdateSchema,
    NoteCreateSchema,
    NotePageSchema,
    NoteSchema,
    PhotoFileSchema,
    PhotoFormSchema,
    PhotoPageSchema,
    PhotoSchema,
    PhotoUploadSchema,
)
from fieldapi.jobs.texts import TextSettings
from fieldapi.jobs.views_common import job_answer, page_answer
from fieldapi.pagination import PageQuerySchema
from fieldapi.storage import photo_store

blp = Blueprint("jobs", __name__, url_prefix="/jobs", description="Jobs and their actions")
_PHOTO_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": PhotoUploadSchema}},
}


@blp.route("", methods=["POST"])
@idempotent
@blp.arguments(JobCreateSchema)
@blp.response(201, JobSchema)
def create_job(body: dict[str, Any]) -> JobDetail:
    """Create a job (dispatchers): `scheduled` with an appointment, else `unscheduled`."""
    appointment = body.pop("appointment", None)
    job_id = commands.create_job(
        session(),
        current_principal(),
        appointment=None if appointment is None else commands.AppointmentInput(**appointment),
        now=utcnow(),
        settings=TextSettings.from_config(current_app.config),
        **body,
    )
    return job_answer(job_id)


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(JobQuerySchema, location="query")
@blp.response(200, JobPageSchema)
@blp.alt_response(422, **refusal("a `cursor` that is not a `next_cursor` of this list"))
def list_jobs(query: dict[str, Any]) -> dict[str, Any]:
    """Jobs, newest first, filtered by `status` (comma separated), customer or technician."""
    statuses = query.pop("status", None) or ()
    return page_answer(
        queries.list_jobs(session(), current_principal(), statuses=statuses, **query)
    )


@blp.route("/<uuid:job_id>", methods=["GET"])
@login_required
@blp.response(200, JobSchema)
def get_job(job_id: uuid.UUID) -> JobDetail:
    """A job with its status, appointments and the actions the caller may take."""
    return job_answer(job_id)


@blp.route("/<uuid:job_id>", methods=["PATCH"])
@login_required
@blp.arguments(JobUpdateSchema)
@blp.response(200, JobSchema)
def update_job(body: dict[str, Any], job_id: uuid.UUID) -> JobDetail:
    """Edit a job's title or description (dispatchers)."""
    commands.update_job(session(), current_principal(), job_id, body, now=utcnow())
    return job_answer(job_id)


def _act(job_id: uuid.UUID, action: lc.ActionName, body: dict[str, Any]) -> None:
    commands.job_action(
        session(),
        current_principal(),
        job_id,
        action,
        reason=body.get("reason"),
        now=utcnow(),
        settings=TextSettings.from_config(current_app.config),
    )


def _job_action(job_id: uuid.UUID, action: lc.ActionName, body: dict[str, Any]) -> JobDetail:
    _act(job_id, action, body)
    return job_answer(job_id)


@blp.route("/<uuid:job_id>/actions/accept", methods=["POST"])
@idempotent
@blp.arguments(JobActionSchema, required=False)
@blp.response(200, JobSchema)
@blp.alt_response(409, description="Not an open offer; `errors.allowed_actions`")
def accept_job(body: dict[str, Any], job_id: uuid.UUID) -> JobDetail:
    """Accept an offered job: it becomes `unscheduled`."""
    return _job_action(job_id, lc.ActionName.ACCEPT, body)


@blp.route("/<uuid:job_id>/actions/decline", methods=["POST"])
@idempotent
@blp.arguments(JobActionSchema, required=False)
@blp.response(204)
@blp.alt_response(409, description="Not an open offer; `errors.allowed_actions`")
def decline_job(body: dict[str, Any], job_id: uuid.UUID) -> None:
    """Decline an offered job; the organization loses access to it (404 afterwards)."""
    _act(job_id, lc.ActionName.DECLINE, body)


@blp.route("/<uuid:job_id>/actions/cancel", methods=["POST"])
@idempotent
@blp.arguments(JobActionSchema, required=False)
@blp.response(200, JobSchema)
@blp.alt_response(409, description="Refused in this status; `errors.allowed_actions`")
def cancel_job(body: dict[str, Any], job_id: uuid.UUID) -> JobDetail:
    """Cancel a job and every active appointment of it (dispatchers)."""
    return _job_action(job_id, lc.ActionName.CANCEL, body)


@blp.route("/<uuid:job_id>/actions/reopen", methods=["POST"])
@idempotent
@blp.arguments(JobActionSchema, required=False)
@blp.response(200, JobSchema)
@blp.alt_response(409, description="Not canceled; `errors.allowed_actions`")
def reopen_job(body: dict[str, Any], job_id: uuid.UUID) -> JobDetail:
    """Reopen a canceled job: the appointments canceled with it are active again."""
    return _job_action(job_id, lc.ActionName.REOPEN, body)


@blp.route("/<uuid:job_id>/appointments", methods=["POST"])
@idempotent
@blp.arguments(AppointmentCreateSchema)
@blp.response(201, CalendarAppointmentSchema)
@blp.alt_response(409, description="Refused in this status (offered, canceled)")
def add_appointment(body: dict[str, Any], job_id: uuid.UUID) -> AppointmentAnswer:
    """Schedule an appointment on a job (dispatchers); the job becomes `scheduled`."""
    db, principal = session(), current_principal()
    appointment_id = commands.add_appointment(
        db,
        principal,
        job_id,
        commands.AppointmentInput(**body),
        now=utcnow(),
        settings=TextSettings.from_config(current_app.config),
    )
    return queries.get_appointment(db, principal, appointment_id)


@blp.route("/<uuid:job_id>/activity", methods=["GET"])
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, ActivityPageSchema)
def job_activity(query: dict[str, Any], job_id: uuid.UUID) -> dict[str, Any]:
    """The job's activity log, oldest first: status changes, texts, notes, photos."""
    return page_answer(activity.list_activity(session(), current_principal(), job_id, **query))


@blp.route("/<uuid:job_id>/notes", methods=["POST"])
@idempotent
@blp.arguments(NoteCreateSchema)
@blp.response(201, NoteSchema)
def add_note(body: dict[str, Any], job_id: uuid.UUID) -> JobNote:
    """Add a note (`private` by default; `public` also shows to the job's enterprise)."""
    db, principal = session(), current_principal()
    note = attachments.add_note(db, principal, job_id, now=utcnow(), **body)
    return note


@blp.route("/<uuid:job_id>/notes", methods=["GET"])
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, NotePageSchema)
def list_notes(query: dict[str, Any], job_id: uuid.UUID) -> dict[str, Any]:
    """The job's notes, oldest first."""
    return page_answer(attachments.list_notes(session(), current_principal(), job_id, **query))


@blp.route("/<uuid:job_id>/photos", methods=["POST"])
@takes_body(MULTIPART_TYPE)
@idempotent
@blp.doc(requestBody=_PHOTO_BODY)
@blp.arguments(PhotoFormSchema, location="form")
@blp.arguments(PhotoFileSchema, location="files")
@blp.response(201, PhotoSchema)
@blp.alt_response(413, description="Over MAX_PHOTO_BYTES")
@blp.alt_response(415, description="Not a JPEG, PNG or HEIC file")
def add_photo(form: dict[str, Any], files: dict[str, Any], job_id: uuid.UUID) -> JobPhoto:
    """Upload a photo (multipart `file`, `visibility`): JPEG, PNG or HEIC by content."""
    db, principal, config = session(), current_principal(), current_app.config
    photo = attachments.add_photo(
        db,
        principal,
        job_id,
        data=files["file"].stream.read(config["MAX_PHOTO_BYTES"] + 1),
        visibility=form["visibility"],
        now=utcnow(),
        store=photo_store(config),
        max_bytes=config["MAX_PHOTO_BYTES"],
    )
    return photo


@blp.route("/<uuid:job_id>/photos", methods=["GET"])
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, PhotoPageSchema)
def list_photos(query: dict[str, Any], job_id: uuid.UUID) -> dict[str, Any]:
    """The job's photos (metadata; the bytes at each `url`), oldest first."""
    return page_answer(attachments.list_photos(session(), current_principal(), job_id, **query))
