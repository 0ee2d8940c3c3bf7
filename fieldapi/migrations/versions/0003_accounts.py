"""accounts: passcodes, passcode requests, used refresh tokens

Revision ID: 0003_accounts
Revises: 0001_foundation
Create Date: 2026-11-25 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_accounts"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # passcodes and passcode_requests are global (no organization_id): a passcode is asked
    # for before anyone is known, and numbers without an account get rows too, so that the
    # answer and the work never reveal whether a number is registered.
    op.create_table(
        "passcodes",
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone_hash", name=op.f("pk_passcodes")),
    )
    op.create_table(
        "passcode_requests",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("texted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passcode_requests")),
    )
    op.create_index(
        "ix_passcode_requests_phone_hash_requested_at",
        "passcode_requests",
        ["phone_hash", "requested_at"],
        unique=False,
    )
    op.create_index(
        "ix_passcode_requests_texted_requested_at",
        "passcode_requests",
        ["requested_at"],
        unique=False,
        postgresql_where=sa.text("texted"),
    )
    op.create_table(
        "used_refresh_tokens",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_used_refresh_tokens_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_sessions.id"],
            name=op.f("fk_used_refresh_tokens_session_id_auth_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "token_hash", name=op.f("pk_used_refresh_tokens")
        ),
    )
    op.create_index(
        "ix_used_refresh_tokens_token_hash", "used_refresh_tokens", ["token_hash"], unique=False
    )
    op.create_index(
        "ix_used_refresh_tokens_session_id", "used_refresh_tokens", ["session_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_used_refresh_tokens_session_id", table_name="used_refresh_tokens")
    op.drop_index("ix_used_refresh_tokens_token_hash", table_name="used_refresh_tokens")
    op.drop_table("used_refresh_tokens")
    op.drop_index(
        "ix_passcode_requests_texted_requested_at",
        table_name="passcode_requests",
        postgresql_where=sa.text("texted"),
    )
    op.drop_index("ix_passcode_requests_phone_hash_requested_at", table_name="passcode_requests")
    op.drop_table("passcode_requests")
    op.drop_table("passcodes")
