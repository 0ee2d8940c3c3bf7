"""Index texts by queue time, for `fieldapi status` to read the latest outcomes

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
    op.create_index("ix_messages_queued_at", "messages", ["queued_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_queued_at", table_name="messages")
