"""HTTP endpoints: photos by id, and the organization's complete reasons."""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask import Response, current_app, send_file
from flask_smorest import Blueprint

from fieldapi.accounts.auth import current_principal, login_required
from fieldapi.db import session
from fieldapi.errors import NotFound, refusal
from fieldapi.jobs import attachments, reasons
from fieldapi.jobs.models import JobPhoto
from fieldapi.jobs.photo_content import PHOTO_TYPES
from fieldapi.jobs.schemas import CompleteReasonSchema
from fieldapi.storage import StoredFileMissing, photo_store

photos_blp = Blueprint("photos", __name__, url_prefix="/photos", description="Job photos")
reasons_blp = Blueprint(
    "complete_reasons",
    __name__,
    url_prefix="/settings/complete-reasons",
    description="The organization's complete reasons",
)
PHOTO_CONTENT = {
    "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in sorted(PHOTO_TYPES)}
}


@photos_blp.route("/<uuid:photo_id>", methods=["GET"])
@photos_blp.doc(responses={200: PHOTO_CONTENT})
@login_required
def get_photo(photo_id: uuid.UUID) -> Response:
    """A photo's bytes, for those who may see it."""
    return photo_response(attachments.get_photo(session(), current_principal(), photo_id))


def photo_response(photo: JobPhoto) -> Response:
    """A photo's bytes from the store, cached privately by its hash."""
    try:
        data = photo_store(current_app.config).load(photo.storage_key)
    except StoredFileMissing as error:
        raise NotFound("The photo's file is missing.") from error
    response = send_file(
        io.BytesIO(data),
        mimetype=photo.content_type,
        etag=photo.sha256,
        max_age=3600,
        conditional=True,
    )
    response.cache_control.private = True
    # Only ever an image: never sniffed as anything else, never rendered as a page.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    extension = {"image/jpeg": "jpg", "image/png": "png"}.get(photo.content_type, "heic")
    response.headers["Content-Disposition"] = f'inline; filename="{photo.id}.{extension}"'
    return response


def _reasons_answer(rows: list[Any]) -> list[dict[str, Any]]:
    return [{"code": r.code, "label": r.label, "outcome": r.outcome} for r in rows]


@reasons_blp.route("", methods=["GET"])
@login_required
@reasons_blp.response(200, CompleteReasonSchema(many=True))
def list_complete_reasons() -> list[dict[str, Any]]:
    """The complete reasons, in order (everyone: technicians pick one to complete)."""
    return _reasons_answer(reasons.list_reasons(session(), current_principal().organization_id))


@reasons_blp.route("", methods=["PUT"])
@login_required
@reasons_blp.arguments(CompleteReasonSchema(many=True))
@reasons_blp.response(200, CompleteReasonSchema(many=True))
@reasons_blp.alt_response(
    422, **refusal("not 1 to 50 reasons, a `code` twice, or no reason with outcome `complete`")
)
def replace_complete_reasons(body: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace the list (dispatchers): codes unique, at least one `complete` outcome.

    Appointments completed with a removed code keep it.
    """
    return _reasons_answer(reasons.replace_reasons(session(), current_principal(), body))
