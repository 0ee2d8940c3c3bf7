"""What new fixes of a technician en route do: the ETA follows the drive, the customer
gets a running-late text when it slips, and an arrival is recorded once (and, with
`auto_start_on_arrival`, starts the appointment through the lifecycle).

Two signals reach the one arrival record: the technician's fixes dwelling at the site
(`follow_the_drive`, after every accepted upload of a technician with an `enroute`
appointment, from any app), and a geofence the phone itself reports entering
(`arrive_at_site`, OwnTracks' `transition`). The ingest learns "en route" in the
statements it runs anyway, so pings of everyone else pay nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from fieldapi.accounts.organizations import organization_settings
from fieldapi.eta.service import estimate_arrival
from fieldapi.jobs import commands
from fieldapi.jobs.activity import record_event
from fieldapi.jobs.arrival import ArrivalRule, arrival_time
from fieldapi.jobs.models import ActivityEvent, Appointment, Job
from fieldapi.jobs.texts import TextSettings, send_running_late
from fieldapi.public.models import VisitTracking

#: Running-late texts one visit may get, whatever the drive does.
MAX_LATE_TEXTS = 2


@dataclass(frozen=True)
class DriveSettings:
    texts: TextSettings
    late_after: timedelta = timedelta(minutes=10)
    arrival: ArrivalRule = field(default_factory=ArrivalRule)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DriveSettings:
        return cls(
            texts=TextSettings.from_config(config),
            late_after=timedelta(minutes=config["RUNNING_LATE_AFTER_MINUTES"]),
            arrival=ArrivalRule.from_config(config),
        )


def follow_the_drive(
    db: Session,
    *,
    organization_id: uuid.UUID,
    technician_id: uuid.UUID,
    now: datetime,
    settings: DriveSettings,
) -> None:
    """After pings of `technician_id` were stored: each of their en-route visits gets a
    fresh ETA, a running-late text if due, its arrival if the fixes show one. One
    transaction per visit, under its job's lock."""
    visits = db.execute(
        select(Appointment.id, Appointment.job_id).where(
            Appointment.organization_id == organization_id,
            Appointment.technician_id == technician_id,
            Appointment.status == "enroute",
        )
    ).all()
    for appointment_id, job_id in visits:
        _follow_visit(db, organization_id, job_id, appointment_id, now=now, settings=settings)


def _follow_visit(
    db: Session,
    organization_id: uuid.UUID,
    job_id: uuid.UUID,
    appointment_id: uuid.UUID,
    *,
    now: datetime,
    settings: DriveSettings,
) -> None:
    job, rows = commands.lock_job_of_organization(db, organization_id, job_id)
    appointment = next((row for row in rows if row.id == appointment_id), None)
    tracking = db.get(VisitTracking, appointment_id, populate_existing=True)
    if appointment is None or appointment.status != "enroute" or tracking is None:
        db.rollback()  # it moved on while we waited for the lock
        return
    technician_id = appointment.technician_id
    assert technician_id is not None  # only assigned visits are followed
    _follow_eta(db, job, appointment, tracking, technician_id, now=now, settings=settings)
    if tracking.arrived_at is None and not _arrival_recorded(db, job, appointment.id):
        arrived_at = arrival_time(
            db,
            organization_id=organization_id,
            technician_id=technician_id,
            customer_id=job.customer_id,
            since=tracking.created_at,
            rule=settings.arrival,
        )
        if arrived_at is not None:
            _record_arrival(
                db, job, rows, appointment, tracking, arrived_at, now, settings, "fixes"
            )
            return  # committed
    db.commit()


def _follow_eta(
    db: Session,
    job: Job,
    appointment: Appointment,
    tracking: VisitTracking,
    technician_id: uuid.UUID,
    *,
    now: datetime,
    settings: DriveSettings,
) -> None:
    """The ETA from the latest position, by the on-my-way model; a running-late text when
    it passed the arrival the customer was told by more than `late_after`."""
    eta = estimate_arrival(
        db,
        organization_id=job.organization_id,
        technician_id=technician_id,
        customer_id=job.customer_id,
        position=None,
        now=now,
        settings=settings.texts.eta,
    )
    if eta.arrive_by is None:
        return
    tracking.eta_arrive_by, tracking.eta_distance_m = eta.arrive_by, eta.distance_m
    tracking.eta_updated_at = now
    promised = tracking.promised_arrive_by
    if promised is None:
        # The on-my-way text had no time: the first estimate is what lateness counts from.
        tracking.promised_arrive_by = eta.arrive_by
        return
    if eta.arrive_by - promised <= settings.late_after or tracking.late_texts >= MAX_LATE_TEXTS:
        return
    tracking.late_texts += 1
    tracking.promised_arrive_by = eta.arrive_by
    record_event(
        db,
        job,
        action="running_late",
        at=now,
        appointment_id=appointment.id,
        details={
            "promised_arrive_by": promised.isoformat(),
            "arrive_by": eta.arrive_by.isoformat(),
            "late_text": tracking.late_texts,
        },
    )
    texts = settings.texts
    send_running_late(db, job, appointment, arrive_by=eta.arrive_by, now=now, settings=texts)


# En-route appointments of the technician whose site is within `radius` of a position.
_VISITS_AT = text(
    """
    SELECT ap.id, ap.job_id FROM appointments ap
    JOIN jobs j ON j.id = ap.job_id AND j.organization_id = ap.organization_id
    JOIN customers c ON c.id = j.customer_id
    WHERE ap.organization_id = :org AND ap.technician_id = :user AND ap.status = 'enroute'
      AND ST_DWithin(c.site, CAST(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geography),
                     :radius)
    ORDER BY ap.starts_at
    """
)


def arrive_at_site(
    db: Session,
    *,
    organization_id: uuid.UUID,
    technician_id: uuid.UUID,
    lat: float,
    lon: float,
    accuracy_m: float | None,
    at: datetime,
    now: datetime,
    settings: DriveSettings,
    source: str,
) -> list[uuid.UUID]:
    """A phone reports being at a position (a geofence it watched itself): every visit the
    technician is en route to whose site lies within the arrival radius (widened by the
    fix's accuracy, at most twice the radius) records its arrival, once; the visits."""
    radius = settings.arrival.radius_m
    near = db.execute(
        _VISITS_AT,
        {
            "org": organization_id,
            "user": technician_id,
            "lat": lat,
            "lon": lon,
            "radius": radius + min(accuracy_m or 0.0, radius),
        },
    ).all()
    arrived: list[uuid.UUID] = []
    for appointment_id, job_id in near:
        job, rows = commands.lock_job_of_organization(db, organization_id, job_id)
        appointment = next((row for row in rows if row.id == appointment_id), None)
        tracking = db.get(VisitTracking, appointment_id, populate_existing=True)
        if (
            appointment is None
            or appointment.status != "enroute"
            or (tracking is not None and tracking.arrived_at is not None)
            or _arrival_recorded(db, job, appointment_id)
        ):
            db.rollback()
            continue
        _record_arrival(db, job, rows, appointment, tracking, at, now, settings, source)
        arrived.append(appointment_id)
    return arrived


def _arrival_recorded(db: Session, job: Job, appointment_id: uuid.UUID) -> bool:
    return (
        db.scalar(
            select(ActivityEvent.id).where(
                ActivityEvent.organization_id == job.organization_id,
                ActivityEvent.job_id == job.id,  # the log's index is by job, none by appointment
                ActivityEvent.appointment_id == appointment_id,
                ActivityEvent.action == "arrived",
            )
        )
        is not None
    )


def _record_arrival(
    db: Session,
    job: Job,
    rows: list[Appointment],
    appointment: Appointment,
    tracking: VisitTracking | None,
    arrived_at: datetime,
    now: datetime,
    settings: DriveSettings,
    source: str,
) -> None:
    """The one record of an arrival (whatever showed it), under the job's lock; commits."""
    if tracking is not None:
        tracking.arrived_at = arrived_at
    record_event(
        db,
        job,
        action="arrived",
        at=now,
        appointment_id=appointment.id,
        details={"arrived_at": arrived_at.isoformat(), "source": source},
    )
    # Held through the start, which reads the organization again (from the session).
    organization = organization_settings(db, job.organization_id)
    if organization.auto_start_on_arrival:
        commands.start_on_arrival(db, job, rows, appointment.id, now=now, settings=settings.texts)
    else:
        db.commit()
