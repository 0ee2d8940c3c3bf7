"""Who may do what: the one place views and services ask.

Dispatchers and users with role `both` see and manage everything in their organization;
technicians see only their own assigned appointments and the jobs those belong to.
Anything outside the caller's organization does not exist for them (404, never 403).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, exists, or_, select

from fieldapi.accounts.principal import Principal
from fieldapi.errors import Forbidden
from fieldapi.jobs.models import ActivityEvent, Appointment, Job


def is_manager(principal: Principal) -> bool:
    return principal.is_dispatcher


def require_manager(principal: Principal, what: str = "do this") -> None:
    if not is_manager(principal):
        raise Forbidden(f"Only dispatchers can {what}.")


def require_team_admin(principal: Principal, what: str = "do this") -> None:
    """Team management: a provider's dispatchers, or an enterprise's managers."""
    if not (principal.is_dispatcher or principal.is_enterprise_manager):
        raise Forbidden(f"Only dispatchers can {what}.")


def may_see_user(principal: Principal, user_id: uuid.UUID) -> bool:
    """A user's track and details: managers, or the user themself."""
    return is_manager(principal) or principal.user_id == user_id


def visible_jobs(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause for the jobs the caller may see."""
    in_org = Job.organization_id == principal.organization_id
    if is_manager(principal):
        return and_(in_org, Job.offer_state != "declined")
    assigned = exists(
        select(Appointment.id).where(
            Appointment.job_id == Job.id, Appointment.technician_id == principal.user_id
        )
    )
    return and_(in_org, Job.offer_state != "declined", assigned)


def visible_appointments(
    principal: Principal, appointment: Any = Appointment
) -> ColumnElement[bool]:
    """A WHERE clause for the appointments the caller may see: a technician sees only the
    ones assigned to them (faq.txt), in the calendar, by id and inside a job's answer."""
    in_org = appointment.organization_id == principal.organization_id
    if is_manager(principal):
        return cast(ColumnElement[bool], in_org)
    return and_(in_org, appointment.technician_id == principal.user_id)


def visible_activity(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause for activity entries: a technician sees a job's own entries and
    those of their visits, not another technician's."""
    in_org = ActivityEvent.organization_id == principal.organization_id
    if is_manager(principal):
        return in_org
    theirs = select(Appointment.id).where(visible_appointments(principal))
    return and_(
        in_org,
        or_(ActivityEvent.appointment_id.is_(None), ActivityEvent.appointment_id.in_(theirs)),
    )


def shown_appointments(principal: Principal, rows: Iterable[Appointment]) -> list[Appointment]:
    """`visible_appointments` for rows already loaded (a job's)."""
    if is_manager(principal):
        return list(rows)
    return [row for row in rows if row.technician_id == principal.user_id]
