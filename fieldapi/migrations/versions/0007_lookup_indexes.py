"""Indexes for two lookups: customers by phone, photos by storage key

Revision ID: 0007_lookup_indexes
Revises: 0006_merge
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_lookup_indexes"
down_revision: str | Sequence[str] | None = "0006_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_customers_organization_id_phone", "customers", ["organization_id", "phone"])
    op.create_unique_constraint("uq_job_photos_storage_key", "job_photos", ["storage_key"])


def downgrade() -> None:
    op.drop_constraint("uq_job_photos_storage_key", "job_photos", type_="unique")
    op.drop_index("ix_customers_organization_id_phone", table_name="customers")
