"""What a tracking link shows: the status words, the ETA, a coarse position, the site.

The technician's position is rounded to 3 decimal places (about 110 m north-south, 80 m
east-west at mid latitudes) and its accuracy reported as 100 m: enough to watch
the van approach across the neighbourhood, too coarse to tell which driveway it stands in
or to follow the technician street by street. It is shown only while on the way; a stale
fix (older than ETA_POSITION_MAX_AGE) is not shown at all.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.errors import NotFound
from fieldapi.jobs.models import Appointment, Customer, Job
from fieldapi.locations.positions import latest_known_position
from fieldapi.public.links import looks_like_token, token_hash
from fieldapi.public.models import VisitTracking

POSITION_DECIMALS = 3
#: The accuracy the rounding leaves (the fix's own accuracy is better: fixes that are
#: worse never become the latest position).
SHOWN_ACCURACY_M = 100.0

ON_THE_WAY = "on_the_way"
ARRIVED = "arrived"
FINISHED = "finished"
CANCELED = "canceled"


@dataclass(frozen=True)
class TrackingSettings:
    link_lifetime_after_visit: timedelta = timedelta(hours=2)
    position_max_age: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TrackingSettings:
        return cls(
            link_lifetime_after_visit=timedelta(hours=config["TRACKING_LINK_HOURS"]),
            position_max_age=timedelta(seconds=config["ETA_POSITION_MAX_AGE"]),
        )


NO_SUCH_LINK = "This tracking link does not exist or has expired."


def tracking_status(
    db: Session, token: str, *, now: datetime, settings: TrackingSettings
) -> dict[str, Any]:
    """The tracking answer of a live token; NotFound for any other (never existed, dead)."""
    if not looks_like_token(token):
        raise NotFound(NO_SUCH_LINK)
    row = db.execute(
        select(VisitTracking, Appointment, Job, Customer, Organization)
        .join(Appointment, Appointment.id == VisitTracking.appointment_id)
        .join(Job, Job.id == Appointment.job_id)
        .join(Customer, Customer.id == Job.customer_id)
        .join(Organization, Organization.id == VisitTracking.organization_id)
        .where(VisitTracking.token_hash == token_hash(token))
    ).one_or_none()
    if row is None:
        raise NotFound(NO_SUCH_LINK)
    tracking, appointment, job, customer, organization = row
    status = _status_words(tracking, appointment, job)
    ended_at = _visit_ended_at(appointment, status)
    if ended_at is not None and now > ended_at + settings.link_lifetime_after_visit:
        raise NotFound(NO_SUCH_LINK)
    technician = (
        None if appointment.technician_id is None else db.get(User, appointment.technician_id)
    )
    eta = position = None
    if status == ON_THE_WAY:
        eta = _eta(tracking.eta_arrive_by, now)
        if appointment.technician_id is not None:
            position = _coarse_position(
                db, organization.id, appointment.technician_id, now, settings.position_max_age
            )
    site = None
    if customer.site is not None:
        point = to_shape(customer.site)
        site = {"lat": point.y, "lon": point.x}
    moments = [tracking.created_at, tracking.eta_updated_at, tracking.arrived_at, ended_at]
    return {
        "status": status,
        "organization": {"name": organization.name},
        "technician": {"first_name": technician.first_name if technician else None},
        "eta": eta,
        "position": position,
        "site": site,
        "updated_at": max(m for m in moments if m is not None),
    }


def _status_words(tracking: VisitTracking, appointment: Appointment, job: Job) -> str:
    if job.canceled or appointment.status == "canceled":
        return CANCELED
    if appointment.status in ("complete", "paused"):
        return FINISHED
    if appointment.status == "started" or tracking.arrived_at is not None:
        return ARRIVED
    return ON_THE_WAY


def _visit_ended_at(appointment: Appointment, status: str) -> datetime | None:
    if status == FINISHED:
        return appointment.ended_at or appointment.updated_at
    if status == CANCELED:
        return appointment.updated_at
    return None


def _eta(arrive_by: datetime | None, now: datetime) -> dict[str, Any] | None:
    if arrive_by is None:
        return None
    minutes = max(0, math.ceil((arrive_by - now).total_seconds() / 60))
    return {"minutes": minutes, "arrive_by": arrive_by}


def _coarse_position(
    db: Session,
    organization_id: uuid.UUID,
    technician_id: uuid.UUID,
    now: datetime,
    max_age: timedelta,
) -> dict[str, Any] | None:
    known = latest_known_position(db, organization_id, technician_id, max_age, now=now)
    if known is None:
        return None
    return {
        "lat": round(known.lat, POSITION_DECIMALS),
        "lon": round(known.lon, POSITION_DECIMALS),
        "accuracy_m": SHOWN_ACCURACY_M,
        "recorded_at": known.recorded_at,
    }
