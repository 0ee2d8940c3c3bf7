"""Join the capability branches into one head

Revision ID: 0006_merge
Revises: 0002_messaging, 0003_accounts, 0004_locations, 0005_jobs
"""

from collections.abc import Sequence

revision: str = "0006_merge"
down_revision: str | Sequence[str] | None = (
    "0002_messaging",
    "0003_accounts",
    "0004_locations",
    "0005_jobs",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
