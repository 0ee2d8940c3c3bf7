"""locations: the partitioned ping history and the latest position per user

Revision ID: 0004_locations
Revises: 0001_foundation
Create Date: 2026-11-24 18:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography

revision: str = "0004_locations"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The weekly partitions that exist right after the migration: from the oldest week a
# ping may still be accepted in (60 days back, the default retention) to three weeks
# ahead. Later ones are created by the worker (fieldapi.locations.maintenance), or by
# ingest itself when the worker has not run. Kept inline so this file never changes.
RETENTION_DAYS = 60
WEEKS_AHEAD = 3


def _point() -> Geography:
    return Geography(geometry_type="POINT", srid=4326, spatial_index=False)


def _week_start(moment: datetime) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def upgrade() -> None:
    op.create_table(
        "location_pings",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", _point(), nullable=False),
        sa.Column("accuracy_m", sa.REAL(), nullable=True),
        sa.Column("speed_mps", sa.REAL(), nullable=True),
        sa.Column("heading_deg", sa.REAL(), nullable=True),
        sa.Column("altitude_m", sa.REAL(), nullable=True),
        sa.Column("battery_pct", sa.REAL(), nullable=True),
        sa.Column("impossible_jump", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "user_id", "recorded_at", name=op.f("pk_location_pings")
        ),
        postgresql_partition_by="RANGE (recorded_at)",
    )
    now = datetime.now(UTC)
    week = _week_start(now - timedelta(days=RETENTION_DAYS))
    last = _week_start(now) + timedelta(weeks=WEEKS_AHEAD)
    while week <= last:
        end = week + timedelta(weeks=1)
        op.execute(
            f"CREATE TABLE IF NOT EXISTS location_pings_p{week:%Y%m%d} PARTITION OF "
            f"location_pings FOR VALUES FROM ('{week.isoformat()}') TO ('{end.isoformat()}')"
        )
        week = end

    op.create_table(
        "latest_locations",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", _point(), nullable=False),
        sa.Column("accuracy_m", sa.REAL(), nullable=True),
        sa.Column("speed_mps", sa.REAL(), nullable=True),
        sa.Column("heading_deg", sa.REAL(), nullable=True),
        sa.Column("altitude_m", sa.REAL(), nullable=True),
        sa.Column("battery_pct", sa.REAL(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_latest_locations_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_latest_locations_user_id_users")
        ),
        sa.PrimaryKeyConstraint("organization_id", "user_id", name=op.f("pk_latest_locations")),
        postgresql_with={"fillfactor": 70},
    )


def downgrade() -> None:
    op.drop_table("latest_locations")
    op.drop_table("location_pings")  # drops its partitions with it
