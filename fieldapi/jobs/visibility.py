"""Who sees which job, appointment, customer and activity entry: WHERE clauses and filters.

Dispatchers and users with role `both` see everything in their organization (but a
declined offer); technicians see only their own assigned appointments, the jobs those
belong to and those jobs' customers. Anything outside the caller's organization does not
exist for them (404, never 403).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import ColumnElement, Uuid, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from fieldapi import lifecycle as lc
from fieldapi.accounts.policy import is_manager
from fieldapi.accounts.principal import Principal
from fieldapi.errors import NotFound
from fieldapi.jobs.models import ActivityEvent, Appointment, Customer, Job

#: The caller's organization and user as bound parameters, for a statement built once and
#: run for every caller of one kind (`bound_caller` gives their values).
CALLER_ORGANIZATION = bindparam("caller_organization_id", type_=Uuid)
CALLER_USER = bindparam("caller_user_id", type_=Uuid)


def bound_caller(principal: Principal) -> dict[str, uuid.UUID]:
    """The values of `CALLER_ORGANIZATION` and `CALLER_USER` for `principal`."""
    return {
        "caller_organization_id": principal.organization_id,
        "caller_user_id": principal.user_id,
    }


def visible_jobs(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause for the jobs the caller may see."""
    return jobs_seen_by(is_manager(principal), principal.organization_id, principal.user_id)


def jobs_seen_by(manager: bool, organization_id: Any, user_id: Any) -> ColumnElement[bool]:
    """`visible_jobs` for a manager or a technician of `organization_id` (a value, or
    `CALLER_ORGANIZATION` and `CALLER_USER` in a statement built once)."""
    in_org = Job.organization_id == organization_id
    not_declined = Job.offer_state != lc.OfferState.DECLINED.value
    if manager:
        return and_(in_org, not_declined)
    assigned = exists(
        select(Appointment.id).where(
            Appointment.job_id == Job.id, Appointment.technician_id == user_id
        )
    )
    return and_(in_org, not_declined, assigned)


def require_visible_job(db: Session, principal: Principal, job_id: uuid.UUID) -> None:
    """404 unless the caller may see the job (for other capabilities filtering by job)."""
    if db.scalar(select(Job.id).where(Job.id == job_id, visible_jobs(principal))) is None:
        raise NotFound("No such job.")


def visible_appointments(
    principal: Principal, appointment: Any = Appointment
) -> ColumnElement[bool]:
    """A WHERE clause for the appointments the caller may see: a technician sees only the
    ones assigned to them, in the calendar, by id and inside a job's answer."""
    return appointments_seen_by(
        is_manager(principal), principal.organization_id, principal.user_id, appointment
    )


def appointments_seen_by(
    manager: bool, organization_id: Any, user_id: Any, appointment: Any = Appointment
) -> ColumnElement[bool]:
    """`visible_appointments` as `jobs_seen_by` gives `visible_jobs`."""
    in_org = appointment.organization_id == organization_id
    if manager:
        return cast(ColumnElement[bool], in_org)
    return and_(in_org, appointment.technician_id == user_id)


def shown_appointments(principal: Principal, rows: Iterable[Appointment]) -> list[Appointment]:
    """`visible_appointments` for rows already loaded (a job's)."""
    if is_manager(principal):
        return list(rows)
    return [row for row in rows if row.technician_id == principal.user_id]


def visible_customers(principal: Principal) -> ColumnElement[bool]:
    """Managers see every customer; technicians those of the jobs they may see."""
    in_org = Customer.organization_id == principal.organization_id
    if is_manager(principal):
        return in_org
    return in_org & exists(
        select(Job.id).where(Job.customer_id == Customer.id, visible_jobs(principal))
    )


def visible_activity(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause for activity entries: a technician sees a job's own entries and
    those of their visits, not another technician's."""
    in_org = ActivityEvent.organization_id == principal.organization_id
    if is_manager(principal):
        return in_org
    # Per entry, one lookup of its appointment (an IN would hash all their visits ever).
    theirs = exists(
        select(Appointment.id).where(
            Appointment.id == ActivityEvent.appointment_id, visible_appointments(principal)
        )
    )
    return and_(in_org, or_(ActivityEvent.appointment_id.is_(None), theirs))
