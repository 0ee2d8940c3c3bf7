"""Indexes that keep requests from reading an organization's whole history

Each serves a request that read every row of a growing table of the organization (or of
every organization) with a large history; measured with EXPLAIN (ANALYZE) at 100,000
jobs, 200,000 activity entries and 100,000 texts:

* messages (appointment_id, purpose): did a visit have its booked / moved / canceled /
  reminder text, asked by every change of a visit (11 ms, the whole table, whatever the
  organization);
* jobs (organization_id, created_at, id): GET /v1/jobs newest first (160 to 209 ms, a
  sort of every job);
* appointments (technician_id, updated_at) WHERE enroute or started: a member's current
  visit on the team map and in the nearest technicians (39 ms and 30 ms, every member's
  every visit);
* inbound_messages (organization_id, from_phone, received_at): the texts of one number.

Built CONCURRENTLY, outside the migration's transaction: these tables take writes all day.

Revision ID: 0018_history_indexes
Revises: 0017_eta_calibrations
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_history_indexes"
down_revision: str | Sequence[str] | None = "0017_eta_calibrations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: tuple[tuple[str, str, list[str], str | None], ...] = (
    (
        "ix_messages_appointment_id_purpose",
        "messages",
        ["appointment_id", "purpose"],
        "appointment_id IS NOT NULL",
    ),
    (
        "ix_jobs_organization_id_created_at_id",
        "jobs",
        ["organization_id", "created_at", "id"],
        None,
    ),
    (
        "ix_appointments_current_technician_id_updated_at",
        "appointments",
        ["technician_id", "updated_at"],
        "status IN ('enroute', 'started')",
    ),
    (
        "ix_inbound_messages_organization_id_from_phone_received_at",
        "inbound_messages",
        ["organization_id", "from_phone", "received_at"],
        None,
    ),
)


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, table, columns, where in INDEXES:
            # An interrupted concurrent build leaves an invalid index behind: build it anew.
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            op.create_index(
                name,
                table,
                columns,
                postgresql_where=None if where is None else sa.text(where),
                postgresql_concurrently=True,
            )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name, table, _columns, _where in INDEXES:
            op.drop_index(name, table_name=table, postgresql_concurrently=True)
