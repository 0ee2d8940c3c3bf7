"""Documents' services: create, edit a draft, revise, send, void, mark paid, and the
customer's decision; each change written to the job's activity log (and so to the
enterprise's webhook) in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization
from fieldapi.accounts.policy import is_manager, require_manager
from fieldapi.accounts.principal import Principal
from fieldapi.documents.links import document_url, live_document, new_link
from fieldapi.documents.models import Document, DocumentLine
from fieldapi.documents.money import LineInput, format_amount, price, rate_bp
from fieldapi.documents.numbering import next_number
from fieldapi.enterprise.texts import TextRules, text_dispatchers
from fieldapi.errors import Conflict, NotFound, Unprocessable
from fieldapi.jobs.activity import Acting, record_event
from fieldapi.jobs.models import Customer, Job
from fieldapi.jobs.visibility import visible_jobs
from fieldapi.messaging.outbox import queue_message

#: The statuses a document may move to, from each (the customer's decision included).
MOVES: dict[str, dict[str, frozenset[str]]] = {
    "estimate": {
        "draft": frozenset({"sent", "void"}),
        "sent": frozenset({"approved", "declined", "void"}),
        "approved": frozenset({"void"}),
        "declined": frozenset({"void"}),
    },
    "invoice": {
        "draft": frozenset({"sent", "void"}),
        "sent": frozenset({"paid", "void"}),
    },
}
EVENT_OF_STATUS = {
    "sent": "sent",
    "approved": "approved",
    "declined": "declined",
    "paid": "paid",
    "void": "voided",
}


@dataclass(frozen=True)
class DocumentSettings:
    public_base_url: str = "http://127.0.0.1:8000"
    texts: TextRules = field(default_factory=TextRules)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DocumentSettings:
        return cls(public_base_url=config["PUBLIC_BASE_URL"], texts=TextRules.from_config(config))


def _job(db: Session, principal: Principal, job_id: uuid.UUID) -> Job:
    job = db.scalar(select(Job).where(Job.id == job_id, visible_jobs(principal)))
    if job is None:
        raise NotFound("No such job.")
    return job


def get_document(db: Session, principal: Principal, document_id: uuid.UUID) -> Document:
    """A document of a job the caller sees (another organization's: 404)."""
    document = db.scalar(
        select(Document)
        .join(Job, Job.id == Document.job_id)
        .where(Document.id == document_id, visible_jobs(principal))
    )
    if document is None:
        raise NotFound("No such document.")
    return document


def list_documents(
    db: Session, principal: Principal, job_id: uuid.UUID, kind: str | None = None
) -> Sequence[Document]:
    """The job's documents, every revision, by kind, number and revision."""
    _job(db, principal, job_id)
    query = select(Document).where(Document.job_id == job_id)
    if kind is not None:
        query = query.where(Document.kind == kind)
    return db.scalars(query.order_by(Document.kind, Document.number, Document.revision)).all()


def _line_inputs(lines: list[Mapping[str, Any]]) -> list[LineInput]:
    return [
        LineInput(
            description=" ".join(str(line["description"]).split()),
            quantity=Decimal(str(line["quantity"])),
            unit_price=line["unit_price"],
            tax_rate_bp=None
            if line.get("tax_rate_pct") is None
            else rate_bp(line["tax_rate_pct"], "lines.tax_rate_pct"),
        )
        for line in lines
    ]


def _fill(
    document: Document,
    lines: list[Mapping[str, Any]],
    tax_rate_pct: Any | None,
    default_rate_bp: int,
) -> None:
    document.tax_rate_bp = default_rate_bp if tax_rate_pct is None else rate_bp(tax_rate_pct)
    totals = price(_line_inputs(lines), document.tax_rate_bp)
    document.lines = [
        DocumentLine(
            organization_id=document.organization_id,
            position=position + 1,
            description=priced.line.description,
            quantity=priced.line.quantity,
            unit_price=priced.line.unit_price,
            tax_rate_bp=priced.line.tax_rate_bp,
            amount=priced.amount,
            tax=priced.tax,
        )
        for position, priced in enumerate(totals.lines)
    ]
    document.subtotal, document.tax, document.total = totals.subtotal, totals.tax, totals.total


def _log(
    db: Session, job: Job, document: Document, event: str, acting: Acting | None, now: datetime
) -> None:
    who = "by the customer" if acting is None else f"by {acting.name}"
    record_event(
        db,
        job,
        action=f"{document.kind}_{event}",
        at=now,
        acting=acting,
        details={
            "document_id": str(document.id),
            "number": document.label,
            "revision": document.revision,
            "total": document.total,
            "currency": document.currency,
            "summary": f"{document.kind} {document.label} {event} {who}",
        },
    )


def create_document(
    db: Session,
    principal: Principal,
    job_id: uuid.UUID,
    *,
    kind: str,
    lines: list[Mapping[str, Any]],
    tax_rate_pct: Any | None = None,
    notes: str | None = None,
    now: datetime,
) -> Document:
    """A draft with the next number of its kind (dispatchers; a technician on a job
    assigned to them)."""
    job = _job(db, principal, job_id)
    organization = db.get_one(Organization, principal.organization_id)
    document = Document(
        id=uuid.uuid4(),
        organization_id=job.organization_id,
        job_id=job.id,
        kind=kind,
        revision=1,
        status="draft",
        currency=organization.currency,
        notes=notes,
        created_at=now,
        created_by_id=principal.user_id,
    )
    _fill(document, lines, tax_rate_pct, organization.tax_rate_bp)  # before the number
    document.number = next_number(db, job.organization_id, kind)
    db.add(document)
    db.flush()
    _log(db, job, document, "created", Acting.user(principal), now)
    db.commit()
    return document


def _latest(document: Document) -> None:
    if document.replaced_by_id is not None:
        raise Conflict(
            f"{document.label} revision {document.revision} was replaced by a newer revision."
        )


def update_draft(
    db: Session,
    principal: Principal,
    document_id: uuid.UUID,
    *,
    lines: list[Mapping[str, Any]] | None = None,
    tax_rate_pct: Any | None = None,
    notes: str | None = None,
) -> Document:
    """Change a draft in place; a sent document is never edited (make a revision)."""
    document = get_document(db, principal, document_id)
    if document.status != "draft":
        raise Conflict(
            f"{document.label} is {document.status}: a sent document is never edited; "
            "POST /v1/documents/<id>/revisions makes a new revision."
        )
    if not is_manager(principal) and document.created_by_id != principal.user_id:
        raise NotFound("No such document.")
    if notes is not None:
        document.notes = notes
    if lines is not None or tax_rate_pct is not None:
        current: list[Mapping[str, Any]] = [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "tax_rate_pct": None if line.tax_rate_bp is None else line.tax_rate_bp / 100,
            }
            for line in document.lines
        ]
        rate = tax_rate_pct if tax_rate_pct is not None else document.tax_rate_bp / 100
        document.lines = []
        db.flush()
        _fill(document, lines if lines is not None else current, rate, document.tax_rate_bp)
    db.commit()
    return document


def revise_document(
    db: Session,
    principal: Principal,
    document_id: uuid.UUID,
    *,
    lines: list[Mapping[str, Any]],
    tax_rate_pct: Any | None = None,
    notes: str | None = None,
    now: datetime,
) -> Document:
    """A new draft revision of a sent document (same number); the old one stays readable
    and its customer link stops working."""
    require_manager(principal, "revise documents")
    old = get_document(db, principal, document_id)
    db.refresh(old, with_for_update=True)
    _latest(old)
    if old.status == "draft":
        raise Conflict(f"{old.label} is still a draft: change it with PATCH.")
    if old.status in ("void", "paid"):
        raise Conflict(f"{old.label} is {old.status}: it cannot be revised.")
    job = db.get_one(Job, old.job_id)
    new = Document(
        id=uuid.uuid4(),
        organization_id=old.organization_id,
        job_id=old.job_id,
        kind=old.kind,
        number=old.number,
        revision=old.revision + 1,
        status="draft",
        currency=old.currency,
        notes=old.notes if notes is None else notes,
        created_at=now,
        created_by_id=principal.user_id,
    )
    _fill(new, lines, tax_rate_pct, old.tax_rate_bp)
    db.add(new)
    db.flush()
    old.replaced_by_id = new.id
    _log(db, job, new, "revised", Acting.user(principal), now)
    db.commit()
    return new


def _move(document: Document, to: str) -> None:
    allowed = MOVES[document.kind].get(document.status, frozenset())
    if to not in allowed:
        raise Conflict(
            f"{document.kind.capitalize()} {document.label} is {document.status}; "
            f"it cannot become {to}."
        )
    document.status = to


def send_document(
    db: Session,
    principal: Principal,
    document_id: uuid.UUID,
    *,
    now: datetime,
    settings: DocumentSettings,
) -> Document:
    """Text the customer the document's link (dispatchers)."""
    require_manager(principal, "send documents")
    document = get_document(db, principal, document_id)
    db.refresh(document, with_for_update=True)
    _latest(document)
    job = db.get_one(Job, document.job_id)
    customer = db.get_one(Customer, job.customer_id)
    if not customer.phone:
        raise Unprocessable("The job's customer has no phone number to text the link to.")
    _move(document, "sent")
    document.sent_at = now
    token = new_link(document)
    organization = db.get_one(Organization, job.organization_id)
    queue_message(
        db,
        organization_id=job.organization_id,
        to=customer.phone,
        body=f"{organization.name}: your {document.kind} {document.label} "
        f"({format_amount(document.total, document.currency)}): "
        f"{document_url(settings.public_base_url, token)}",
        purpose=f"{document.kind}_sent",
        allowed_regions=settings.texts.allowed_regions,
        job_id=job.id,
    )
    _log(db, job, document, "sent", Acting.user(principal), now)
    db.commit()
    return document


def void_document(
    db: Session, principal: Principal, document_id: uuid.UUID, *, now: datetime
) -> Document:
    """Void (dispatchers): the customer's link stops working."""
    return _staff_move(db, principal, document_id, "void", now=now)


def mark_paid(
    db: Session, principal: Principal, document_id: uuid.UUID, *, now: datetime
) -> Document:
    return _staff_move(db, principal, document_id, "paid", now=now)


def _staff_move(
    db: Session, principal: Principal, document_id: uuid.UUID, to: str, *, now: datetime
) -> Document:
    require_manager(principal, "change documents")
    document = get_document(db, principal, document_id)
    db.refresh(document, with_for_update=True)
    _latest(document)
    _move(document, to)
    if to == "void":
        document.voided_at = now
    else:
        document.paid_at = now
    _log(
        db,
        db.get_one(Job, document.job_id),
        document,
        EVENT_OF_STATUS[to],
        Acting.user(principal),
        now,
    )
    db.commit()
    return document


def decide(
    db: Session,
    token: str,
    answer: str,
    *,
    now: datetime,
    address: str | None,
    page: str | None,
    settings: DocumentSettings,
) -> Document:
    """The customer's Approve / Decline of a sent estimate, once: recorded with the time,
    the answer, the address and page it came from; logged and texted to the dispatchers."""
    document = live_document(db, token, for_update=True)
    if document.kind != "estimate":
        raise NotFound("Only an estimate is approved or declined.")
    if document.decision is not None:
        raise Conflict(f"Estimate {document.label} was already {document.decision}.")
    _move(document, answer)
    document.decision, document.decided_at = answer, now
    document.decided_from = None if address is None else address[:64]
    document.decided_on_page = None if page is None else page[:300]
    job = db.get_one(Job, document.job_id)
    _log(db, job, document, answer, None, now)
    text_dispatchers(
        db,
        job.organization_id,
        body=f"Estimate {document.label} for {job.title!r} was {answer} by the customer.",
        purpose=f"estimate_{answer}",
        job_id=job.id,
        rules=settings.texts,
    )
    db.commit()
    return document
