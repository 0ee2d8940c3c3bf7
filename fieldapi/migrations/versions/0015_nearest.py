"""A GiST index on the latest positions per organization, for the nearest technicians' KNN

btree_gist lets the index lead with organization_id (a uuid): the KNN walk then stays
within one organization instead of filtering every organization's positions.

Built CONCURRENTLY, outside the migration's transaction: a plain CREATE INDEX would block
every ping's latest-position update while it reads the table.

Revision ID: 0015_nearest
Revises: 0014_trackers
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_nearest"
down_revision: str | Sequence[str] | None = "0014_trackers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    with op.get_context().autocommit_block():
        # An interrupted concurrent build leaves an invalid index behind: build it anew.
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_latest_locations_organization_id_position")
        op.create_index(
            "ix_latest_locations_organization_id_position",
            "latest_locations",
            ["organization_id", "position"],
            postgresql_using="gist",
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_latest_locations_organization_id_position",
            table_name="latest_locations",
            postgresql_concurrently=True,
        )
