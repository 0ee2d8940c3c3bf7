"""What the enterprise side reads and locks of the jobs an enterprise offered: the jobs as
plain values (`OfferedJob`), their activity, and the row locks of a reminder and of a
webhook event. What the enterprise shows of them is decided there, not here."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi import lifecycle as lc
from fieldapi.jobs.models import ActivityEvent, Job
from fieldapi.pagination import Page, paginate

DECLINED = lc.OfferState.DECLINED.value


@dataclass(frozen=True)
class OfferedCustomer:
    name: str
    phone: str | None
    email: str | None
    address: str | None
    lat: float | None
    lon: float | None
    timezone: str


@dataclass(frozen=True)
class OfferedAppointment:
    id: uuid.UUID
    starts_at: datetime
    duration_min: int
    status: str


@dataclass(frozen=True)
class OfferedJob:
    """A job as the provider holds it now; `provider_id` is the organization it went to."""

    id: uuid.UUID
    provider_id: uuid.UUID
    external_id: str | None
    title: str
    description: str | None
    status: str
    declined: bool
    customer: OfferedCustomer
    appointment_windows: list[dict[str, str]]
    appointments: tuple[OfferedAppointment, ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class OfferedActivity:
    """An entry of an offered job's activity log, as written."""

    id: int
    at: datetime
    actor_kind: str
    actor_name: str | None
    action: str
    appointment_id: uuid.UUID | None
    from_status: str | None
    to_status: str | None
    details: dict[str, Any]


def _offered(job: Job) -> OfferedJob:
    customer = job.customer
    lat_lon = customer.lat_lon
    return OfferedJob(
        id=job.id,
        provider_id=job.organization_id,
        external_id=job.external_id,
        title=job.title,
        description=job.description,
        status=job.status,
        declined=job.offer_state == DECLINED,
        customer=OfferedCustomer(
            name=customer.name,
            phone=customer.phone,
            email=customer.email,
            address=customer.address,
            lat=None if lat_lon is None else lat_lon[0],
            lon=None if lat_lon is None else lat_lon[1],
            timezone=customer.timezone,
        ),
        appointment_windows=job.appointment_windows,
        appointments=tuple(
            OfferedAppointment(row.id, row.starts_at, row.duration_min, row.status)
            for row in job.appointments
        ),
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


def offered_job(db: Session, enterprise_id: uuid.UUID, job_id: uuid.UUID) -> OfferedJob | None:
    """The job, as it is in the database now, if this enterprise offered it."""
    job = db.scalar(
        select(Job)
        .where(Job.id == job_id, Job.offered_by_id == enterprise_id)
        .execution_options(populate_existing=True)
    )
    return None if job is None else _offered(job)


def offered_job_id(db: Session, enterprise_id: uuid.UUID, external_id: str) -> uuid.UUID | None:
    """The job the enterprise offered under its own id `external_id`."""
    return db.scalar(
        select(Job.id).where(Job.offered_by_id == enterprise_id, Job.external_id == external_id)
    )


def offered_jobs(
    db: Session,
    enterprise_id: uuid.UUID,
    *,
    declined: bool = False,
    status: str | None = None,
    provider_id: uuid.UUID | None = None,
    limit: int,
    cursor: str | None,
) -> Page[OfferedJob]:
    """Newest first: the declined offers only, or those in `status` (not declined), or all;
    of one provider when `provider_id` is given."""
    statement = select(Job).where(Job.offered_by_id == enterprise_id)
    if declined:
        statement = statement.where(Job.offer_state == DECLINED)
    elif status is not None:
        statement = statement.where(Job.status == status, Job.offer_state != DECLINED)
    if provider_id is not None:
        statement = statement.where(Job.organization_id == provider_id)
    page = paginate(
        db,
        statement,
        keys=(Job.created_at, Job.id),
        key_of=lambda job: (job.created_at, job.id),
        limit=limit,
        cursor=cursor,
        descending=True,
    )
    return Page([_offered(job) for job in page.items], page.next_cursor)


def offered_job_activity(
    db: Session,
    job: OfferedJob,
    *,
    leaving_out: Collection[str],
    limit: int,
    cursor: str | None,
) -> Page[OfferedActivity]:
    """Oldest first, without the actions `leaving_out` and the entries marked private."""
    page = paginate(
        db,
        select(ActivityEvent).where(
            ActivityEvent.organization_id == job.provider_id,
            ActivityEvent.job_id == job.id,
            ActivityEvent.action.not_in(leaving_out),
            ActivityEvent.details["visibility"].astext.is_distinct_from("private"),
        ),
        keys=(ActivityEvent.at, ActivityEvent.id),
        key_of=lambda event: (event.at, event.id),
        limit=limit,
        cursor=cursor,
    )
    entries = [
        OfferedActivity(
            id=event.id,
            at=event.at,
            actor_kind=event.actor_kind,
            actor_name=event.actor_name,
            action=event.action,
            appointment_id=event.appointment_id,
            from_status=event.from_status,
            to_status=event.to_status,
            details=event.details,
        )
        for event in page.items
    ]
    return Page(entries, page.next_cursor)


def lock_offered_job(db: Session, enterprise_id: uuid.UUID, job_id: uuid.UUID) -> Job | None:
    """The job, if this enterprise offered it, locked FOR UPDATE to the commit and read
    after the lock (for an entry the enterprise adds, through `jobs.activity`)."""
    return db.scalar(
        select(Job)
        .where(Job.id == job_id, Job.offered_by_id == enterprise_id)
        .with_for_update(of=Job)
        .execution_options(populate_existing=True)
    )


def last_entry_at(db: Session, job: Job, action: str) -> datetime | None:
    """When the job's log last got an entry `action`."""
    return db.scalar(
        select(func.max(ActivityEvent.at)).where(
            ActivityEvent.organization_id == job.organization_id,
            ActivityEvent.job_id == job.id,
            ActivityEvent.action == action,
        )
    )


def lock_job_as_changed(db: Session, job_id: uuid.UUID) -> OfferedJob:
    """The job as the change being written leaves it, its row locked to the commit.

    The lock numbers a job's events in the order their changes become visible: a
    concurrent change of the job (a note beside a reschedule) takes its number, and its
    view of the job, after this one commits. Without it the later number could commit
    first and be sent while the earlier one is still written. FOR NO KEY UPDATE: the
    change's own rows (a note) already hold a key-share lock on the job through their
    foreign key, which FOR UPDATE would wait for: two notes at once would deadlock.
    """
    db.execute(select(Job.id).where(Job.id == job_id).with_for_update(key_share=True))
    db.flush()  # the change itself, so that the answer shows it
    job = db.get_one(Job, job_id)  # the caller's own object: flushed, in the identity map
    db.refresh(job, attribute_names=["appointments"])
    return _offered(job)
