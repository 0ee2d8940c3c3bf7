"""Every write to a job and its appointments: the lifecycle commands (create, offer, add
and delete an appointment, accept / decline / cancel / reopen, on-my-way / start / pause /
complete) and the edits that change no status (title, reschedule, reassign).

Each lifecycle command goes through `_run`, one transaction: lock the job row
(`SELECT ... FOR UPDATE`), snapshot the fresh rows, ask `fieldapi.lifecycle`, write the
new snapshot back, write the activity entry, queue the texts, commit once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, Uuid, bindparam, func, select, true
from sqlalchemy.orm import Session, joinedload, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from fieldapi import lifecycle as lc
from fieldapi.accounts.members import Member, with_member
from fieldapi.accounts.organizations import (
    OrganizationSettings,
    organization_settings,
    with_organization,
)
from fieldapi.accounts.policy import is_manager, require_manager
from fieldapi.accounts.principal import Principal
from fieldapi.errors import Conflict, DomainError, Forbidden, NotFound, Unprocessable
from fieldapi.eta.service import Eta, arrival_from, arrival_inputs, arrival_parameters
from fieldapi.jobs.activity import Acting, record_change, record_event
from fieldapi.jobs.customers import get_customer
from fieldapi.jobs.models import Appointment, CompleteReason, Customer, Job
from fieldapi.jobs.reasons import job_reasons, reasons_owner
from fieldapi.jobs.rules import check_schedule, check_technician, check_title
from fieldapi.jobs.snapshots import job_snapshot, write_back
from fieldapi.jobs.texts import (
    TextSettings,
    send_booking_answer,
    send_schedule_texts,
    send_texts,
    send_visit_text,
)
from fieldapi.jobs.visibility import (
    CALLER_ORGANIZATION,
    CALLER_USER,
    appointments_seen_by,
    bound_caller,
    jobs_seen_by,
    visible_appointments,
    visible_jobs,
)
from fieldapi.writes import writes_together

STATUS_ACTIONS_OF_A_JOB = lc.JOB_ACTIONS - {
    lc.ActionName.ADD_APPOINTMENT,
    lc.ActionName.DELETE_APPOINTMENT,
}


# A booking request's customer hears the dispatcher's answer to it.
_BOOKING_ANSWERS = frozenset({lc.ActionName.ACCEPT, lc.ActionName.DECLINE})


@dataclass(frozen=True)
class AppointmentInput:
    starts_at: datetime
    duration_min: int
    technician_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ActionResult:
    job_id: uuid.UUID
    eta: Eta | None = None


@dataclass(frozen=True)
class AppointmentActionResult:
    """The job as the action committed it, with what its answer shows loaded (its
    appointments, customer and offering enterprise; `technicians` by id): the answer needs
    no second read of the rows this transaction locked and wrote."""

    job: Job
    technicians: Mapping[uuid.UUID, Member]
    complete_reasons: list[dict[str, str]]
    eta: Eta | None = None


@dataclass(frozen=True)
class _NewJob:
    """The command that creates a job (it has no snapshot to decide on yet)."""

    offered: bool
    appointment: lc.Appointment | None


def create_job(
    db: Session,
    principal: Principal,
    *,
    customer_id: uuid.UUID,
    title: str,
    description: str | None = None,
    appointment: AppointmentInput | None = None,
    now: datetime,
    settings: TextSettings | None = None,
) -> uuid.UUID:
    """A job for a customer: `scheduled` with an appointment, `unscheduled` without.
    With `settings` the customer gets the `booked` text (the API; fixtures pass none)."""
    require_manager(principal, "create jobs")
    get_customer(db, principal, customer_id)
    job = Job(
        id=uuid.uuid4(),
        organization_id=principal.organization_id,
        customer_id=customer_id,
        title=check_title(title),
        description=description,
        created_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    new_rows: dict[str, Appointment] = {}
    snapshot = None
    if appointment is not None:
        row, snapshot = _new_appointment(db, job.organization_id, job.id, appointment, now=now)
        new_rows[str(row.id)] = row
    command = _NewJob(offered=False, appointment=snapshot)
    acting = Acting.user(principal)
    _run(db, job, [], command, acting, "create a job", now, new_rows=new_rows, settings=settings)
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
    before_commit: Callable[[Job], None] | None = None,
) -> uuid.UUID:
    """An enterprise (`offered_by_id`; `acting_name`: its user) offers a job to the
    organization: `offered` until a dispatcher accepts or declines it. `before_commit` adds
    the caller's writes (the enterprise's texts) to the same transaction."""
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
        title=check_title(title),
        description=description,
        offered_by_id=offered_by_id,
        external_id=external_id,
        appointment_windows=appointment_windows or [],
        source="enterprise",
        created_at=now,
        updated_at=now,
    )
    command = _NewJob(offered=True, appointment=None)
    extra = None if acting_name is None else {"by": acting_name}
    _run(
        db,
        job,
        [],
        command,
        Acting.enterprise(),
        "offer a job",
        now,
        extra=extra,
        before_commit=before_commit,
    )
    return job.id


def create_booking_request(
    db: Session,
    *,
    organization_id: uuid.UUID,
    customer_id: uuid.UUID,
    title: str,
    description: str,
    preferred_windows: list[dict[str, str]],
    now: datetime,
) -> uuid.UUID:
    """A customer's request from the booking page: a job `offered` with `source: booking`
    until a dispatcher accepts or declines it (the system acts: there is no user)."""
    job = Job(
        id=uuid.uuid4(),
        organization_id=organization_id,
        customer_id=customer_id,
        title=check_title(title),
        description=description,
        source="booking",
        preferred_windows=preferred_windows,
        created_at=now,
        updated_at=now,
    )
    command = _NewJob(offered=True, appointment=None)
    acting = Acting(lc.Actor(kind=lc.ActorKind.SYSTEM), name="Booking page")
    _run(db, job, [], command, acting, "request a visit", now, commit=False)
    return job.id


def add_appointment(
    db: Session,
    principal: Principal,
    job_id: uuid.UUID,
    appointment: AppointmentInput,
    *,
    now: datetime,
    settings: TextSettings | None = None,
) -> uuid.UUID:
    """A new appointment; with `settings` the customer gets the `booked` text."""
    job, rows = _lock_job(db, principal, job_id)
    row, snapshot = _new_appointment(db, job.organization_id, job.id, appointment, now=now)
    command = lc.Command(lc.ActionName.ADD_APPOINTMENT, at=now, new_appointment=snapshot)
    acting = Acting.user(principal)
    new_rows = {str(row.id): row}
    _run(
        db,
        job,
        rows,
        command,
        acting,
        "add an appointment",
        now,
        new_rows=new_rows,
        settings=settings,
    )
    return row.id


def delete_appointment(
    db: Session, principal: Principal, appointment_id: uuid.UUID, *, now: datetime
) -> uuid.UUID:
    """Delete a scheduled appointment (through the lifecycle); returns its job's id."""
    job, rows, _row = _lock_appointment(db, principal, appointment_id)
    command = lc.Command(
        lc.ActionName.DELETE_APPOINTMENT, at=now, appointment_id=str(appointment_id)
    )
    _run(db, job, rows, command, Acting.user(principal), "delete this appointment", now)
    return job.id


def job_action(
    db: Session,
    principal: Principal,
    job_id: uuid.UUID,
    action: lc.ActionName,
    *,
    reason: str | None = None,
    now: datetime,
    settings: TextSettings | None = None,
) -> ActionResult:
    """accept / decline / cancel / reopen. After a decline the job is gone for the
    organization (404), as the provider has no access to a declined offer. With
    `settings` a cancel texts the customer `canceled` for each visit it cancels."""
    if action not in STATUS_ACTIONS_OF_A_JOB:
        raise ValueError(f"not a job action: {action}")
    job, rows = _lock_job(db, principal, job_id)
    command = lc.Command(action, at=now, reason=reason)
    acting = Acting.user(principal)
    _run(db, job, rows, command, acting, f"{action} this job", now, settings=settings)
    return ActionResult(job.id)


def appointment_action(
    db: Session,
    principal: Principal,
    appointment_id: uuid.UUID,
    action: lc.ActionName,
    *,
    now: datetime,
    settings: TextSettings,
    reason_code: str | None = None,
    reason: str | None = None,
    position: tuple[float, float] | None = None,
) -> AppointmentActionResult:
    """on-my-way (with an ETA from `position` or the latest ping), start, pause, complete
    (`reason_code` from the organization's complete reasons)."""
    if action not in lc.APPOINTMENT_ACTIONS:
        raise ValueError(f"not an appointment action: {action}")
    org_id = principal.organization_id
    job, organization, reasons = _lock_job_of_appointment(db, principal, appointment_id)
    arrival: dict[str, Any] | None = None
    if action == lc.ActionName.ON_MY_WAY:  # its ETA's inputs are read with the appointments
        arrival = arrival_parameters(
            organization_id=org_id,
            customer_id=job.customer_id,
            position=position,
            now=now,
            settings=settings.eta,
        )
        arrival.update(appointment_id=appointment_id, caller_user_id=principal.user_id)
    rows, technicians, arrival_row = _appointments_and_technicians(
        db, job.id, arrival, from_request=position is not None
    )
    if arrival is not None and arrival_row is None:  # deleted while we waited for the lock
        raise NotFound("No such appointment.")
    set_committed_value(job, "appointments", rows)  # the answer shows these, as written
    outcomes = {reason["code"]: reason["outcome"] for reason in reasons}
    command = lc.Command(
        action,
        at=now,
        appointment_id=str(appointment_id),
        reason_code=reason_code,
        outcome=None
        if reason_code is None or reason_code not in outcomes
        else lc.Outcome(outcomes[reason_code]),
        reason=reason,
        notify_arrival=organization.arrival_texts,
    )

    def estimate() -> Eta | None:
        assert arrival_row is not None  # an on-my-way's, read with its appointment
        return arrival_from(
            db,
            org_id,
            arrival_row,
            from_request=position is not None,
            now=now,
            settings=settings.eta,
        )

    eta = _run(
        db,
        job,
        rows,
        command,
        Acting.user(principal),
        f"{action} this appointment",
        now,
        pause_reason=reason if action == lc.ActionName.PAUSE else None,
        estimate=estimate if action == lc.ActionName.ON_MY_WAY else None,
        settings=settings,
    )
    return AppointmentActionResult(job, technicians, reasons, eta)


def start_on_arrival(
    db: Session,
    job: Job,
    rows: list[Appointment],
    appointment_id: uuid.UUID,
    *,
    now: datetime,
    settings: TextSettings,
) -> None:
    """The system starts an appointment whose technician's fixes show them at the site
    (`auto_start_on_arrival`); `job` and `rows` from `lock_job_of_organization`. Commits."""
    organization = organization_settings(db, job.organization_id)
    command = lc.Command(
        lc.ActionName.START,
        at=now,
        appointment_id=str(appointment_id),
        notify_arrival=organization.arrival_texts,
    )
    acting = Acting(lc.Actor(kind=lc.ActorKind.SYSTEM))
    _run(db, job, rows, command, acting, "start this appointment", now, settings=settings)


def _run(
    db: Session,
    job: Job,
    rows: list[Appointment],
    command: lc.Command | _NewJob,
    acting: Acting,
    label: str,
    now: datetime,
    *,
    new_rows: Mapping[str, Appointment] | None = None,
    pause_reason: str | None = None,
    estimate: Callable[[], Eta | None] | None = None,
    settings: TextSettings | None = None,
    extra: Mapping[str, Any] | None = None,
    before_commit: Callable[[Job], None] | None = None,
    commit: bool = True,
) -> Eta | None:
    """The one path of a lifecycle command, from the locked rows (`rows`; none for a new
    job) to the commit. `label` names the action in a refusal ("cancel this job");
    `estimate` gives on-my-way's ETA once the lifecycle agreed; `settings` is needed
    only by the commands whose decisions send texts."""
    try:
        if isinstance(command, _NewJob):
            decision = lc.new_job(
                offered=command.offered,
                appointment=command.appointment,
                actor=acting.actor,
                at=now,
            )
        else:
            decision = lc.decide(job_snapshot(job, rows), command, acting.actor)
    except lc.LifecycleError as error:
        raise _refusal(db, job, command, error, label) from error
    eta = None if estimate is None else estimate()
    before = {row.id: row.status for row in rows}
    # The job's and appointments' changes, the entries, texts and tracking links wait and
    # go as one statement (`writes_together`), unless a read comes between them.
    with writes_together(db):
        db.add(job)  # a new job joins the session; a locked one is already in it
        write_back(db, job, rows, decision, at=now, new_rows=new_rows, pause_reason=pause_reason)
        if isinstance(command, _NewJob) or new_rows:
            db.flush()  # new rows before the entries and texts that refer to them
        extra = {**(extra or {}), **({} if eta is None else {"eta": _eta_details(eta)})}
        record_change(db, job, decision.activity, acting, extra=extra)
        if decision.texts:
            if settings is None:
                raise ValueError(f"{label}: the decision sends texts but no TextSettings")
            send_texts(db, job, rows, decision.texts, acting, eta=eta, now=now, settings=settings)
        if before_commit is not None:
            before_commit(job)
        if settings is not None:
            visits = [*rows, *(new_rows or {}).values()]
            send_schedule_texts(db, job, visits, before, now=now, settings=settings)
            answered = isinstance(command, lc.Command) and command.action in _BOOKING_ANSWERS
            if job.source == "booking" and answered:
                accepted = (
                    isinstance(command, lc.Command) and command.action == lc.ActionName.ACCEPT
                )
                send_booking_answer(db, job, accepted=accepted, now=now, settings=settings)
    if commit:
        db.commit()
    return eta


def _refusal(
    db: Session, job: Job, command: lc.Command | _NewJob, error: lc.LifecycleError, label: str
) -> DomainError:
    """A lifecycle error as an HTTP answer: refused 409, not permitted 403, invalid 422
    (an unknown complete reason: 422 listing the organization's reasons)."""
    if (
        isinstance(error, lc.InvalidCommand)
        and isinstance(command, lc.Command)
        and command.reason_code is not None
        and command.outcome is None
    ):
        return _unknown_reason(db, reasons_owner(db, job), command.reason_code)
    if isinstance(error, lc.ActionRefused):
        state = f"the job is {error.current_status}"
        if error.appointment_status is not None:
            state += f" and the appointment is {error.appointment_status}"
        allowed = ", ".join(error.allowed_actions) or "none"
        return Conflict(
            f"Cannot {label}: {state}. Allowed now: {allowed}.",
            errors={"allowed_actions": error.allowed_actions},
        )
    if isinstance(error, lc.NotPermitted):
        _, _, why = str(error).partition(": ")
        return Forbidden(f"You may not {label}" + (f": {why}." if why else "."))
    return Unprocessable(f"Cannot {label}: {error}.")


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
    job, _rows = _lock_job(db, principal, job_id)
    if "title" in changes:
        job.title = check_title(changes["title"])
    if "description" in changes:
        job.description = changes["description"]
    job.updated_at = now
    record_event(
        db,
        job,
        action="update_job",
        at=now,
        acting=Acting.user(principal),
        details={"fields": sorted(changes)},
    )
    db.commit()


def update_appointment(
    db: Session,
    principal: Principal,
    appointment_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    now: datetime,
    settings: TextSettings | None = None,
) -> None:
    """Reschedule (`starts_at`, `duration_min`) or reassign (`technician_id`, None to
    unassign) a scheduled appointment. Its status, and the job's, stay as they are. With
    `settings` a new time texts the customer `moved`."""
    require_manager(principal, "reschedule or reassign appointments")
    if not changes:
        raise Unprocessable("Nothing to change: send starts_at, duration_min or technician_id.")
    job, _rows, row = _lock_appointment(db, principal, appointment_id)
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
        record_event(
            db,
            job,
            action=action,
            at=now,
            appointment_id=row.id,
            acting=Acting.user(principal),
            details={"changes": diff},
        )
        if not reassigned_only and settings is not None:
            send_visit_text(db, job, row, "moved", now=now, settings=settings)
    db.commit()


def _locking(query: Select[Any]) -> Select[Any]:
    """A job query made to lock the job for this transaction, with its customer.

    `populate_existing` makes both fresh even if the session saw them before the lock: a
    second phone waiting here must decide on what the first one committed. The customer
    comes with the job, as fresh (its texts count on it: `jobs.texts._queue`).
    """
    return (
        query.options(lazyload(Job.appointments), joinedload(Job.customer))
        .with_for_update(of=Job)
        .execution_options(populate_existing=True)
    )


def _lock_job(
    db: Session, principal: Principal, job_id: uuid.UUID
) -> tuple[Job, list[Appointment]]:
    """The job row (one the caller may see) locked for this transaction, and its
    appointments read after the lock."""
    job = db.scalar(
        _locking(
            select(Job).where(
                Job.id == job_id,
                Job.organization_id == principal.organization_id,
                visible_jobs(principal),
            )
        )
    )
    if job is None:
        raise NotFound("No such job.")
    return job, _appointments_of(db, job.id)


def lock_job_of_organization(
    db: Session, organization_id: uuid.UUID, job_id: uuid.UUID
) -> tuple[Job, list[Appointment]]:
    """The job locked for a change the system makes (no caller whose view limits it), with
    its customer, as `_lock_job` locks it."""
    job = db.scalar(
        _locking(select(Job).where(Job.id == job_id, Job.organization_id == organization_id))
    )
    if job is None:
        raise NotFound("No such job.")
    return job, _appointments_of(db, job.id)


@cache
def _appointments_query(with_technicians: bool) -> Select[Any]:
    """A locked job's appointments (`job_id`), read after the lock, with their technicians
    or not; built once."""
    query: Select[Any] = select(Appointment)
    if with_technicians:
        query = with_member(query, Appointment.technician_id)
    return (
        query.where(Appointment.job_id == bindparam("job_id", type_=Uuid))
        .order_by(Appointment.created_at, Appointment.id)
        .execution_options(populate_existing=True)
    )


def _appointments_of(db: Session, job_id: uuid.UUID) -> list[Appointment]:
    return list(db.scalars(_appointments_query(False), {"job_id": job_id}))


def _lock_job_of_appointment(
    db: Session, principal: Principal, appointment_id: uuid.UUID
) -> tuple[Job, OrganizationSettings, list[dict[str, str]]]:
    """The job of an appointment the caller may see, locked as `_lock_job` locks it, with
    its customer, organization and complete reasons (code, label, outcome): one statement
    (its appointments are read after it)."""
    found = db.execute(
        _job_of_appointment_locked(is_manager(principal)),
        {"appointment_id": appointment_id, **bound_caller(principal)},
    ).one_or_none()
    if found is None:
        raise NotFound("No such appointment.")
    job, reasons, _organization_row = found  # held: organization_settings reads it
    fields = ("code", "label", "outcome")
    return (
        job,
        organization_settings(db, job.organization_id),
        [dict(zip(fields, reason, strict=True)) for reason in reasons],
    )


@cache
def _job_of_appointment_locked(manager: bool) -> Select[Any]:
    """`_lock_job_of_appointment`'s statement for a manager or a technician, built once:
    building it took longer than PostgreSQL takes to run it."""
    job_of_appointment = (
        select(Appointment.job_id)
        .where(
            Appointment.id == bindparam("appointment_id", type_=Uuid),
            appointments_seen_by(manager, CALLER_ORGANIZATION, CALLER_USER),
        )
        .scalar_subquery()
    )
    return _locking(
        with_organization(select(Job, job_reasons()), Job.organization_id).where(
            Job.id == job_of_appointment,
            jobs_seen_by(manager, CALLER_ORGANIZATION, CALLER_USER),
        )
    )


def _appointments_and_technicians(
    db: Session,
    job_id: uuid.UUID,
    arrival: Mapping[str, Any] | None = None,
    *,
    from_request: bool = False,
) -> tuple[list[Appointment], dict[uuid.UUID, Member], Sequence[Any] | None]:
    """A locked job's appointments, read after the lock, with their technicians; with
    `arrival` (`eta.service.arrival_parameters`, the appointment and the caller), also the
    row of the on-my-way's `arrival_inputs`, read in the same statement."""
    if arrival is None:
        found = db.execute(_appointments_query(True), {"job_id": job_id}).all()
        inputs = None
    else:
        statement = _appointments_with_arrival(from_request)
        found = db.execute(statement, {"job_id": job_id, **arrival}).all()
        inputs = tuple(found[0][2:]) if found else None
    technicians = {row[1].id: Member.of(row[1]) for row in found if row[1] is not None}
    return [row[0] for row in found], technicians, inputs


@cache
def _appointments_with_arrival(from_request: bool) -> Select[Any]:
    """`_appointments_query` with the row of `arrival_inputs` beside each appointment: the
    appointment's technician's latest ping (the caller's when it has none), built once."""
    assigned = (
        select(Appointment.technician_id)
        .where(Appointment.id == bindparam("appointment_id", type_=Uuid))
        .scalar_subquery()
    )
    technician = func.coalesce(assigned, bindparam("caller_user_id", type_=Uuid))
    inputs = arrival_inputs(from_request, technician).subquery("arrival")
    return _appointments_query(True).add_columns(*inputs.c).join(inputs, true())


def _job_id_of_appointment(
    db: Session, principal: Principal, appointment_id: uuid.UUID
) -> uuid.UUID:
    """The job of an appointment the caller may see (a technician: one of theirs)."""
    found = db.scalar(
        select(Appointment.job_id).where(
            Appointment.id == appointment_id, visible_appointments(principal)
        )
    )
    if found is None:
        raise NotFound("No such appointment.")
    return found


def _lock_appointment(
    db: Session, principal: Principal, appointment_id: uuid.UUID
) -> tuple[Job, list[Appointment], Appointment]:
    job, rows = _lock_job(db, principal, _job_id_of_appointment(db, principal, appointment_id))
    row = next((r for r in rows if r.id == appointment_id), None)
    if row is None:  # deleted while we waited for the lock
        raise NotFound("No such appointment.")
    return job, rows, row


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


def _unknown_reason(db: Session, organization_id: uuid.UUID, code: str) -> Unprocessable:
    codes = db.scalars(
        select(CompleteReason.code)
        .where(CompleteReason.organization_id == organization_id)
        .order_by(CompleteReason.position)
    ).all()
    return Unprocessable(
        f"Unknown complete reason {code!r}; use one of: {', '.join(codes)}.",
        errors={"reason_code": ["Not one of the organization's complete reasons."]},
    )


def _eta_details(eta: Eta) -> dict[str, object]:
    details = eta.as_dict()
    if eta.arrive_by is not None:
        details["arrive_by"] = eta.arrive_by.isoformat()
    return details


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if isinstance(value, uuid.UUID) else value
