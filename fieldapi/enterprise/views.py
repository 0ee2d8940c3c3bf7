"""HTTP endpoints of the enterprise side (`/v1/enterprise/...`, managers) and the
provider's answers to connection requests (`/v1/connections`, dispatchers)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, current_app
from flask_smorest import Blueprint

from fieldapi.accounts.auth import current_principal, login_required
from fieldapi.accounts.directory import OrganizationRef, organization_names
from fieldapi.db import session, utcnow
from fieldapi.enterprise import connections, jobs, offers, reminders, webhooks
from fieldapi.enterprise.access import require_enterprise_manager
from fieldapi.enterprise.job_schemas import EnterpriseJobSchema, PartyRefSchema
from fieldapi.enterprise.job_view import EnterpriseJob
from fieldapi.enterprise.models import Connection
from fieldapi.enterprise.schemas import (
    ConnectionRequestSchema,
    ConnectionSchema,
    DeliveryPageSchema,
    EnterpriseActivityPageSchema,
    EnterpriseJobPageSchema,
    EnterpriseJobQuerySchema,
    EnterpriseNotePageSchema,
    EnterprisePhotoPageSchema,
    OfferCreateSchema,
    ReminderCreateSchema,
    ReminderSchema,
    WebhookSaveSchema,
    WebhookSchema,
)
from fieldapi.enterprise.texts import TextRules
from fieldapi.idempotency import idempotent
from fieldapi.jobs import attachments, reasons
from fieldapi.jobs.schemas import CompleteReasonSchema
from fieldapi.jobs.settings_views import PHOTO_CONTENT, photo_response
from fieldapi.pagination import Page, PageQuerySchema

blp = Blueprint(
    "enterprise",
    __name__,
    url_prefix="/enterprise",
    description="The enterprise side (managers): connections, offers, jobs, webhooks",
)
connections_blp = Blueprint(
    "connections",
    __name__,
    url_prefix="/connections",
    description="Enterprises' connection requests, answered by the provider's dispatchers",
)


def _page(page: Page[Any]) -> dict[str, Any]:
    return {"items": page.items, "next_cursor": page.next_cursor}


def _connection_answer(connection: Connection) -> dict[str, Any]:
    names = organization_names(session(), {connection.organization_id, connection.enterprise_id})
    return {
        "id": connection.id,
        "state": connection.state,
        "provider": {"id": connection.organization_id, "name": names[connection.organization_id]},
        "enterprise": {"id": connection.enterprise_id, "name": names[connection.enterprise_id]},
        "created_at": connection.created_at,
        "updated_at": connection.updated_at,
        "ended_at": connection.ended_at,
        "ended_by": connection.ended_by,
    }


# -- connections, the enterprise's side ------------------------------------------------


@blp.route("/connections", methods=["POST"])
@idempotent
@login_required
@blp.arguments(ConnectionRequestSchema)
@blp.response(201, ConnectionSchema)
def request_connection(body: dict[str, Any]) -> dict[str, Any]:
    """Ask a provider to connect, with the code the provider gave (404 for an unknown code)."""
    found = connections.request_connection(
        session(), current_principal(), body["connection_code"], now=utcnow()
    )
    return _connection_answer(found)


@blp.route("/connections", methods=["GET"])
@login_required
@blp.response(200, ConnectionSchema(many=True))
def list_enterprise_connections() -> list[dict[str, Any]]:
    """The enterprise's connections, newest first."""
    rows = connections.enterprise_connections(session(), current_principal())
    return [_connection_answer(row) for row in rows]


@blp.route("/connections/<uuid:connection_id>", methods=["DELETE"])
@login_required
@blp.response(204)
def end_enterprise_connection(connection_id: uuid.UUID) -> None:
    """End a connection: no new offers; the jobs already offered stay."""
    connections.end_connection(session(), current_principal(), connection_id, now=utcnow())


@blp.route("/providers", methods=["GET"])
@login_required
@blp.response(200, PartyRefSchema(many=True))
def list_providers() -> list[OrganizationRef]:
    """The providers of the active connections: where offers can go."""
    return connections.connected_providers(session(), current_principal())


# -- offers and the enterprise's jobs --------------------------------------------------


@blp.route("/offers", methods=["POST"])
@idempotent
@login_required
@blp.arguments(OfferCreateSchema)
@blp.response(201, EnterpriseJobSchema)
@blp.alt_response(200, schema=EnterpriseJobSchema, description="the job of an earlier offer")
def create_offer(body: dict[str, Any]) -> tuple[EnterpriseJob, int]:
    """Offer a job to a connected provider (404 unless the connection is active).

    The provider sees it `offered` and its dispatchers get a text. A retry with the same
    `external_id` answers the job of the first offer (200) and changes nothing.
    """
    principal, db = current_principal(), session()
    offer = offers.OfferInput(
        provider_id=body["provider_id"],
        title=body["title"],
        customer=body["customer"],
        description=body.get("description"),
        external_id=body.get("external_id"),
        appointment_windows=body.get("appointment_windows") or [],
    )
    rules = TextRules.from_config(current_app.config)
    result = offers.make_offer(db, principal, offer, now=utcnow(), rules=rules)
    return jobs.get_job(db, principal, result.job_id), 201 if result.created else 200


@blp.route("/jobs", methods=["GET"])
@login_required
@blp.arguments(EnterpriseJobQuerySchema, location="query")
@blp.response(200, EnterpriseJobPageSchema)
def list_jobs(query: dict[str, Any]) -> dict[str, Any]:
    """The jobs the enterprise offered, newest first (`status`: the provider's, or
    `declined`)."""
    return _page(jobs.list_jobs(session(), current_principal(), **query))


@blp.route("/jobs/<uuid:job_id>", methods=["GET"])
@login_required
@blp.response(200, EnterpriseJobSchema)
def get_job(job_id: uuid.UUID) -> EnterpriseJob:
    """One job the enterprise offered, with the provider's status and appointments."""
    return jobs.get_job(session(), current_principal(), job_id)


@blp.route("/jobs/<uuid:job_id>/activity", methods=["GET"])
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, EnterpriseActivityPageSchema)
def job_activity(query: dict[str, Any], job_id: uuid.UUID) -> dict[str, Any]:
    """The job's activity, oldest first: the enterprise's users by name, the provider's
    actions as the provider organization."""
    return _page(jobs.list_activity(session(), current_principal(), job_id, **query))


@blp.route("/jobs/<uuid:job_id>/notes", methods=["GET"])
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, EnterpriseNotePageSchema)
def job_notes(query: dict[str, Any], job_id: uuid.UUID) -> dict[str, Any]:
    """The notes the provider marked public, oldest first."""
    return _page(attachments.list_notes(session(), _viewer(), job_id, **query))


@blp.route("/jobs/<uuid:job_id>/photos", methods=["GET"])
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, EnterprisePhotoPageSchema)
def job_photos(query: dict[str, Any], job_id: uuid.UUID) -> dict[str, Any]:
    """The photos the provider marked public, oldest first."""
    return _page(attachments.list_photos(session(), _viewer(), job_id, **query))


@blp.route("/photos/<uuid:photo_id>", methods=["GET"])
@blp.doc(responses={200: PHOTO_CONTENT})
@login_required
def get_photo(photo_id: uuid.UUID) -> Response:
    """A public photo's bytes, of a job the enterprise offered."""
    return photo_response(attachments.get_photo(session(), _viewer(), photo_id))


def _viewer() -> attachments.EnterpriseViewer:
    principal = current_principal()
    require_enterprise_manager(principal)
    return attachments.EnterpriseViewer(principal.organization_id)


@blp.route("/jobs/<uuid:job_id>/reminders", methods=["POST"])
@login_required
@blp.arguments(ReminderCreateSchema)
@blp.response(201, ReminderSchema)
def send_reminder(body: dict[str, Any], job_id: uuid.UUID) -> dict[str, Any]:
    """Text the provider's dispatchers a request for a status update.

    429 with `Retry-After` when the job's last reminder is under an hour old.
    """
    now = utcnow()
    texted = reminders.send_reminder(
        session(),
        current_principal(),
        job_id,
        message=body.get("message"),
        now=now,
        rules=TextRules.from_config(current_app.config),
    )
    return {"job_id": job_id, "sent_at": now, "texted": texted}


# -- complete reasons and webhooks -----------------------------------------------------


def _reasons_answer(rows: list[Any]) -> list[dict[str, Any]]:
    return [{"code": r.code, "label": r.label, "outcome": r.outcome} for r in rows]


@blp.route("/complete-reasons", methods=["GET"])
@login_required
@blp.response(200, CompleteReasonSchema(many=True))
def list_complete_reasons() -> list[dict[str, Any]]:
    """The enterprise's own complete reasons (empty: its jobs use the provider's)."""
    principal = current_principal()
    require_enterprise_manager(principal)
    return _reasons_answer(reasons.list_reasons(session(), principal.organization_id))


@blp.route("/complete-reasons", methods=["PUT"])
@login_required
@blp.arguments(CompleteReasonSchema(many=True))
@blp.response(200, CompleteReasonSchema(many=True))
def replace_complete_reasons(body: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace them: the jobs the enterprise offers are completed with these reasons."""
    principal = current_principal()
    require_enterprise_manager(principal)
    return _reasons_answer(reasons.write_reasons(session(), principal.organization_id, body))


@blp.route("/webhook", methods=["PUT"])
@login_required
@blp.arguments(WebhookSaveSchema)
@blp.response(200, WebhookSchema)
def save_webhook(body: dict[str, Any]) -> dict[str, Any]:
    """Set the URL that hears every change of the enterprise's jobs; the answer shows the
    signing secret, once. 422 for a URL that is not http(s) or leads to a non-public
    address."""
    saved = webhooks.save_webhook(
        session(),
        current_principal(),
        body["url"],
        now=utcnow(),
        allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"],
    )
    return {"url": saved.url, "secret": saved.secret}


@blp.route("/webhook", methods=["DELETE"])
@login_required
@blp.response(204)
def remove_webhook() -> None:
    """Remove the webhook."""
    webhooks.remove_webhook(session(), current_principal())


@blp.route("/webhook/deliveries", methods=["GET"])
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, DeliveryPageSchema)
def list_deliveries(query: dict[str, Any]) -> dict[str, Any]:
    """The latest deliveries first, with their attempts and the receiver's answers."""
    return _page(webhooks.list_deliveries(session(), current_principal(), **query))


# -- the provider's side ----------------------------------------------------------------


@connections_blp.route("", methods=["GET"])
@login_required
@connections_blp.response(200, ConnectionSchema(many=True))
def list_connections() -> list[dict[str, Any]]:
    """Enterprises' connection requests and connections, newest first (dispatchers)."""
    rows = connections.provider_connections(session(), current_principal())
    return [_connection_answer(row) for row in rows]


@connections_blp.route(
    "/<uuid:connection_id>/actions/<any(accept, decline):action>", methods=["POST"]
)
@login_required
@connections_blp.response(200, ConnectionSchema)
def answer_connection(connection_id: uuid.UUID, action: str) -> dict[str, Any]:
    """Accept (`active`: the enterprise may offer jobs) or decline a pending request."""
    found = connections.answer_request(
        session(), current_principal(), connection_id, accept=action == "accept", now=utcnow()
    )
    return _connection_answer(found)


@connections_blp.route("/<uuid:connection_id>", methods=["DELETE"])
@login_required
@connections_blp.response(204)
def end_connection(connection_id: uuid.UUID) -> None:
    """End a connection (the jobs already offered stay)."""
    connections.end_connection(session(), current_principal(), connection_id, now=utcnow())


blueprints: tuple[Blueprint, ...] = (blp, connections_blp)
