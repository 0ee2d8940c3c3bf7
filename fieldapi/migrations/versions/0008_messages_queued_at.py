"""Index texts by queue time, for `fieldapi status` to read the latest outcomes

Built CONCURRENTLY, outside the migration's transaction: a plain CREATE INDEX would block
every write to `messages` (texts queued, sent, delivered) while it reads the whole table.

Revision ID: 0008_messages_queued_at
Revises: 0007_lookup_indexes
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_messages_queued_at"
down_revision: str | Sequence[str] | None = "0007_lookup_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        # An interrupted concurrent build leaves an invalid index behind: build it anew.
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_messages_queued_at")
        op.create_index(
            "ix_messages_queued_at", "messages", ["queued_at"], postgresql_concurrently=True
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("ix_messages_queued_at", table_name="messages", postgresql_concurrently=True)
