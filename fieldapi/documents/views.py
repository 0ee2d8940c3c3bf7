"""HTTP endpoints of estimates and invoices: the provider's API, the PDFs (the provider's
and the enterprise's download), the customer's link API and its page `/d/<token>`."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Blueprint as PageBlueprint
from flask import Response, current_app, redirect, render_template, request, send_file
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.auth import current_principal, login_required
from fieldapi.accounts.models import Organization
from fieldapi.db import session, utcnow
from fieldapi.documents import service
from fieldapi.documents.links import live_document
from fieldapi.documents.models import Document
from fieldapi.documents.money import format_amount
from fieldapi.documents.pdf import Parties, render_pdf
from fieldapi.documents.schemas import (
    CustomerDocumentSchema,
    DocumentCreateSchema,
    DocumentListSchema,
    DocumentSchema,
    DocumentUpdateSchema,
)
from fieldapi.enterprise.access import require_enterprise_manager
from fieldapi.errors import Conflict, NotFound
from fieldapi.extensions import rate_limited
from fieldapi.idempotency import idempotent
from fieldapi.jobs.models import Customer, Job

jobs_blp = Blueprint(
    "job_documents", __name__, url_prefix="/jobs", description="A job's estimates and invoices"
)
blp = Blueprint(
    "documents", __name__, url_prefix="/documents", description="Estimates and invoices"
)
links_blp = Blueprint(
    "document_links",
    __name__,
    url_prefix="/document-links",
    description="The customer's link to a document (no auth: the token is the key)",
)
enterprise_blp = Blueprint(
    "enterprise_documents",
    __name__,
    url_prefix="/enterprise/documents",
    description="The documents of the jobs an enterprise offered",
)
pages = PageBlueprint("document_pages", __name__, template_folder="templates")

_PDF = {200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


def _settings() -> service.DocumentSettings:
    return service.DocumentSettings.from_config(current_app.config)


def _create(kind: str, job_id: uuid.UUID, body: dict[str, Any]) -> Document:
    return service.create_document(
        session(), current_principal(), job_id, kind=kind, now=utcnow(), **body
    )


@jobs_blp.route("/<uuid:job_id>/estimates", methods=["POST"])
@idempotent
@jobs_blp.arguments(DocumentCreateSchema)
@jobs_blp.response(201, DocumentSchema)
def create_estimate(body: dict[str, Any], job_id: uuid.UUID) -> Document:
    """A draft estimate with the next EST number (dispatchers; a technician on a job
    assigned to them). The server computes every amount."""
    return _create("estimate", job_id, body)


@jobs_blp.route("/<uuid:job_id>/invoices", methods=["POST"])
@idempotent
@jobs_blp.arguments(DocumentCreateSchema)
@jobs_blp.response(201, DocumentSchema)
def create_invoice(body: dict[str, Any], job_id: uuid.UUID) -> Document:
    """A draft invoice with the next INV number."""
    return _create("invoice", job_id, body)


def _list(job_id: uuid.UUID, kind: str | None) -> dict[str, Any]:
    documents = service.list_documents(session(), current_principal(), job_id, kind)
    return {"items": documents}


@jobs_blp.route("/<uuid:job_id>/documents", methods=["GET"])
@login_required
@jobs_blp.response(200, DocumentListSchema)
def list_job_documents(job_id: uuid.UUID) -> dict[str, Any]:
    """The job's estimates and invoices, every revision (by kind, number, revision)."""
    return _list(job_id, None)


@jobs_blp.route("/<uuid:job_id>/estimates", methods=["GET"])
@login_required
@jobs_blp.response(200, DocumentListSchema)
def list_job_estimates(job_id: uuid.UUID) -> dict[str, Any]:
    return _list(job_id, "estimate")


@jobs_blp.route("/<uuid:job_id>/invoices", methods=["GET"])
@login_required
@jobs_blp.response(200, DocumentListSchema)
def list_job_invoices(job_id: uuid.UUID) -> dict[str, Any]:
    return _list(job_id, "invoice")


@blp.route("/<uuid:document_id>", methods=["GET"])
@login_required
@blp.response(200, DocumentSchema)
def get_document(document_id: uuid.UUID) -> Document:
    """One document (any revision: an old one stays readable)."""
    return service.get_document(session(), current_principal(), document_id)


@blp.route("/<uuid:document_id>", methods=["PATCH"])
@idempotent
@blp.arguments(DocumentUpdateSchema)
@blp.response(200, DocumentSchema)
@blp.alt_response(409, description="Not a draft: make a revision")
def update_document(body: dict[str, Any], document_id: uuid.UUID) -> Document:
    """Change a draft (a sent document is never edited: 409)."""
    return service.update_draft(session(), current_principal(), document_id, **body)


@blp.route("/<uuid:document_id>/revisions", methods=["POST"])
@idempotent
@blp.arguments(DocumentCreateSchema)
@blp.response(201, DocumentSchema)
@blp.alt_response(409, description="A draft, void, paid or already replaced")
def revise_document(body: dict[str, Any], document_id: uuid.UUID) -> Document:
    """A new draft revision of a sent document, same number (dispatchers); the old one
    stays readable and its customer link stops working."""
    return service.revise_document(
        session(), current_principal(), document_id, now=utcnow(), **body
    )


@blp.route("/<uuid:document_id>/actions/<any(send, void, 'mark-paid'):action>", methods=["POST"])
@idempotent
@blp.response(200, DocumentSchema)
@blp.alt_response(409, description="Not allowed in this status")
def document_action(document_id: uuid.UUID, action: str) -> Document:
    """`send` texts the customer `PUBLIC_BASE_URL/d/<token>`; `void` kills that link;
    `mark-paid` (invoices). Dispatchers."""
    db, principal, now = session(), current_principal(), utcnow()
    if action == "send":
        return service.send_document(db, principal, document_id, now=now, settings=_settings())
    if action == "void":
        return service.void_document(db, principal, document_id, now=now)
    return service.mark_paid(db, principal, document_id, now=now)


def _parties(db: Session, document: Document) -> Parties:
    job = db.get_one(Job, document.job_id)
    customer = db.get_one(Customer, job.customer_id)
    organization = db.get_one(Organization, document.organization_id)
    return Parties(organization.name, customer.name, customer.address, job.title)


def _pdf_response(db: Session, document: Document) -> Response:
    data = render_pdf(document, _parties(db, document))
    response = send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{document.label}-r{document.revision}.pdf",
    )
    response.cache_control.private = True
    return response


@blp.route("/<uuid:document_id>.pdf", methods=["GET"])
@blp.doc(responses=_PDF)
@login_required
def get_document_pdf(document_id: uuid.UUID) -> Response:
    """The document as a PDF (a download)."""
    db = session()
    return _pdf_response(db, service.get_document(db, current_principal(), document_id))


@enterprise_blp.route("/<uuid:document_id>.pdf", methods=["GET"])
@enterprise_blp.doc(responses=_PDF)
@login_required
def get_enterprise_document_pdf(document_id: uuid.UUID) -> Response:
    """A sent document of a job the enterprise offered, as a PDF (others: 404)."""
    principal = current_principal()
    require_enterprise_manager(principal)
    db = session()
    document = db.scalar(
        select(Document)
        .join(Job, Job.id == Document.job_id)
        .where(
            Document.id == document_id,
            Job.offered_by_id == principal.organization_id,
            Document.status != "draft",
        )
    )
    if document is None:
        raise NotFound("No such document.")
    return _pdf_response(db, document)


@dataclass(frozen=True)
class CustomerDocument:
    """A document as its customer sees it (`CustomerDocumentSchema`, the page)."""

    document: Document
    parties: Parties

    @property
    def can_decide(self) -> bool:
        return self.document.kind == "estimate" and self.document.status == "sent"


def _for_customer(db: Session, document: Document) -> CustomerDocument:
    return CustomerDocument(document, _parties(db, document))


def _page_address(token: str) -> str:
    # The page's address without the token's secret part (the token is never stored).
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/d/{token[:4]}…"


def _decide(token: str, answer: str) -> Document:
    return service.decide(
        session(),
        token,
        answer,
        now=utcnow(),
        address=request.remote_addr,
        page=_page_address(token),
        settings=_settings(),
    )


@links_blp.route("/<token>", methods=["GET"])
@links_blp.doc(security=[])
@rate_limited("TRACKING_RATE_LIMIT")
@links_blp.response(200, CustomerDocumentSchema)
@links_blp.alt_response(404, description="Unknown, voided or replaced")
def get_document_link(token: str) -> CustomerDocument:
    """The document as its customer sees it."""
    db = session()
    return _for_customer(db, live_document(db, token))


@links_blp.route("/<token>/<any(approve, decline):action>", methods=["POST"])
@links_blp.doc(security=[])
@rate_limited("TRACKING_RATE_LIMIT")
@links_blp.response(200, CustomerDocumentSchema)
@links_blp.alt_response(404, description="Unknown, voided or replaced")
@links_blp.alt_response(409, description="Already decided")
def decide_document_link(token: str, action: str) -> CustomerDocument:
    """The customer's decision on an estimate, once."""
    document = _decide(token, "approved" if action == "approve" else "declined")
    return _for_customer(session(), document)


def _secure(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
    )
    return response


@pages.route("/d/<token>", methods=["GET"])
@rate_limited("TRACKING_RATE_LIMIT")
def document_page(token: str) -> Response:
    """The customer's page of the sent text: the document, Approve / Decline."""
    db = session()
    try:
        answer = _for_customer(db, live_document(db, token))
    except NotFound:
        return _secure(Response(render_template("document_gone.html"), status=404))
    html = render_template(
        "document.html",
        document=answer.document,
        parties=answer.parties,
        can_decide=answer.can_decide,
        money=lambda minor: format_amount(minor, answer.document.currency),
        token=token,
    )
    return _secure(Response(html, mimetype="text/html"))


@pages.route("/d/<token>/<any(approve, decline):action>", methods=["POST"])
@rate_limited("TRACKING_RATE_LIMIT")
def document_page_decision(token: str, action: str) -> Response:
    """The page's buttons (a plain form: no script needed); back to the page after."""
    try:
        _decide(token, "approved" if action == "approve" else "declined")
    except NotFound:
        return _secure(Response(render_template("document_gone.html"), status=404))
    except Conflict:  # decided already (another tab, a double tap): the page says how
        pass
    return _secure(redirect(f"/d/{token}", code=303))  # type: ignore[arg-type]


blueprints: tuple[Blueprint, ...] = (jobs_blp, blp, links_blp, enterprise_blp)
