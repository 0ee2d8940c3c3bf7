"""messaging: opt-outs, inbound texts, delivery callbacks, worker leases

Revision ID: 0002_messaging
Revises: 0001_foundation
Create Date: 2026-11-25 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_messaging"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE_STATUSES = (
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "read",
    "blocked",
)


def upgrade() -> None:
    op.add_column("messages", sa.Column("leased_by", sa.String(length=100), nullable=True))
    op.create_check_constraint(
        op.f("ck_messages_status"),
        "messages",
        f"status IN ({', '.join(repr(s) for s in MESSAGE_STATUSES)})",
    )
    # Leases that expired (a worker died mid-send) are found through this small index.
    op.create_index(
        "ix_messages_leased",
        "messages",
        ["lease_until"],
        unique=False,
        postgresql_where=sa.text("status = 'sending'"),
    )
    op.create_table(
        "sms_opt_outs",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("keyword", sa.String(length=20), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_sms_opt_outs_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_sms_opt_outs")),
    )
    op.create_table(
        "inbound_messages",
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("from_phone", sa.String(length=20), nullable=False),
        sa.Column("to_phone", sa.String(length=20), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("twilio_sid", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_inbound_messages_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint("twilio_sid", name=op.f("uq_inbound_messages_twilio_sid")),
    )
    op.create_index(
        "ix_inbound_messages_organization_id_received_at",
        "inbound_messages",
        ["organization_id", "received_at"],
        unique=False,
    )
    op.create_table(
        "sms_status_callbacks",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_sms_status_callbacks_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_status_callbacks")),
        sa.UniqueConstraint(
            "message_sid", "status", name=op.f("uq_sms_status_callbacks_message_sid")
        ),
    )
    op.create_index(
        "ix_sms_status_callbacks_unmatched",
        "sms_status_callbacks",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("message_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_sms_status_callbacks_unmatched",
        table_name="sms_status_callbacks",
        postgresql_where=sa.text("message_id IS NULL"),
    )
    op.drop_table("sms_status_callbacks")
    op.drop_index("ix_inbound_messages_organization_id_received_at", table_name="inbound_messages")
    op.drop_table("inbound_messages")
    op.drop_table("sms_opt_outs")
    op.drop_index(
        "ix_messages_leased", table_name="messages", postgresql_where=sa.text("status = 'sending'")
    )
    op.drop_constraint(op.f("ck_messages_status"), "messages", type_="check")
    op.drop_column("messages", "leased_by")
