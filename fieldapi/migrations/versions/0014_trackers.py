"""Tracker devices (apps we did not write), organizations' working hours, track reads

Revision ID: 0014_trackers
Revises: 0013_documents
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_trackers"
down_revision: str | Sequence[str] | None = "0013_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracker_devices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_tracker_devices_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_tracker_devices_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracker_devices")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_tracker_devices_token_hash")),
    )
    op.create_index(
        "ix_tracker_devices_organization_id_user_id",
        "tracker_devices",
        ["organization_id", "user_id"],
    )
    op.create_table(
        "working_hours",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_working_hours_weekday")),
        sa.CheckConstraint("starts < ends", name=op.f("ck_working_hours_span")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_working_hours_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "weekday", name=op.f("pk_working_hours")),
    )
    op.create_table(
        "track_views",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("viewer_id", sa.Uuid(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_track_views_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_track_views_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["viewer_id"], ["users.id"], name=op.f("fk_track_views_viewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_views")),
    )
    op.create_index(
        "ix_track_views_organization_id_user_id_viewed_at",
        "track_views",
        ["organization_id", "user_id", "viewed_at"],
    )


def downgrade() -> None:
    op.drop_table("track_views")
    op.drop_table("working_hours")
    op.drop_table("tracker_devices")
