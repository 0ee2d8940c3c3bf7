"""Distribution keys: the outbox, the activity log, status callbacks and webhook deliveries
keyed within their organization

Each primary key, unique constraint and foreign key among the tables that grow without
bound includes organization_id, as distributing them by it requires (docs/scaling.md):

* messages: organization_id NOT NULL (backfilled from the text's job, else from the user
  with the number texted; a text that has neither has no owner and is deleted), primary
  key (organization_id, id), twilio_sid unique per organization plus a plain index for the
  status callback's lookup by SID alone;
* sms_status_callbacks: only the callbacks of a known text, keyed (organization_id, id),
  unique (organization_id, message_sid, status), foreign key (organization_id, message_id)
  to messages; the callbacks of no text yet move to the new sms_pending_callbacks;
* activity_events, webhook_deliveries: primary key (organization_id, id); a delivery's
  event_id unique per organization (its index on (organization_id, id) is the key's now).

The new keys are built while the tables are locked: run it in a quiet moment.

Revision ID: 0016_distribution_keys
Revises: 0015_nearest
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_distribution_keys"
down_revision: str | Sequence[str] | None = "0015_nearest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _messages_up()
    _callbacks_up()
    op.drop_constraint("pk_activity_events", "activity_events", type_="primary")
    op.create_primary_key("pk_activity_events", "activity_events", ["organization_id", "id"])
    _deliveries_up()


def _messages_up() -> None:
    op.execute(
        "UPDATE messages m SET organization_id = j.organization_id FROM jobs j "
        "WHERE m.organization_id IS NULL AND j.id = m.job_id"
    )
    op.execute(
        "UPDATE messages m SET organization_id = u.organization_id FROM users u "
        "WHERE m.organization_id IS NULL AND u.phone = m.to_phone"
    )
    # Texts of no organization, job or user (login codes of earlier versions, long expired):
    # nothing could ever list them. Their callbacks go with them (ON DELETE CASCADE).
    op.execute("DELETE FROM messages WHERE organization_id IS NULL")
    op.alter_column("messages", "organization_id", existing_type=sa.Uuid(), nullable=False)

    op.drop_constraint(
        "fk_sms_status_callbacks_message_id_messages", "sms_status_callbacks", type_="foreignkey"
    )
    op.drop_constraint("pk_messages", "messages", type_="primary")
    op.create_primary_key("pk_messages", "messages", ["organization_id", "id"])
    op.drop_constraint("uq_messages_twilio_sid", "messages", type_="unique")
    op.create_unique_constraint(
        "uq_messages_organization_id_twilio_sid", "messages", ["organization_id", "twilio_sid"]
    )
    op.create_index("ix_messages_twilio_sid", "messages", ["twilio_sid"])


def _callbacks_up() -> None:
    op.create_table(
        "sms_pending_callbacks",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sms_pending_callbacks"),
        sa.UniqueConstraint("message_sid", "status", name="uq_sms_pending_callbacks_message_sid"),
    )
    op.create_index(
        "ix_sms_pending_callbacks_received_at", "sms_pending_callbacks", ["received_at"]
    )
    op.execute(
        "INSERT INTO sms_pending_callbacks (message_sid, status, error_code, received_at) "
        "SELECT message_sid, status, error_code, received_at FROM sms_status_callbacks "
        "WHERE message_id IS NULL ORDER BY id"
    )
    op.execute("DELETE FROM sms_status_callbacks WHERE message_id IS NULL")
    op.execute(
        "UPDATE sms_status_callbacks c SET organization_id = m.organization_id FROM messages m "
        "WHERE m.id = c.message_id AND c.organization_id IS DISTINCT FROM m.organization_id"
    )
    op.drop_index("ix_sms_status_callbacks_unmatched", table_name="sms_status_callbacks")
    op.alter_column(
        "sms_status_callbacks", "organization_id", existing_type=sa.Uuid(), nullable=False
    )
    op.alter_column("sms_status_callbacks", "message_id", existing_type=sa.Uuid(), nullable=False)
    op.drop_constraint("pk_sms_status_callbacks", "sms_status_callbacks", type_="primary")
    op.create_primary_key(
        "pk_sms_status_callbacks", "sms_status_callbacks", ["organization_id", "id"]
    )
    op.drop_constraint(
        "uq_sms_status_callbacks_message_sid", "sms_status_callbacks", type_="unique"
    )
    op.create_unique_constraint(
        "uq_sms_status_callbacks_organization_id_message_sid",
        "sms_status_callbacks",
        ["organization_id", "message_sid", "status"],
    )
    op.create_foreign_key(
        "fk_sms_status_callbacks_message_id_messages",
        "sms_status_callbacks",
        "messages",
        ["organization_id", "message_id"],
        ["organization_id", "id"],
        ondelete="CASCADE",
    )


def _deliveries_up() -> None:
    op.drop_constraint("pk_webhook_deliveries", "webhook_deliveries", type_="primary")
    op.create_primary_key("pk_webhook_deliveries", "webhook_deliveries", ["organization_id", "id"])
    op.drop_index("ix_webhook_deliveries_organization_id_id", table_name="webhook_deliveries")
    op.drop_constraint("uq_webhook_deliveries_event_id", "webhook_deliveries", type_="unique")
    op.create_unique_constraint(
        "uq_webhook_deliveries_organization_id_event_id",
        "webhook_deliveries",
        ["organization_id", "event_id"],
    )


def downgrade() -> None:
    op.drop_constraint(
        "uq_webhook_deliveries_organization_id_event_id", "webhook_deliveries", type_="unique"
    )
    op.create_unique_constraint(
        "uq_webhook_deliveries_event_id", "webhook_deliveries", ["event_id"]
    )
    op.create_index(
        "ix_webhook_deliveries_organization_id_id", "webhook_deliveries", ["organization_id", "id"]
    )
    op.drop_constraint("pk_webhook_deliveries", "webhook_deliveries", type_="primary")
    op.create_primary_key("pk_webhook_deliveries", "webhook_deliveries", ["id"])

    op.drop_constraint("pk_activity_events", "activity_events", type_="primary")
    op.create_primary_key("pk_activity_events", "activity_events", ["id"])

    op.drop_constraint(
        "fk_sms_status_callbacks_message_id_messages", "sms_status_callbacks", type_="foreignkey"
    )
    op.drop_constraint(
        "uq_sms_status_callbacks_organization_id_message_sid",
        "sms_status_callbacks",
        type_="unique",
    )
    op.create_unique_constraint(
        "uq_sms_status_callbacks_message_sid", "sms_status_callbacks", ["message_sid", "status"]
    )
    op.drop_constraint("pk_sms_status_callbacks", "sms_status_callbacks", type_="primary")
    op.create_primary_key("pk_sms_status_callbacks", "sms_status_callbacks", ["id"])
    op.alter_column("sms_status_callbacks", "message_id", existing_type=sa.Uuid(), nullable=True)
    op.alter_column(
        "sms_status_callbacks", "organization_id", existing_type=sa.Uuid(), nullable=True
    )
    op.execute(
        "INSERT INTO sms_status_callbacks (message_sid, status, error_code, received_at) "
        "SELECT message_sid, status, error_code, received_at FROM sms_pending_callbacks "
        "ORDER BY id ON CONFLICT DO NOTHING"
    )
    op.create_index(
        "ix_sms_status_callbacks_unmatched",
        "sms_status_callbacks",
        ["received_at"],
        postgresql_where=sa.text("message_id IS NULL"),
    )
    op.drop_index("ix_sms_pending_callbacks_received_at", table_name="sms_pending_callbacks")
    op.drop_table("sms_pending_callbacks")

    op.drop_index("ix_messages_twilio_sid", table_name="messages")
    op.drop_constraint("uq_messages_organization_id_twilio_sid", "messages", type_="unique")
    op.create_unique_constraint("uq_messages_twilio_sid", "messages", ["twilio_sid"])
    op.drop_constraint("pk_messages", "messages", type_="primary")
    op.create_primary_key("pk_messages", "messages", ["id"])
    op.alter_column("messages", "organization_id", existing_type=sa.Uuid(), nullable=True)
    op.create_foreign_key(
        "fk_sms_status_callbacks_message_id_messages",
        "sms_status_callbacks",
        "messages",
        ["message_id"],
        ["id"],
        ondelete="CASCADE",
    )
