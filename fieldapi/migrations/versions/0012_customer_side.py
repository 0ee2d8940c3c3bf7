"""The customer's side: tracking of a visit, arrival from fixes, auto start on arrival,
the schedule texts' settings, booking requests

Revision ID: 0012_customer_side
Revises: 0011_enterprise
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012_customer_side"
down_revision: str | Sequence[str] | None = "0011_enterprise"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visit_tracking",
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promised_arrive_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("eta_arrive_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("eta_distance_m", sa.Float(), nullable=True),
        sa.Column("eta_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late_texts", sa.Integer(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_visit_tracking_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_visit_tracking_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("appointment_id", name=op.f("pk_visit_tracking")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_visit_tracking_token_hash")),
    )
    op.add_column(
        "organizations",
        sa.Column("auto_start_on_arrival", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    for name in ("booked_texts", "reminder_texts", "canceled_texts"):
        op.add_column(
            "organizations",
            sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.true()),
        )
    op.add_column(
        "organizations",
        sa.Column("reminder_hours", sa.Integer(), nullable=False, server_default="24"),
    )
    op.add_column(
        "organizations",
        sa.Column("booking_enabled", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("organizations", sa.Column("booking_slug", sa.String(length=60), nullable=True))
    op.create_unique_constraint(
        op.f("uq_organizations_booking_slug"), "organizations", ["booking_slug"]
    )
    op.add_column(
        "jobs",
        sa.Column("source", sa.String(length=20), nullable=False, server_default="dispatcher"),
    )
    op.add_column(
        "jobs",
        sa.Column("preferred_windows", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    # The ping path asks "is this technician en route?" on every upload: a tiny index.
    op.create_index(
        "ix_appointments_enroute_technician_id",
        "appointments",
        ["technician_id"],
        postgresql_where=sa.text("status = 'enroute'"),
    )


def downgrade() -> None:
    op.drop_index("ix_appointments_enroute_technician_id", table_name="appointments")
    op.drop_column("jobs", "preferred_windows")
    op.drop_column("jobs", "source")
    op.drop_constraint(op.f("uq_organizations_booking_slug"), "organizations", type_="unique")
    op.drop_column("organizations", "booking_slug")
    op.drop_column("organizations", "booking_enabled")
    for name in ("reminder_hours", "canceled_texts", "reminder_texts", "booked_texts"):
        op.drop_column("organizations", name)
    op.drop_column("organizations", "auto_start_on_arrival")
    op.drop_table("visit_tracking")
