"""Customers, jobs, appointments, complete reasons and the activity log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from geoalchemy2 import Geography, WKBElement
from geoalchemy2.shape import to_shape
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from fieldapi import lifecycle as lc
from fieldapi.db import Base, IdMixin, TimestampMixin, utcnow
from fieldapi.messaging.optout_clause import is_opted_out_clause

if TYPE_CHECKING:  # the relationships name them; fieldapi.models registers every model
    from fieldapi.accounts.models import Organization, User

JOB_STATUSES = tuple(str(status) for status in lc.JobStatus)
APPOINTMENT_STATUSES = tuple(str(status) for status in lc.AppointmentStatus)
OFFER_STATES = tuple(str(state) for state in lc.OfferState)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Customer(IdMixin, TimestampMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_organization_id_name", "organization_id", "name"),
        # Who sent an inbound text (GET /v1/messages/inbound names the customer).
        Index("ix_customers_organization_id_phone", "organization_id", "phone"),
        Index("ix_customers_site", "site", postgresql_using="gist"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(320))
    address: Mapped[str | None] = mapped_column(Text)
    site: Mapped[WKBElement | None] = mapped_column(
        Geography("POINT", srid=4326, spatial_index=False)
    )
    timezone: Mapped[str] = mapped_column(String(64))
    # The number replied STOP (or Twilio reports it unsubscribed): no text reaches the
    # customer until they reply START, so the dispatcher calls instead. Loaded with the
    # row: one primary-key probe.
    texts_opted_out: Mapped[bool] = column_property(is_opted_out_clause(phone))

    @property
    def lat_lon(self) -> tuple[float, float] | None:
        """The site as (latitude, longitude), None without one."""
        if self.site is None:
            return None
        point = to_shape(self.site)
        return point.y, point.x

    @property
    def lat(self) -> float | None:
        lat_lon = self.lat_lon
        return None if lat_lon is None else lat_lon[0]

    @property
    def lon(self) -> float | None:
        lat_lon = self.lat_lon
        return None if lat_lon is None else lat_lon[1]

    @property
    def site_point(self) -> dict[str, Any] | None:
        """The site as a GeoJSON Point, None without one."""
        lat_lon = self.lat_lon
        return (
            None if lat_lon is None else {"type": "Point", "coordinates": [lat_lon[1], lat_lon[0]]}
        )


class Job(IdMixin, TimestampMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_in("status", JOB_STATUSES), name="status"),
        CheckConstraint(_in("offer_state", OFFER_STATES), name="offer_state"),
        Index("ix_jobs_organization_id_status", "organization_id", "status"),
        # GET /v1/jobs, newest first (its cursor is created_at, id).
        Index("ix_jobs_organization_id_created_at_id", "organization_id", "created_at", "id"),
        Index("ix_jobs_customer_id", "customer_id"),
        Index(
            "uq_jobs_offered_by_id_external_id",
            "offered_by_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        Index("ix_jobs_offered_by_id_created_at", "offered_by_id", "created_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    offer_state: Mapped[str] = mapped_column(String(20), default="none")
    # The enterprise organization that offered the job, its own id for it and its windows.
    offered_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    appointment_windows: Mapped[list[dict[str, str]]] = mapped_column(
        JSONB, default=list, server_default="[]"
    )
    canceled: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20))  # derived by the lifecycle, stored for queries
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # Where the job came from: dispatcher | enterprise | booking (a customer's request).
    source: Mapped[str] = mapped_column(
        String(20), default="dispatcher", server_default="dispatcher"
    )
    # A booking request's preferred windows: [{"start": iso, "end": iso}].
    preferred_windows: Mapped[list[dict[str, str]] | None] = mapped_column(JSONB)

    appointments: Mapped[list[Appointment]] = relationship(
        back_populates="job",
        order_by=lambda: (Appointment.created_at, Appointment.id),
        lazy="selectin",
    )
    customer: Mapped[Customer] = relationship(lazy="joined")
    offered_by: Mapped[Organization | None] = relationship(
        "Organization", foreign_keys="Job.offered_by_id", lazy="joined"
    )

    @property
    def provider_name(self) -> str | None:
        """The name of the enterprise that offered the job (None: the provider's own)."""
        return None if self.offered_by is None else self.offered_by.name


class Appointment(IdMixin, TimestampMixin, Base):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint(_in("status", APPOINTMENT_STATUSES), name="status"),
        CheckConstraint("duration_min > 0", name="duration_positive"),
        Index("ix_appointments_organization_id_starts_at", "organization_id", "starts_at"),
        Index("ix_appointments_technician_id_starts_at", "technician_id", "starts_at"),
        Index("ix_appointments_job_id", "job_id"),
        # A member's current visit, on the team map and in the nearest technicians.
        Index(
            "ix_appointments_current_technician_id_updated_at",
            "technician_id",
            "updated_at",
            postgresql_where=text("status IN ('enroute', 'started')"),
        ),
        # The ping path asks "is this technician en route?" on every upload.
        Index(
            "ix_appointments_enroute_technician_id",
            "technician_id",
            postgresql_where=text("status = 'enroute'"),
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    duration_min: Mapped[int]
    technician_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    reason_code: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(20))
    pause_reason: Mapped[str | None] = mapped_column(Text)
    ended_at: Mapped[datetime | None]
    canceled_by_job: Mapped[bool] = mapped_column(default=False)

    job: Mapped[Job] = relationship(back_populates="appointments")


class CompleteReason(Base):
    __tablename__ = "complete_reasons"
    __table_args__ = (CheckConstraint("outcome IN ('complete', 'pause')", name="outcome"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=0)


DEFAULT_COMPLETE_REASONS: tuple[tuple[str, str, str], ...] = (
    ("repaired", "Repaired (job completed)", "complete"),
    ("parts_ordered", "Parts Ordered", "pause"),
    ("waiting_for_parts", "Waiting For Parts", "pause"),
    ("follow_up_required", "Requires Follow-Up Appointment", "pause"),
    ("no_show", "No Show", "pause"),
    ("ready_for_billing", "Ready For Billing", "pause"),
)


class ActivityEvent(Base):
    __tablename__ = "activity_events"
    __table_args__ = (
        PrimaryKeyConstraint("organization_id", "id"),  # distributable (docs/scaling.md)
        Index(
            "ix_activity_events_organization_id_job_id_at", "organization_id", "job_id", "at", "id"
        ),
        # The newest on-my-ways with a known distance first: an ETA fit's trips
        # (fieldapi.eta.calibration._TRIPS, whose WHERE this predicate repeats: with
        # only `action`, the planner misjudged the JSON filters and sorted every one).
        Index(
            "ix_activity_events_on_my_way",
            "organization_id",
            "at",
            postgresql_where=text(
                "action = 'on-my-way' AND details -> 'eta' ->> 'distance_m' IS NOT NULL "
                "AND details -> 'eta' ->> 'method' IN "
                "('request_position', 'latest_position', 'calibrated')"
            ),
        ),
    )

    # The table's autoincrement column: it orders a flush's entries, so that they go in one
    # INSERT (insertmanyvalues needs such a sentinel to match the ids RETURNING gives).
    id: Mapped[int] = mapped_column(BigInteger, Identity(), autoincrement=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    appointment_id: Mapped[uuid.UUID | None]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str | None] = mapped_column(String(200))
    actor_kind: Mapped[str] = mapped_column(String(20))  # user | enterprise | system
    action: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


VISIBILITIES = ("public", "private")


class JobNote(IdMixin, Base):
    """A note on a job; `public` ones are also shown to the enterprise that provided it."""

    __tablename__ = "job_notes"
    __table_args__ = (
        CheckConstraint(_in("visibility", VISIBILITIES), name="visibility"),
        Index(
            "ix_job_notes_organization_id_job_id_created_at",
            "organization_id",
            "job_id",
            "created_at",
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    author: Mapped[User | None] = relationship("User", lazy="selectin")


class JobPhoto(IdMixin, Base):
    """A photo on a job: metadata here, the bytes in the file store under `storage_key`."""

    __tablename__ = "job_photos"
    __table_args__ = (
        CheckConstraint(_in("visibility", VISIBILITIES), name="visibility"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        Index(
            "ix_job_photos_organization_id_job_id_created_at",
            "organization_id",
            "job_id",
            "created_at",
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    visibility: Mapped[str] = mapped_column(String(10))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # Unique, and indexed for the worker's sweep of files no row points to.
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    author: Mapped[User | None] = relationship("User", lazy="selectin")
