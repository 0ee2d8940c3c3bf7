"""Location history (partitioned by time) and the latest position of each user.

`location_pings` is declared RANGE-partitioned on `recorded_at`; its weekly partitions
are created and dropped by `fieldapi.locations.partitions`, not by the metadata.
Its only index is the primary key (organization_id, user_id, recorded_at): it serves the
duplicate check, tracks and the previous-fix lookup (scanned backwards), so a second,
DESC index would only slow ingest down. No foreign keys either: a per-row RI check
costs ingest throughput, the user always comes from a verified token, and users are
deactivated, never deleted.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time

from geoalchemy2 import Geography, WKBElement
from sqlalchemy import (
    REAL,
    CheckConstraint,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from fieldapi.db import Base, IdMixin, utcnow


def _point() -> Geography:
    return Geography("POINT", srid=4326, spatial_index=False)


class LocationPing(Base):
    __tablename__ = "location_pings"
    __table_args__ = (
        PrimaryKeyConstraint("organization_id", "user_id", "recorded_at"),
        {"postgresql_partition_by": "RANGE (recorded_at)"},
    )

    organization_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    recorded_at: Mapped[datetime]
    position: Mapped[WKBElement] = mapped_column(_point())
    accuracy_m: Mapped[float | None] = mapped_column(REAL)
    speed_mps: Mapped[float | None] = mapped_column(REAL)
    heading_deg: Mapped[float | None] = mapped_column(REAL)
    altitude_m: Mapped[float | None] = mapped_column(REAL)
    battery_pct: Mapped[float | None] = mapped_column(REAL)
    # Kept in the history, but never a latest position nor part of a track.
    impossible_jump: Mapped[bool] = mapped_column(default=False, server_default=false())


class LatestLocation(Base):
    """The newest good fix of each user; it only ever moves forward in `recorded_at`.

    The team map reads one organization's rows by the primary key; the GiST index on
    (organization_id, position) (btree_gist for the uuid) serves the nearest technicians'
    KNN shortlist (`<->`) within one organization. It costs ingest the
    HOT updates of this table (an update that moves a position must update the index).
    """

    __tablename__ = "latest_locations"
    __table_args__ = (
        PrimaryKeyConstraint("organization_id", "user_id"),
        Index(
            "ix_latest_locations_organization_id_position",
            "organization_id",
            "position",
            postgresql_using="gist",
        ),
        {"postgresql_with": {"fillfactor": 70}},
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]
    position: Mapped[WKBElement] = mapped_column(_point())
    accuracy_m: Mapped[float | None] = mapped_column(REAL)
    speed_mps: Mapped[float | None] = mapped_column(REAL)
    heading_deg: Mapped[float | None] = mapped_column(REAL)
    altitude_m: Mapped[float | None] = mapped_column(REAL)
    battery_pct: Mapped[float | None] = mapped_column(REAL)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrackerDevice(IdMixin, Base):
    """A tracker app (Traccar Client, OsmAnd, OwnTracks, Overland) a user added: its token,
    stored only as a keyed hash, may post that user's positions until it is revoked or the
    user is deactivated."""

    __tablename__ = "tracker_devices"
    __table_args__ = (
        Index("ix_tracker_devices_organization_id_user_id", "organization_id", "user_id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class WorkingHours(Base):
    """When an organization tracks its people: one span per weekday (0 is Monday) in the
    organization's time zone. An organization without rows tracks whenever one is on duty;
    with rows, a ping outside every span is refused and stored nowhere."""

    __tablename__ = "working_hours"
    __table_args__ = (
        PrimaryKeyConstraint("organization_id", "weekday"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("starts < ends", name="span"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    starts: Mapped[time]
    ends: Mapped[time]


class TrackView(IdMixin, Base):
    """One read of a user's track: who read whose, which window, when."""

    __tablename__ = "track_views"
    __table_args__ = (
        Index(
            "ix_track_views_organization_id_user_id_viewed_at",
            "organization_id",
            "user_id",
            "viewed_at",
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    viewer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    since: Mapped[datetime]
    until: Mapped[datetime]
    viewed_at: Mapped[datetime] = mapped_column(default=utcnow)
