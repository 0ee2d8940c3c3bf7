"""Each organization's fitted ETA speeds kept, and an index of its on-my-ways by time

An ETA read up to 2,000 trips from the activity log and fitted them on every on-my-way
and nearest-technicians search; at 20,000 past trips that was 30 times a bare GET.
eta_calibrations keeps the fit (fieldapi.eta.fits); the partial index lets the refit walk
an organization's newest on-my-ways instead of its whole activity log. The index is built
CONCURRENTLY, outside the migration's transaction, as activity_events takes every action.

Revision ID: 0017_eta_calibrations
Revises: 0016_distribution_keys
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017_eta_calibrations"
down_revision: str | Sequence[str] | None = "0016_distribution_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "eta_calibrations",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("model_key", sa.Text(), nullable=False),
        sa.Column("trips", sa.Integer(), nullable=False),
        sa.Column("bands", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_eta_calibrations_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_eta_calibrations")),
    )
    with op.get_context().autocommit_block():
        # An interrupted concurrent build leaves an invalid index behind: build it anew.
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_activity_events_on_my_way")
        op.create_index(
            "ix_activity_events_on_my_way",
            "activity_events",
            ["organization_id", "at"],
            # The trips' WHERE (fieldapi.eta.calibration): with `action` alone the planner
            # misjudged the JSON filters and sorted every on-my-way.
            postgresql_where=sa.text(
                "action = 'on-my-way' AND details -> 'eta' ->> 'distance_m' IS NOT NULL "
                "AND details -> 'eta' ->> 'method' IN "
                "('request_position', 'latest_position', 'calibrated')"
            ),
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_activity_events_on_my_way",
            table_name="activity_events",
            postgresql_concurrently=True,
        )
    op.drop_table("eta_calibrations")
