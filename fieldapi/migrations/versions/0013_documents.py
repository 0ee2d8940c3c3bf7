"""Estimates and invoices: documents, their lines, the numbering counters, and the
organization's currency and tax rate

Revision ID: 0013_documents
Revises: 0012_customer_side
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_documents"
down_revision: str | Sequence[str] | None = "0012_customer_side"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _organization_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["organization_id"],
        ["organizations.id"],
        name=op.f(f"fk_{table}_organization_id_organizations"),
    )


def upgrade() -> None:
    op.add_column(
        "organizations",
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
    )
    op.add_column(
        "organizations", sa.Column("tax_rate_bp", sa.Integer(), server_default="0", nullable=False)
    )
    op.create_table(
        "document_counters",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        _organization_fk("document_counters"),
        sa.PrimaryKeyConstraint("organization_id", "kind", name=op.f("pk_document_counters")),
    )
    op.create_table(
        "documents",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("link_token_hash", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("decided_from", sa.String(length=64), nullable=True),
        sa.Column("decided_on_page", sa.String(length=300), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("kind IN ('estimate', 'invoice')", name=op.f("ck_documents_kind")),
        sa.CheckConstraint(
            "status IN ('draft', 'sent', 'approved', 'declined', 'paid', 'void')",
            name=op.f("ck_documents_status"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_documents_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_documents_job_id_jobs"), ondelete="CASCADE"
        ),
        _organization_fk("documents"),
        sa.ForeignKeyConstraint(
            ["replaced_by_id"],
            ["documents.id"],
            name=op.f("fk_documents_replaced_by_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("link_token_hash", name=op.f("uq_documents_link_token_hash")),
        sa.UniqueConstraint(
            "organization_id",
            "kind",
            "number",
            "revision",
            name=op.f("uq_documents_organization_id"),
        ),
    )
    op.create_index("ix_documents_job_id", "documents", ["job_id"], unique=False)
    op.create_table(
        "document_lines",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_document_lines_quantity")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_document_lines_unit_price")),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_lines_document_id_documents"),
            ondelete="CASCADE",
        ),
        _organization_fk("document_lines"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_lines")),
        sa.UniqueConstraint("document_id", "position", name=op.f("uq_document_lines_document_id")),
    )


def downgrade() -> None:
    op.drop_table("document_lines")
    op.drop_index("ix_documents_job_id", table_name="documents")
    op.drop_table("documents")
    op.drop_table("document_counters")
    op.drop_column("organizations", "tax_rate_bp")
    op.drop_column("organizations", "currency")
