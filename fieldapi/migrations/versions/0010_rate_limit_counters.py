"""rate_limit_counters: the API's rate limits, shared by every process through the database

Revision ID: 0010_rate_limit_counters
Revises: 0009_passcode_sources
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_rate_limit_counters"
down_revision: str | Sequence[str] | None = "0009_passcode_sources"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # expires_at is epoch seconds, as `limits` counts time; unlogged is not used on purpose:
    # a crash must not forget the counts that stop a password-guessing run.
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counters")),
    )
    op.create_index("ix_rate_limit_counters_expires_at", "rate_limit_counters", ["expires_at"])


def downgrade() -> None:
    op.drop_table("rate_limit_counters")
