"""Reading jobs, appointments and the calendar, shaped for the wire.

Every job answer carries its `status`, its `appointments` and the `allowed_actions` of the
caller (from the lifecycle, so the apps show exactly the buttons that will work).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased, contains_eager

from fieldapi import lifecycle as lc
from fieldapi.accounts.models import User
from fieldapi.accounts.principal import Principal
from fieldapi.errors import NotFound, Unprocessable
from fieldapi.jobs.models import Appointment, Job
from fieldapi.jobs.reasons import list_reasons, reasons_owner
from fieldapi.jobs.rules import MAX_DURATION_MIN
from fieldapi.jobs.snapshots import job_snapshot
from fieldapi.jobs.visibility import shown_appointments, visible_appointments, visible_jobs
from fieldapi.pagination import DEFAULT_LIMIT, Page, paginate

MAX_CALENDAR_WINDOW = timedelta(days=62)


def technicians_of(db: Session, appointments: Iterable[Appointment]) -> dict[uuid.UUID, User]:
    ids = {a.technician_id for a in appointments if a.technician_id is not None}
    if not ids:
        return {}
    return {user.id: user for user in db.scalars(select(User).where(User.id.in_(ids)))}


def appointment_view(
    row: Appointment, snapshot: lc.Job, technicians: Mapping[uuid.UUID, User], actor: lc.Actor
) -> dict[str, Any]:
    technician = technicians.get(row.technician_id) if row.technician_id else None
    return {
        "id": row.id,
        "job_id": row.job_id,
        "starts_at": row.starts_at,
        "ends_at": row.starts_at + timedelta(minutes=row.duration_min),
        "duration_min": row.duration_min,
        "status": row.status,
        "technician": None
        if technician is None
        else {"id": technician.id, "name": technician.name},
        "reason_code": row.reason_code,
        "outcome": row.outcome,
        "pause_reason": row.pause_reason,
        "ended_at": row.ended_at,
        "allowed_actions": lc.allowed_actions(snapshot, actor, str(row.id)),
    }


def job_view(
    job: Job, technicians: Mapping[uuid.UUID, User], principal: Principal
) -> dict[str, Any]:
    """A job with the appointments the caller may see (a technician: their own); its
    status and actions still follow from all of them."""
    snapshot = job_snapshot(job, job.appointments)
    actor = principal.actor()
    return {
        "id": job.id,
        "title": job.title,
        "description": job.description,
        "status": job.status,
        "offer_state": job.offer_state,
        "provider_name": job.provider_name,
        "offered_by": None
        if job.offered_by is None
        else {"id": job.offered_by.id, "name": job.offered_by.name},
        "source": job.source,
        "preferred_windows": job.preferred_windows or [],
        "customer": job.customer,
        "appointments": [
            appointment_view(row, snapshot, technicians, actor)
            for row in shown_appointments(principal, job.appointments)
        ],
        "allowed_actions": lc.allowed_actions(snapshot, actor),
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    }


def calendar_item(
    row: Appointment, technicians: dict[uuid.UUID, User], actor: lc.Actor
) -> dict[str, Any]:
    job = row.job
    view = appointment_view(row, job_snapshot(job, job.appointments), technicians, actor)
    view["job"] = {"id": job.id, "title": job.title, "status": job.status}
    view["customer"] = job.customer
    return view


def get_job(db: Session, principal: Principal, job_id: uuid.UUID) -> dict[str, Any]:
    job = db.scalar(
        select(Job)
        .where(Job.id == job_id, visible_jobs(principal))
        .execution_options(populate_existing=True)
    )
    if job is None:
        raise NotFound("No such job.")
    view = job_view(job, technicians_of(db, job.appointments), principal)
    view["complete_reasons"] = [
        {"code": r.code, "label": r.label, "outcome": r.outcome}
        for r in list_reasons(db, reasons_owner(db, job))
    ]
    return view


def job_answer(
    principal: Principal,
    job: Job,
    technicians: Mapping[uuid.UUID, User],
    complete_reasons: list[dict[str, str]],
) -> dict[str, Any]:
    """`get_job`'s answer from rows already read (the job's appointments, customer and
    offering enterprise, `technicians` by id, its complete reasons)."""
    return {**job_view(job, technicians, principal), "complete_reasons": complete_reasons}


def get_appointment(db: Session, principal: Principal, appointment_id: uuid.UUID) -> dict[str, Any]:
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
    return calendar_item(row, technicians_of(db, row.job.appointments), principal.actor())


def list_jobs(
    db: Session,
    principal: Principal,
    *,
    statuses: Sequence[str] = (),
    customer_id: uuid.UUID | None = None,
    technician_id: uuid.UUID | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
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
    return Page([job_view(job, technicians, principal) for job in page.items], page.next_cursor)


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
) -> Page[dict[str, Any]]:
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
    return Page([calendar_item(row, technicians, actor) for row in page.items], page.next_cursor)
