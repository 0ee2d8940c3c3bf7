"""Carrying out a lifecycle decision in one transaction.

Every status change follows the same path: lock the job row (`SELECT ... FOR UPDATE`),
build the snapshot from fresh rows, ask `fieldapi.lifecycle`, write the new snapshot back,
write the activity entries and queue the texts, commit once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, lazyload

from fieldapi import lifecycle as lc
from fieldapi.accounts.models import Organization, User
from fieldapi.accounts.policy import visible_appointments
from fieldapi.accounts.principal import Principal
from fieldapi.enterprise.events import job_changed
from fieldapi.errors import Conflict, DomainError, Forbidden, NotFound, Unprocessable
from fieldapi.eta.service import EtaSettings
from fieldapi.jobs.models import ActivityEvent, Appointment, Customer, Job
from fieldapi.jobs.snapshots import write_back
from fieldapi.messaging import templates
from fieldapi.messaging.outbox import queue_message


@dataclass(frozen=True)
class Acting:
    """Who acts, for the lifecycle (`actor`) and for the activity log (`user_id`, `name`)."""

    actor: lc.Actor
    user_id: uuid.UUID | None = None
    name: str | None = None

    @classmethod
    def user(cls, principal: Principal) -> Acting:
        return cls(principal.actor(), principal.user_id, principal.name)

    @classmethod
    def enterprise(cls) -> Acting:
        """An enterprise's user: the log shows only the enterprise (the job's provider)."""
        return cls(lc.Actor(kind=lc.ActorKind.ENTERPRISE))


@dataclass(frozen=True)
class TextSettings:
    allowed_regions: tuple[str, ...] = ("US", "CA")
    survey_url: str = "https://dispatch.example.com/survey"
    eta: EtaSettings = field(default_factory=EtaSettings)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TextSettings:
        return cls(
            allowed_regions=tuple(config["SMS_ALLOWED_REGIONS"]),
            survey_url=config["SURVEY_URL"],
            eta=EtaSettings.from_config(config),
        )


def http_error(error: lc.LifecycleError, action: str) -> DomainError:
    """A lifecycle error as an HTTP answer: refused 409, not permitted 403, invalid 422."""
    if isinstance(error, lc.ActionRefused):
        state = f"the job is {error.current_status}"
        if error.appointment_status is not None:
            state += f" and the appointment is {error.appointment_status}"
        allowed = ", ".join(error.allowed_actions) or "none"
        return Conflict(
            f"Cannot {action}: {state}. Allowed now: {allowed}.",
            errors={"allowed_actions": error.allowed_actions},
        )
    if isinstance(error, lc.NotPermitted):
        _, _, why = str(error).partition(": ")
        return Forbidden(f"You may not {action}" + (f": {why}." if why else "."))
    return Unprocessable(f"Cannot {action}: {error}.")


@contextmanager
def lifecycle_errors(*, action: str) -> Iterator[None]:
    try:
        yield
    except lc.LifecycleError as error:
        raise http_error(error, action) from error


def lock_job(
    db: Session, organization_id: uuid.UUID, job_id: uuid.UUID, scope: ColumnElement[bool]
) -> tuple[Job, list[Appointment]]:
    """The job row locked for this transaction, and its appointments read after the lock.

    `populate_existing` makes both fresh even if the session saw them before the lock: a
    second phone waiting here must decide on what the first one committed.
    """
    job = db.scalar(
        select(Job)
        .where(Job.id == job_id, Job.organization_id == organization_id, scope)
        .options(lazyload(Job.appointments), lazyload(Job.customer))
        .with_for_update(of=Job)
        .execution_options(populate_existing=True)
    )
    if job is None:
        raise NotFound("No such job.")
    appointments = list(
        db.scalars(
            select(Appointment)
            .where(Appointment.job_id == job.id)
            .order_by(Appointment.created_at, Appointment.id)
            .execution_options(populate_existing=True)
        )
    )
    return job, appointments


def job_id_of_appointment(
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


def record_activity(
    db: Session,
    job: Job,
    activity: lc.RecordActivity,
    acting: Acting,
    *,
    extra: Mapping[str, Any] | None = None,
) -> None:
    enterprise = acting.actor.kind == lc.ActorKind.ENTERPRISE
    db.add(
        ActivityEvent(
            organization_id=job.organization_id,
            job_id=job.id,
            appointment_id=None
            if activity.appointment_id is None
            else uuid.UUID(activity.appointment_id),
            at=activity.at,
            actor_id=None if enterprise else acting.user_id,
            actor_name=job.provider_name if enterprise else acting.name,
            actor_kind=str(acting.actor.kind),
            action=activity.action,
            from_status=None if activity.from_status is None else str(activity.from_status),
            to_status=None if activity.to_status is None else str(activity.to_status),
            details={**activity.details, **(extra or {})},
        )
    )
    job_changed(db, job, action=activity.action, at=activity.at, details=activity.details)


def log_event(
    db: Session,
    job: Job,
    *,
    action: str,
    at: datetime,
    appointment_id: uuid.UUID | None = None,
    acting: Acting | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """An activity entry that is not a status change (a text, an edit); None = system."""
    db.add(
        ActivityEvent(
            organization_id=job.organization_id,
            job_id=job.id,
            appointment_id=appointment_id,
            at=at,
            actor_id=None if acting is None else acting.user_id,
            actor_name=None if acting is None else acting.name,
            actor_kind="system" if acting is None else str(acting.actor.kind),
            action=action,
            from_status=job.status,
            to_status=job.status,
            details=dict(details or {}),
        )
    )
    job_changed(db, job, action=action, at=at, details=details or {})


def queue_text(
    db: Session,
    job: Job,
    appointment: Appointment,
    *,
    purpose: str,
    body: str,
    at: datetime,
    settings: TextSettings,
) -> None:
    """Queue a text to the job's customer, or note in the log why none went out."""
    customer = db.get_one(Customer, job.customer_id)
    details: dict[str, Any] = {"purpose": purpose}
    if not customer.phone:
        details["reason"] = "the customer has no phone number"
        log_event(
            db, job, action="text_skipped", at=at, appointment_id=appointment.id, details=details
        )
        return
    try:
        message = queue_message(
            db,
            organization_id=job.organization_id,
            to=customer.phone,
            body=body,
            purpose=purpose,
            allowed_regions=settings.allowed_regions,
            job_id=job.id,
            appointment_id=appointment.id,
        )
    except DomainError as error:  # a number we may not text: the action still happens
        details["reason"] = error.message
        log_event(
            db, job, action="text_skipped", at=at, appointment_id=appointment.id, details=details
        )
        return
    details.update(message_id=str(message.id), to=message.to_phone, body=body)
    log_event(db, job, action="text_queued", at=at, appointment_id=appointment.id, details=details)


def technician_first_name(db: Session, appointment: Appointment, acting: Acting) -> str:
    """Who the customer is told about: the assigned technician, else whoever acts."""
    user_id = appointment.technician_id or acting.user_id
    user = None if user_id is None else db.get(User, user_id)
    return user.first_name if user is not None else "Your technician"


def text_body(
    purpose: str,
    *,
    organization: Organization,
    first_name: str,
    survey_url: str,
    job: Job,
    appointment: Appointment,
    arrival: str | None = None,
) -> str:
    if purpose == "on_my_way":
        return templates.on_my_way(first_name, organization.name, arrival)
    if purpose == "arrival":
        return templates.arrival(first_name, organization.name)
    if purpose == "survey":
        url = survey_url.replace("{job_id}", str(job.id)).replace(
            "{appointment_id}", str(appointment.id)
        )
        return templates.survey(organization.name, url)
    raise ValueError(f"unknown text purpose {purpose!r}")


def carry_out(
    db: Session,
    job: Job,
    rows: list[Appointment],
    decision: lc.Decision,
    acting: Acting,
    *,
    new_rows: Mapping[str, Appointment] | None = None,
    pause_reason: str | None = None,
    activity_extra: Mapping[str, Any] | None = None,
) -> None:
    """Write the decision and its activity entry (texts are queued by the caller)."""
    write_back(db, job, rows, decision, new_rows=new_rows, pause_reason=pause_reason)
    record_activity(db, job, decision.activity, acting, extra=activity_extra)
    db.flush()
