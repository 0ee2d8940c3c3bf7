"""The SMS outbox: every text the product sends is a row here first."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from fieldapi.db import Base, IdMixin, new_id, utcnow


class MessageStatus(enum.StrEnum):
    """A text's status; `message_status.move` is the only way from one to another."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    READ = "read"
    BLOCKED = "blocked"


MESSAGE_STATUSES = tuple(str(status) for status in MessageStatus)

# Texts whose body must not be shown to anyone but their recipient.
SECRET_PURPOSES = frozenset({"passcode"})


class Message(Base):
    """A text, keyed within its organization (the distribution column, docs/scaling.md)."""

    __tablename__ = "messages"
    __table_args__ = (
        PrimaryKeyConstraint("organization_id", "id"),
        # Twilio's SID is unique world-wide; per organization is what a distributed table
        # can enforce. The status callback finds its text by the SID alone through
        # ix_messages_twilio_sid.
        UniqueConstraint(
            "organization_id", "twilio_sid", name="uq_messages_organization_id_twilio_sid"
        ),
        Index("ix_messages_twilio_sid", "twilio_sid"),
        Index("ix_messages_due", "next_attempt_at", postgresql_where=text("status = 'queued'")),
        Index("ix_messages_organization_id_queued_at", "organization_id", "queued_at"),
        Index("ix_messages_queued_at", "queued_at"),  # the latest outcomes (`fieldapi status`)
        Index("ix_messages_job_id", "job_id"),
        # Did a visit have its booked / moved / canceled / reminder text (visit_texts)?
        Index(
            "ix_messages_appointment_id_purpose",
            "appointment_id",
            "purpose",
            postgresql_where=text("appointment_id IS NOT NULL"),
        ),
        Index("ix_messages_to_phone_queued_at", "to_phone", "queued_at"),
        Index("ix_messages_leased", "lease_until", postgresql_where=text("status = 'sending'")),
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in MESSAGE_STATUSES)})", name="status"
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    id: Mapped[uuid.UUID] = mapped_column(default=new_id)
    to_phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(32))
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20), default=MessageStatus.QUEUED.value)
    twilio_sid: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[int | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(100))  # the worker holding the lease
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OptOut(Base):
    """A number that replied STOP (or that Twilio reports as unsubscribed): never texted.

    Global, not per organization: every organization texts from the same Twilio sender,
    and an opt-out applies to that sender.
    """

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(20))  # "reply" | "twilio"
    keyword: Mapped[str | None] = mapped_column(String(20))  # STOP, ... or "21610"
    # The organization that last texted the number when it opted out (for support).
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))


class InboundMessage(IdMixin, Base):
    """A text someone sent us that was not a keyword, kept for the organization that last
    texted that number (None when no organization ever did)."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        Index("ix_inbound_messages_organization_id_received_at", "organization_id", "received_at"),
        Index(
            "ix_inbound_messages_organization_id_from_phone_received_at",
            "organization_id",
            "from_phone",
            "received_at",
        ),
    )

    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    from_phone: Mapped[str] = mapped_column(String(20))
    to_phone: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatusCallback(Base):
    """Each delivery callback Twilio sent for one of our texts, once per (SID, status).

    The unique key makes a repeated callback a no-op. A callback that arrives before the
    worker has recorded the SID has no text (nor organization) yet: it waits in
    `PendingStatusCallback` and moves here when the SID is recorded.
    """

    __tablename__ = "sms_status_callbacks"
    __table_args__ = (
        PrimaryKeyConstraint("organization_id", "id"),
        UniqueConstraint(
            "organization_id",
            "message_sid",
            "status",
            name="uq_sms_status_callbacks_organization_id_message_sid",
        ),
        ForeignKeyConstraint(
            ["organization_id", "message_id"],
            ["messages.organization_id", "messages.id"],
            ondelete="CASCADE",
            name="fk_sms_status_callbacks_message_id_messages",
        ),
    )

    organization_id: Mapped[uuid.UUID]  # the message's
    id: Mapped[int] = mapped_column(BigInteger, Identity())
    message_id: Mapped[uuid.UUID]
    message_sid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[int | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingStatusCallback(Base):
    """A status callback for a SID no text of ours has (yet): Twilio can call back before
    the worker has recorded the SID. Once per (SID, status); moved to `StatusCallback` when
    the SID is recorded, forgotten after `UNMATCHED_CALLBACKS_KEPT` (someone else's SIDs).

    Small and short-lived, with no organization known: a local table (docs/scaling.md)."""

    __tablename__ = "sms_pending_callbacks"
    __table_args__ = (
        UniqueConstraint("message_sid", "status"),
        Index("ix_sms_pending_callbacks_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[int | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
