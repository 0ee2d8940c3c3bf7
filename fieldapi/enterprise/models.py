"""Connections between enterprises and providers, webhooks and their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from fieldapi.db import Base, IdMixin, TimestampMixin, utcnow

CONNECTION_STATES = ("pending", "active", "declined", "ended")
DELIVERY_STATUSES = ("queued", "sending", "delivered", "failed")
FINISHED_DELIVERY_STATUSES = ("delivered", "failed")


class Connection(IdMixin, TimestampMixin, Base):
    """An enterprise's link to a provider (`organization_id`, who owns the connection code).

    `pending` until a provider dispatcher accepts (`active`) or declines; either side may end
    it. Offers need an `active` one; jobs already offered stay when it ends.
    """

    __tablename__ = "connections"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'active', 'declined', 'ended')", name="state"),
        Index(
            "uq_connections_open_pair",
            "organization_id",
            "enterprise_id",
            unique=True,
            postgresql_where=text("state IN ('pending', 'active')"),
        ),
        Index("ix_connections_enterprise_id", "enterprise_id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    state: Mapped[str] = mapped_column(String(20))
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    ended_by: Mapped[str | None] = mapped_column(String(20))  # provider | enterprise
    ended_at: Mapped[datetime | None]


class EnterpriseWebhook(Base):
    """Where an enterprise hears about its jobs, and the key its deliveries are signed with."""

    __tablename__ = "enterprise_webhooks"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id"), primary_key=True
    )
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookDelivery(Base):
    """One event for an enterprise, queued in the change's own transaction and sent by the
    worker. `id` orders the events of a job; `event_id` is what the receiver sees."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sending', 'delivered', 'failed')", name="status"),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('queued', 'sending')"),
        ),
        Index("ix_webhook_deliveries_job_id_id", "job_id", "id"),
        # Keyed within the enterprise (the distribution column, docs/scaling.md); the key
        # also serves the enterprise's list of its deliveries.
        PrimaryKeyConstraint("organization_id", "id"),
        UniqueConstraint(
            "organization_id", "event_id", name="uq_webhook_deliveries_organization_id_event_id"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity())
    event_id: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(200))
    attempt_log: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    @property
    def pending_attempt_at(self) -> datetime | None:
        """When the worker tries next; None once the delivery is finished."""
        return None if self.status in FINISHED_DELIVERY_STATUSES else self.next_attempt_at
