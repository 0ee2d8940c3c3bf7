"""Reading jobs, appointments and the calendar, as answers for the wire (`answers`).

Every job answer carries its `status`, its `appointments` and the `allowed_actions` of the
caller (from the lifecycle, so the apps show exactly the buttons that will work).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased, contains_eager

from fieldapi import lifecycle as lc
from fieldapi.accounts.members import Member, members_by_id
from fieldapi.accounts.principal import Principal
from fieldapi.errors import NotFound, Unprocessable
from fieldapi.jobs.answers import AppointmentAnswer, JobAnswer, JobDetail
from fieldapi.jobs.models import Appointment, Job
from fieldapi.jobs.reasons import list_reasons, reasons_owner
from fieldapi.jobs.rules import MAX_DURATION_MIN
from fieldapi.jobs.visibility import visible_appointments, visible_jobs
from fieldapi.pagination import DEFAULT_LIMIT, Page, paginate

MAX_CALENDAR_WINDOW = timedelta(days=62)


def technicians_of(db: Session, appointments: Iterable[Appointment]) -> dict[uuid.UUID, Member]:
    return members_by_id(db, (a.technician_id for a in appointments if a.technician_id is not None))


def get_job(db: Session, principal: Principal, job_id: uuid.UUID) -> JobDetail:
    job = db.scalar(
        select(Job)
        .where(Job.id == job_id, visible_jobs(principal))
        .execution_options(populate_existing=True)
    )
    if job is None:
        raise NotFound("No such job.")
    technicians = technicians_of(db, job.appointments)
    return JobDetail(job, technicians, principal, list_reasons(db, reasons_owner(db, job)))


def get_appointment(
    db: Session, principal: Principal, appointment_id: uuid.UUID
) -> AppointmentAnswer:
    """An appointment of a job the caller may see."""
    # An alias, so visible_jobs' own EXISTS over appointments does not correlate to it.
    outer = aliased(Appointment)
    row = db.scalar(
        select(outer)
        .join(Job, Job.id == outer.job_id)
        .where(
            outer.id == appointment_id,
            visible_appointments(principal, outer),
            visible_jobs(principal),
        )
        .options(contains_eager(outer.job))
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound("No such appointment.")
    technicians = technicians_of(db, row.job.appointments)
    return AppointmentAnswer.in_calendar(row, technicians, principal.actor())


def list_jobs(
    db: Session,
    principal: Principal,
    *,
    statuses: Sequence[str] = (),
    customer_id: uuid.UUID | None = None,
    technician_id: uuid.UUID | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[JobAnswer]:
    """Newest first."""
    statement = select(Job).where(visible_jobs(principal))
    if statuses:
        statement = statement.where(Job.status.in_(statuses))
    if customer_id is not None:
        statement = statement.where(Job.customer_id == customer_id)
    if technician_id is not None:
        statement = statement.where(
            exists(
                select(Appointment.id).where(
                    Appointment.job_id == Job.id, Appointment.technician_id == technician_id
                )
            )
        )
    page = paginate(
        db,
        statement,
        keys=(Job.created_at, Job.id),
        key_of=lambda job: (job.created_at, job.id),
        limit=limit,
        cursor=cursor,
        descending=True,
    )
    technicians = technicians_of(db, (a for job in page.items for a in job.appointments))
    return Page([JobAnswer(job, technicians, principal) for job in page.items], page.next_cursor)


def calendar(
    db: Session,
    principal: Principal,
    *,
    start: datetime,
    end: datetime,
    technician_id: uuid.UUID | None = None,
    status: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[AppointmentAnswer]:
    """Appointments overlapping [start, end), by start time. Technicians see their own."""
    if end <= start or end - start > MAX_CALENDAR_WINDOW:
        raise Unprocessable(
            "`to` must be after `from`, at most 62 days later.",
            errors={"to": ["After `from`, within 62 days."]},
        )
    ends_at = Appointment.starts_at + func.make_interval(0, 0, 0, 0, 0, Appointment.duration_min)
    statement = (
        select(Appointment)
        .join(Appointment.job)
        .where(
            visible_appointments(principal),
            Job.offer_state != lc.OfferState.DECLINED.value,
            Appointment.starts_at < end,
            # bounded below too, so the (organization_id, starts_at) index serves the scan
            Appointment.starts_at > start - timedelta(minutes=MAX_DURATION_MIN),
            ends_at > start,
        )
        .options(contains_eager(Appointment.job))
    )
    if technician_id is not None:
        statement = statement.where(Appointment.technician_id == technician_id)
    if status is not None:
        statement = statement.where(Appointment.status == status)
    page = paginate(
        db,
        statement,
        keys=(Appointment.starts_at, Appointment.id),
        key_of=lambda row: (row.starts_at, row.id),
        limit=limit,
        cursor=cursor,
    )
    technicians = technicians_of(db, (a for row in page.items for a in row.job.appointments))
    actor = principal.actor()
    return Page(
        [AppointmentAnswer.in_calendar(row, technicians, actor) for row in page.items],
        page.next_cursor,
    )
