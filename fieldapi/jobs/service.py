"""Jobs and appointments: create, offer, schedule, reschedule, delete (plain values in).

Status changes go through `fieldapi.lifecycle` (see `transitions.py`); the actions of the
apps (accept, start, complete, ...) are in `actions.py`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi import lifecycle as lc
from fieldapi.accounts.models import User
from fieldapi.accounts.policy import require_manager, visible_jobs
from fieldapi.accounts.principal import Principal
from fieldapi.errors import Conflict, NotFound, Unprocessable
from fieldapi.jobs.customers import get_customer
from fieldapi.jobs.models import Appointment, Customer, Job
from fieldapi.jobs.snapshots import job_snapshot, write_back
from fieldapi.jobs.transitions import (
    Acting,
    carry_out,
    job_id_of_appointment,
    lifecycle_errors,
    lock_job,
    log_event,
    record_activity,
)

EARLIEST_APPOINTMENT = datetime(2000, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(days=5 * 366)
MAX_DURATION_MIN = 7 * 24 * 60
MAX_TITLE = 200


@dataclass(frozen=True)
class AppointmentInput:
    starts_at: datetime
    duration_min: int
    technician_id: uuid.UUID | None = None


def check_schedule(starts_at: datetime, duration_min: int, *, now: datetime) -> None:
    """A time with an offset, from the year 2000 to five years ahead; 1 min to 7 days."""
    if starts_at.tzinfo is None or starts_at.utcoffset() is None:
        raise Unprocessable(
            "starts_at needs a UTC offset (e.g. 2026-11-24T14:00:00-06:00).",
            errors={"starts_at": ["Give a time with an offset."]},
        )
    if starts_at < EARLIEST_APPOINTMENT or starts_at > now + MAX_AHEAD:
        raise Unprocessable(
            "starts_at must be between 2000-01-01 and five years from now.",
            errors={"starts_at": ["Out of range."]},
        )
    if isinstance(duration_min, bool) or not 1 <= duration_min <= MAX_DURATION_MIN:
        raise Unprocessable(
            f"duration_min must be a whole number of minutes from 1 to {MAX_DURATION_MIN}.",
            errors={"duration_min": ["Out of range."]},
        )


def check_technician(db: Session, organization_id: uuid.UUID, technician_id: uuid.UUID) -> User:
    """An active member of the organization whose role lets them do the visits."""
    user = db.scalar(
        select(User).where(User.id == technician_id, User.organization_id == organization_id)
    )
    if user is None:
        raise NotFound(
            "No such technician in your organization.",
            errors={"technician_id": ["Unknown user."]},
        )
    if not user.active:
        raise Unprocessable(
            f"{user.name} is deactivated and cannot be assigned.",
            errors={"technician_id": ["Deactivated user."]},
        )
    if not user.is_technician:
        raise Unprocessable(
            f"{user.name} is a dispatcher; assign a technician or a user with role both.",
            errors={"technician_id": ["Not a technician."]},
        )
    return user


def _title(title: str) -> str:
    title = title.strip()
    if not title or len(title) > MAX_TITLE:
        raise Unprocessable(
            f"A job needs a title of 1 to {MAX_TITLE} characters.",
            errors={"title": ["1 to 200 characters."]},
        )
    return title


def _new_appointment(
    db: Session,
    organization_id: uuid.UUID,
    job_id: uuid.UUID,
    value: AppointmentInput,
    *,
    now: datetime,
) -> tuple[Appointment, lc.Appointment]:
    """A validated row (status set later from the decision) and its snapshot."""
    check_schedule(value.starts_at, value.duration_min, now=now)
    if value.technician_id is not None:
        check_technician(db, organization_id, value.technician_id)
    row = Appointment(
        id=uuid.uuid4(),
        organization_id=organization_id,
        job_id=job_id,
        starts_at=value.starts_at,
        duration_min=value.duration_min,
        technician_id=value.technician_id,
        created_at=now,
        updated_at=now,
    )
    snapshot = lc.Appointment(
        id=str(row.id),
        status=lc.AppointmentStatus.SCHEDULED,
        technician_id=None if value.technician_id is None else str(value.technician_id),
    )
    return row, snapshot


def create_job(
    db: Session,
    principal: Principal,
    *,
    customer_id: uuid.UUID,
    title: str,
    description: str | None = None,
    appointment: AppointmentInput | None = None,
    now: datetime,
) -> uuid.UUID:
    """A job for a customer: `scheduled` with an appointment, `unscheduled` without."""
    require_manager(principal, "create jobs")
    get_customer(db, principal, customer_id)
    job = Job(
        id=uuid.uuid4(),
        organization_id=principal.organization_id,
        customer_id=customer_id,
        title=_title(title),
        description=description,
        created_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    row = snapshot = None
    if appointment is not None:
        row, snapshot = _new_appointment(db, job.organization_id, job.id, appointment, now=now)
    with lifecycle_errors(action="create a job"):
        decision = lc.new_job(offered=False, appointment=snapshot, actor=principal.actor(), at=now)
    db.add(job)
    write_back(db, job, [], decision, new_rows={} if row is None else {str(row.id): row})
    db.flush()  # the job row before its activity entry (no ORM relationship orders them)
    record_activity(db, job, decision.activity, Acting.user(principal))
    db.commit()
    return job.id


def create_offer(
    db: Session,
    *,
    organization_id: uuid.UUID,
    offered_by_id: uuid.UUID,
    customer_id: uuid.UUID,
    title: str,
    description: str | None = None,
    external_id: str | None = None,
    appointment_windows: list[dict[str, str]] | None = None,
    acting_name: str | None = None,
    now: datetime,
    commit: bool = True,
) -> uuid.UUID:
    """An enterprise (`offered_by_id`) offers a job to the organization: `offered` until a
    dispatcher accepts or declines it. `commit=False` leaves the transaction open for the
    caller's other writes (the enterprise's offer commits once)."""
    customer = db.scalar(
        select(Customer.id).where(
            Customer.id == customer_id, Customer.organization_id == organization_id
        )
    )
    if customer is None:
        raise NotFound("No such customer.")
    job = Job(
        id=uuid.uuid4(),
        organization_id=organization_id,
        customer_id=customer_id,
        title=_title(title),
        description=description,
        offered_by_id=offered_by_id,
        external_id=external_id,
        appointment_windows=appointment_windows or [],
        created_at=now,
        updated_at=now,
    )
    acting = Acting.enterprise()
    with lifecycle_errors(action="offer a job"):
        decision = lc.new_job(offered=True, appointment=None, actor=acting.actor, at=now)
    db.add(job)
    write_back(db, job, [], decision)
    db.flush()
    extra = None if acting_name is None else {"by": acting_name}
    record_activity(db, job, decision.activity, acting, extra=extra)
    if commit:
        db.commit()
    return job.id


def update_job(
    db: Session,
    principal: Principal,
    job_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    now: datetime,
) -> None:
    """Edit the title or description (dispatchers)."""
    require_manager(principal, "edit jobs")
    job, _rows = lock_job(db, principal.organization_id, job_id, visible_jobs(principal))
    if "title" in changes:
        job.title = _title(changes["title"])
    if "description" in changes:
        job.description = changes["description"]
    job.updated_at = now
    log_event(
        db,
        job,
        action="update_job",
        at=now,
        acting=Acting.user(principal),
        details={"fields": sorted(changes)},
    )
    db.commit()


def add_appointment(
    db: Session,
    principal: Principal,
    job_id: uuid.UUID,
    appointment: AppointmentInput,
    *,
    now: datetime,
) -> uuid.UUID:
    job, rows = lock_job(db, principal.organization_id, job_id, visible_jobs(principal))
    row, snapshot = _new_appointment(db, job.organization_id, job.id, appointment, now=now)
    command = lc.Command(lc.ActionName.ADD_APPOINTMENT, at=now, new_appointment=snapshot)
    with lifecycle_errors(action="add an appointment"):
        decision = lc.decide(job_snapshot(job, rows), command, principal.actor())
    carry_out(db, job, rows, decision, Acting.user(principal), new_rows={str(row.id): row})
    job.updated_at = now
    db.commit()
    return row.id


def _locked_appointment(
    db: Session, principal: Principal, appointment_id: uuid.UUID
) -> tuple[Job, list[Appointment], Appointment]:
    job_id = job_id_of_appointment(db, principal, appointment_id)
    job, rows = lock_job(db, principal.organization_id, job_id, visible_jobs(principal))
    row = next((r for r in rows if r.id == appointment_id), None)
    if row is None:  # deleted while we waited for the lock
        raise NotFound("No such appointment.")
    return job, rows, row


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if isinstance(value, uuid.UUID) else value


def update_appointment(
    db: Session,
    principal: Principal,
    appointment_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    now: datetime,
) -> None:
    """Reschedule (`starts_at`, `duration_min`) or reassign (`technician_id`, None to
    unassign) a scheduled appointment. Its status, and the job's, stay as they are."""
    require_manager(principal, "reschedule or reassign appointments")
    if not changes:
        raise Unprocessable("Nothing to change: send starts_at, duration_min or technician_id.")
    job, _rows, row = _locked_appointment(db, principal, appointment_id)
    if row.status != lc.AppointmentStatus.SCHEDULED:
        raise Conflict(
            f"Only a scheduled appointment can be rescheduled or reassigned; this one is "
            f"{row.status}.",
            errors={"status": [row.status]},
        )
    starts_at = changes.get("starts_at", row.starts_at)
    duration_min = changes.get("duration_min", row.duration_min)
    check_schedule(starts_at, duration_min, now=now)
    if changes.get("technician_id") is not None:
        check_technician(db, principal.organization_id, changes["technician_id"])
    diff = {
        name: {"from": _json(getattr(row, name)), "to": _json(value)}
        for name, value in changes.items()
        if getattr(row, name) != value
    }
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = job.updated_at = now
    if diff:
        reassigned_only = set(diff) == {"technician_id"}
        action = "reassign_appointment" if reassigned_only else "reschedule_appointment"
        log_event(
            db,
            job,
            action=action,
            at=now,
            appointment_id=row.id,
            acting=Acting.user(principal),
            details={"changes": diff},
        )
    db.commit()


def delete_appointment(
    db: Session, principal: Principal, appointment_id: uuid.UUID, *, now: datetime
) -> uuid.UUID:
    """Delete a scheduled appointment (through the lifecycle); returns its job's id."""
    job, rows, _row = _locked_appointment(db, principal, appointment_id)
    command = lc.Command(
        lc.ActionName.DELETE_APPOINTMENT, at=now, appointment_id=str(appointment_id)
    )
    with lifecycle_errors(action="delete this appointment"):
        decision = lc.decide(job_snapshot(job, rows), command, principal.actor())
    carry_out(db, job, rows, decision, Acting.user(principal))
    job.updated_at = now
    db.commit()
    return job.id
