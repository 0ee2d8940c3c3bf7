"""The status actions of the apps: accept, decline, cancel, reopen on a job; on-my-way,
start, pause, complete on an appointment. One transaction each (see `transitions.py`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi import lifecycle as lc
from fieldapi.accounts.models import Organization
from fieldapi.accounts.policy import visible_jobs
from fieldapi.accounts.principal import Principal
from fieldapi.errors import Unprocessable
from fieldapi.eta.model import clock_text
from fieldapi.eta.service import Eta, estimate_arrival
from fieldapi.jobs.models import Appointment, CompleteReason, Customer, Job
from fieldapi.jobs.snapshots import job_snapshot
from fieldapi.jobs.transitions import (
    Acting,
    TextSettings,
    carry_out,
    http_error,
    job_id_of_appointment,
    lifecycle_errors,
    lock_job,
    queue_text,
    technician_first_name,
    text_body,
)

JOB_ACTIONS = (
    lc.ActionName.ACCEPT,
    lc.ActionName.DECLINE,
    lc.ActionName.CANCEL,
    lc.ActionName.REOPEN,
)
APPOINTMENT_ACTIONS = (
    lc.ActionName.ON_MY_WAY,
    lc.ActionName.START,
    lc.ActionName.PAUSE,
    lc.ActionName.COMPLETE,
)


@dataclass(frozen=True)
class ActionResult:
    job_id: uuid.UUID
    eta: Eta | None = None


def job_action(
    db: Session,
    principal: Principal,
    job_id: uuid.UUID,
    action: lc.ActionName,
    *,
    reason: str | None = None,
    now: datetime,
) -> ActionResult:
    """accept / decline / cancel / reopen. After a decline the job is gone for the
    organization (404), as the provider has no access to a declined offer."""
    if action not in JOB_ACTIONS:
        raise ValueError(f"not a job action: {action}")
    job, rows = lock_job(db, principal.organization_id, job_id, visible_jobs(principal))
    command = lc.Command(action, at=now, reason=reason)
    with lifecycle_errors(action=f"{action} this job"):
        decision = lc.decide(job_snapshot(job, rows), command, principal.actor())
    job.updated_at = now  # before carry_out's flush: one UPDATE of the job row, not two
    carry_out(db, job, rows, decision, Acting.user(principal))
    db.commit()
    return ActionResult(job.id)


def _reason_outcome(db: Session, organization_id: uuid.UUID, code: str) -> lc.Outcome | None:
    outcome = db.scalar(
        select(CompleteReason.outcome).where(
            CompleteReason.organization_id == organization_id, CompleteReason.code == code
        )
    )
    return None if outcome is None else lc.Outcome(outcome)


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
) -> ActionResult:
    """on-my-way (with an ETA from `position` or the latest ping), start, pause, complete
    (`reason_code` from the organization's complete reasons)."""
    if action not in APPOINTMENT_ACTIONS:
        raise ValueError(f"not an appointment action: {action}")
    org_id = principal.organization_id
    job, rows = lock_job(
        db, org_id, job_id_of_appointment(db, principal, appointment_id), visible_jobs(principal)
    )
    organization = db.get_one(Organization, org_id)
    outcome = None if reason_code is None else _reason_outcome(db, org_id, reason_code)
    command = lc.Command(
        action,
        at=now,
        appointment_id=str(appointment_id),
        reason_code=reason_code,
        outcome=outcome,
        reason=reason,
        notify_arrival=organization.arrival_texts,
    )
    label = f"{action} this appointment"
    try:
        decision = lc.decide(job_snapshot(job, rows), command, principal.actor())
    except lc.LifecycleError as error:
        if isinstance(error, lc.InvalidCommand) and reason_code is not None and outcome is None:
            raise _unknown_reason(db, org_id, reason_code) from error
        raise http_error(error, label) from error

    acting = Acting.user(principal)
    target = next(row for row in rows if row.id == appointment_id)
    eta = None
    if action == lc.ActionName.ON_MY_WAY:
        eta = estimate_arrival(
            db,
            organization_id=org_id,
            technician_id=target.technician_id or principal.user_id,
            customer_id=job.customer_id,
            position=position,
            now=now,
            settings=settings.eta,
        )
    extra = None if eta is None else {"eta": _eta_details(eta)}
    job.updated_at = now  # before carry_out's flush: one UPDATE of the job row, not two
    carry_out(
        db,
        job,
        rows,
        decision,
        acting,
        pause_reason=reason if action == lc.ActionName.PAUSE else None,
        activity_extra=extra,
    )
    for text in decision.texts:
        _send(db, job, target, text.purpose, organization, acting, eta, now, settings)
    db.commit()
    return ActionResult(job.id, eta)


def _eta_details(eta: Eta) -> dict[str, object]:
    details = eta.as_dict()
    if eta.arrive_by is not None:
        details["arrive_by"] = eta.arrive_by.isoformat()
    return details


def _send(
    db: Session,
    job: Job,
    appointment: Appointment,
    purpose: str,
    organization: Organization,
    acting: Acting,
    eta: Eta | None,
    now: datetime,
    settings: TextSettings,
) -> None:
    arrival = None
    if purpose == "on_my_way" and eta is not None and eta.arrive_by is not None:
        customer = db.get_one(Customer, job.customer_id)
        arrival = clock_text(eta.arrive_by, customer.timezone, now=now)
    body = text_body(
        purpose,
        organization=organization,
        first_name=technician_first_name(db, appointment, acting),
        survey_url=settings.survey_url,
        job=job,
        appointment=appointment,
        arrival=arrival,
    )
    queue_text(db, job, appointment, purpose=purpose, body=body, at=now, settings=settings)
