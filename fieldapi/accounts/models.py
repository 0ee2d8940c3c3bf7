"""Organizations, users, their login sessions, and the records that guard passcode login."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapi.db import Base, IdMixin, TimestampMixin, utcnow

PROVIDER_ROLES = ("dispatcher", "technician", "both")
ENTERPRISE_ROLES = ("manager",)
ROLES = PROVIDER_ROLES + ENTERPRISE_ROLES
ORGANIZATION_KINDS = ("provider", "enterprise")


class Organization(IdMixin, TimestampMixin, Base):
    """A provider (dispatchers and technicians) or an enterprise (managers who offer jobs
    to the providers they are connected to)."""

    __tablename__ = "organizations"
    __table_args__ = (CheckConstraint("kind IN ('provider', 'enterprise')", name="kind"),)

    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    arrival_texts: Mapped[bool] = mapped_column(default=True)
    kind: Mapped[str] = mapped_column(String(20), default="provider", server_default="provider")
    # What a provider gives an enterprise to connect (random, regenerable).
    connection_code: Mapped[str | None] = mapped_column(String(32), unique=True)

    @property
    def is_enterprise(self) -> bool:
        return self.kind == "enterprise"

    # The technician's fixes at the site start the appointment (through the lifecycle).
    auto_start_on_arrival: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The customer's texts about the schedule: booked (or moved), a reminder, canceled.
    booked_texts: Mapped[bool] = mapped_column(default=True, server_default=true())
    reminder_texts: Mapped[bool] = mapped_column(default=True, server_default=true())
    reminder_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    canceled_texts: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Estimates and invoices: one ISO 4217 currency, a default tax rate in basis points.
    currency: Mapped[str] = mapped_column(String(3), default="USD", server_default="USD")
    tax_rate_bp: Mapped[int] = mapped_column(default=0, server_default="0")
    # The customers' booking page GET /book/<booking_slug>, while enabled.
    booking_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    booking_slug: Mapped[str | None] = mapped_column(String(60), unique=True)

    @property
    def tax_rate_pct(self) -> float:
        return self.tax_rate_bp / 100


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('dispatcher', 'technician', 'both', 'manager')", name="role"),
        Index("ix_users_organization_id_name", "organization_id", "name"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    on_duty: Mapped[bool] = mapped_column(default=True)
    # Many-to-one by primary key: found in the session without a query once loaded.
    organization: Mapped[Organization] = relationship()

    @property
    def is_dispatcher(self) -> bool:
        return self.role in ("dispatcher", "both")

    @property
    def is_technician(self) -> bool:
        return self.role in ("technician", "both")

    @property
    def is_enterprise_manager(self) -> bool:
        return self.role == "manager"

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name


class AuthSession(IdMixin, Base):
    """One logged-in device. Tokens are stored only as hashes."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_id", "user_id"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    access_expires_at: Mapped[datetime]
    refresh_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_expires_at: Mapped[datetime]
    device_platform: Mapped[str | None] = mapped_column(String(40))
    device_app: Mapped[str | None] = mapped_column(String(40))
    device_app_version: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    refreshed_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class Passcode(Base):
    """The current login code of one phone number, and that number's failure record.

    Global, not per organization: a code is asked for before anyone is known, and a row is
    kept for numbers without an account too, so that both get the same work and the same
    answer. The number is stored only as a keyed hash, the code only as an HMAC.
    """

    __tablename__ = "passcodes"

    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)  # wrong tries on the current code
    consumed_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(default=0)  # wrong tries since the last login
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PasscodeSource(Base):
    """The wrong passcodes one client address sent (any numbers), and how long it must wait.

    The address is stored only as a keyed hash; the count is forgotten a day after the
    last failure."""

    __tablename__ = "passcode_sources"

    source_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None]
    blocked_until: Mapped[datetime | None]


class PasscodeRequest(Base):
    """One accepted passcode request: the per-number hourly cap and the global hourly text
    budget count these. Global for the same reason as `passcodes`."""

    __tablename__ = "passcode_requests"
    __table_args__ = (
        Index("ix_passcode_requests_phone_hash_requested_at", "phone_hash", "requested_at"),
        Index(
            "ix_passcode_requests_texted_requested_at",
            "requested_at",
            postgresql_where=text("texted"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    texted: Mapped[bool]


class UsedRefreshToken(Base):
    """A refresh token already exchanged (or replaced by a retry). Seeing it again means it
    leaked and the session ends, unless it is a retry within REFRESH_RETRY_SECONDS of
    `used_at` (see `sessions.rotate_refresh_token`)."""

    __tablename__ = "used_refresh_tokens"
    __table_args__ = (
        PrimaryKeyConstraint("organization_id", "token_hash"),
        Index("ix_used_refresh_tokens_token_hash", "token_hash"),
        Index("ix_used_refresh_tokens_session_id", "session_id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    token_hash: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE")
    )
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
