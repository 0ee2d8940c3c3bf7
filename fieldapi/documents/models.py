"""The tables of documents: each revision of an estimate or invoice, its lines, and the
per-organization counters that number them."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapi.db import Base, IdMixin, utcnow

KINDS = ("estimate", "invoice")
STATUSES = ("draft", "sent", "approved", "declined", "paid", "void")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class DocumentCounter(Base):
    """The last number given to a kind of document in an organization: bumped in the
    transaction that creates the document, so a rolled-back creation leaves no gap."""

    __tablename__ = "document_counters"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_number: Mapped[int]


class Document(IdMixin, Base):
    """One revision of an estimate or invoice. A revision is never edited once sent; the
    next revision keeps the number and points back here through `replaced_by_id`."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        UniqueConstraint("organization_id", "kind", "number", "revision"),
        Index("ix_documents_job_id", "job_id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[int]
    revision: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    currency: Mapped[str] = mapped_column(String(3))
    # Basis points (825 = 8.25 %): the document's rate, for lines without their own.
    tax_rate_bp: Mapped[int]
    notes: Mapped[str | None] = mapped_column(Text)
    subtotal: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime | None]
    # The customer's link, as a hash (the token is texted, never stored).
    link_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    decided_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(20))
    # The address the decision came from, and the page it was made on.
    decided_from: Mapped[str | None] = mapped_column(String(64))
    decided_on_page: Mapped[str | None] = mapped_column(String(300))
    paid_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]
    replaced_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))

    lines: Mapped[list[DocumentLine]] = relationship(
        order_by=lambda: DocumentLine.position, lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        return f"{'EST' if self.kind == 'estimate' else 'INV'}-{self.number:04d}"

    @property
    def tax_rate_pct(self) -> float:
        return self.tax_rate_bp / 100

    @property
    def decision_record(self) -> dict[str, Any] | None:
        """The customer's decision with when, from where and on which page; None before."""
        if self.decision is None:
            return None
        return {
            "answer": self.decision,
            "at": self.decided_at,
            "address": self.decided_from,
            "page": self.decided_on_page,
        }


class DocumentLine(IdMixin, Base):
    __tablename__ = "document_lines"
    __table_args__ = (
        UniqueConstraint("document_id", "position"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    position: Mapped[int]
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    tax_rate_bp: Mapped[int | None]
    amount: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)

    @property
    def tax_rate_pct(self) -> float | None:
        """The line's own rate; None when it takes the document's."""
        return None if self.tax_rate_bp is None else self.tax_rate_bp / 100
