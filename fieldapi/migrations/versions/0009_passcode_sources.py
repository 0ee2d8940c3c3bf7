"""passcode_sources: wrong passcodes counted per client address

A number's own failure count locks it only at NIST SP 800-63B's cap (100); each address
that sends wrong passcodes is slowed and then stopped long before, so one stranger cannot
lock anyone out.

Revision ID: 0009_passcode_sources
Revises: 0008_messages_queued_at
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_passcode_sources"
down_revision: str | Sequence[str] | None = "0008_messages_queued_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "passcode_sources",
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("source_hash", name=op.f("pk_passcode_sources")),
    )


def downgrade() -> None:
    op.drop_table("passcode_sources")
