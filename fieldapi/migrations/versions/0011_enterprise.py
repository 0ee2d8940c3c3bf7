"""Enterprises: organization kinds, the manager role, connections, offers by reference,
outbound webhooks and their deliveries

`jobs.provider_name` (a free-text enterprise name) becomes `jobs.offered_by_id`, a reference
to an enterprise organization: each distinct old name becomes an enterprise of that name.

Revision ID: 0011_enterprise
Revises: 0010_rate_limit_counters
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011_enterprise"
down_revision: str | Sequence[str] | None = "0010_rate_limit_counters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "organizations",
        sa.Column("kind", sa.String(length=20), server_default="provider", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_organizations_kind"), "organizations", "kind IN ('provider', 'enterprise')"
    )
    op.add_column("organizations", sa.Column("connection_code", sa.String(length=32)))
    op.execute(
        "UPDATE organizations SET connection_code = "
        "upper(substr(md5(random()::text || id::text), 1, 12))"
    )
    op.create_unique_constraint(
        "uq_organizations_connection_code", "organizations", ["connection_code"]
    )
    op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
    op.create_check_constraint(
        op.f("ck_users_role"), "users", "role IN ('dispatcher', 'technician', 'both', 'manager')"
    )

    op.add_column("jobs", sa.Column("offered_by_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        "fk_jobs_offered_by_id_organizations", "jobs", "organizations", ["offered_by_id"], ["id"]
    )
    op.add_column("jobs", sa.Column("external_id", sa.String(length=200), nullable=True))
    op.add_column(
        "jobs",
        sa.Column(
            "appointment_windows",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
    )
    op.execute(
        "INSERT INTO organizations (id, name, timezone, arrival_texts, kind, created_at, "
        "updated_at) SELECT gen_random_uuid(), provider_name, 'America/New_York', false, "
        "'enterprise', now(), now() FROM (SELECT DISTINCT provider_name FROM jobs "
        "WHERE provider_name IS NOT NULL) AS names"
    )
    op.execute(
        "UPDATE jobs SET offered_by_id = o.id FROM organizations o "
        "WHERE o.kind = 'enterprise' AND o.name = jobs.provider_name"
    )
    op.drop_column("jobs", "provider_name")
    op.create_index(
        "uq_jobs_offered_by_id_external_id",
        "jobs",
        ["offered_by_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_index("ix_jobs_offered_by_id_created_at", "jobs", ["offered_by_id", "created_at"])

    op.create_table(
        "connections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("requested_by_id", sa.Uuid(), nullable=True),
        sa.Column("ended_by", sa.String(length=20), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'active', 'declined', 'ended')", name=op.f("ck_connections_state")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_connections_organization_id_organizations",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["organizations.id"],
            name="fk_connections_enterprise_id_organizations",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name="fk_connections_requested_by_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_connections"),
    )
    op.create_index(
        "uq_connections_open_pair",
        "connections",
        ["organization_id", "enterprise_id"],
        unique=True,
        postgresql_where=sa.text("state IN ('pending', 'active')"),
    )
    op.create_index("ix_connections_enterprise_id", "connections", ["enterprise_id"])

    op.create_table(
        "enterprise_webhooks",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_enterprise_webhooks_organization_id_organizations",
        ),
        sa.PrimaryKeyConstraint("organization_id", name="pk_enterprise_webhooks"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leased_by", sa.String(length=200), nullable=True),
        sa.Column("attempt_log", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'delivered', 'failed')",
            name=op.f("ck_webhook_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_webhook_deliveries_organization_id_organizations",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_webhook_deliveries_job_id_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint("event_id", name="uq_webhook_deliveries_event_id"),
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status IN ('queued', 'sending')"),
    )
    op.create_index("ix_webhook_deliveries_job_id_id", "webhook_deliveries", ["job_id", "id"])
    op.create_index(
        "ix_webhook_deliveries_organization_id_id", "webhook_deliveries", ["organization_id", "id"]
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("enterprise_webhooks")
    op.drop_table("connections")
    op.drop_index("ix_jobs_offered_by_id_created_at", table_name="jobs")
    op.drop_index("uq_jobs_offered_by_id_external_id", table_name="jobs")
    op.add_column("jobs", sa.Column("provider_name", sa.String(length=200), nullable=True))
    op.execute(
        "UPDATE jobs SET provider_name = o.name FROM organizations o WHERE o.id = jobs.offered_by_id"
    )
    op.drop_column("jobs", "appointment_windows")
    op.drop_column("jobs", "external_id")
    op.drop_constraint("fk_jobs_offered_by_id_organizations", "jobs", type_="foreignkey")
    op.drop_column("jobs", "offered_by_id")
    op.execute("DELETE FROM users WHERE role = 'manager'")
    op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
    op.create_check_constraint(
        op.f("ck_users_role"), "users", "role IN ('dispatcher', 'technician', 'both')"
    )
    op.drop_constraint("uq_organizations_connection_code", "organizations", type_="unique")
    op.drop_column("organizations", "connection_code")
    op.drop_constraint(op.f("ck_organizations_kind"), "organizations", type_="check")
    op.drop_column("organizations", "kind")
