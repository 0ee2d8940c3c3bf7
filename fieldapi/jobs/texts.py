"""The customer's texts about a job: their settings, their bodies, and queueing them (or
noting in the activity log why none went out)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi import lifecycle as lc
from fieldapi.accounts.members import member
from fieldapi.accounts.organizations import OrganizationSettings, organization_settings
from fieldapi.errors import DomainError
from fieldapi.eta.model import clock_text
from fieldapi.eta.service import Eta
from fieldapi.eta.settings import EtaSettings
from fieldapi.jobs.activity import Acting, record_event
from fieldapi.jobs.models import ActivityEvent, Appointment, Customer, Job
from fieldapi.messaging import templates
from fieldapi.messaging.outbox import queue_message
from fieldapi.messaging.visit_texts import visit_had_text
from fieldapi.public.links import start_tracking, tracking_url


@dataclass(frozen=True)
class TextSettings:
    allowed_regions: tuple[str, ...] = ("US", "CA")
    survey_url: str = "https://dispatch.example.com/survey"
    eta: EtaSettings = field(default_factory=EtaSettings)
    public_base_url: str = "http://127.0.0.1:8000"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TextSettings:
        return cls(
            allowed_regions=tuple(config["SMS_ALLOWED_REGIONS"]),
            survey_url=config["SURVEY_URL"],
            eta=EtaSettings.from_config(config),
            public_base_url=config["PUBLIC_BASE_URL"],
        )


def send_texts(
    db: Session,
    job: Job,
    rows: list[Appointment],
    texts: tuple[lc.SendText, ...],
    acting: Acting,
    *,
    eta: Eta | None,
    now: datetime,
    settings: TextSettings,
) -> None:
    """Queue the texts a decision asks for, one per `SendText`, to the job's customer."""
    if not texts:
        return
    organization = organization_settings(db, job.organization_id)
    customer = db.get_one(Customer, job.customer_id)
    for text in texts:
        appointment = next(row for row in rows if str(row.id) == text.appointment_id)
        arrival = tracking_link = None
        if text.purpose == "on_my_way":
            promised = None if eta is None else eta.arrive_by
            if promised is not None:
                arrival = clock_text(promised, customer.timezone, now=now)
            token = start_tracking(
                db,
                organization_id=job.organization_id,
                appointment_id=appointment.id,
                promised_arrive_by=promised,
                now=now,
            )
            tracking_link = tracking_url(settings.public_base_url, token)
        body = _text_body(
            text.purpose,
            organization=organization,
            first_name=_technician_first_name(db, appointment, acting),
            survey_url=settings.survey_url,
            job=job,
            appointment=appointment,
            arrival=arrival,
            tracking_link=tracking_link,
        )
        _queue(
            db,
            job,
            customer,
            appointment,
            purpose=text.purpose,
            body=body,
            at=now,
            settings=settings,
        )


def send_running_late(
    db: Session,
    job: Job,
    appointment: Appointment,
    *,
    arrive_by: datetime,
    now: datetime,
    settings: TextSettings,
) -> None:
    """Queue the customer's "running late, now around 3:10 PM" text."""
    organization = organization_settings(db, job.organization_id)
    customer = db.get_one(Customer, job.customer_id)
    system = Acting(lc.Actor(kind=lc.ActorKind.SYSTEM))
    body = templates.running_late(
        _technician_first_name(db, appointment, system),
        organization.name,
        clock_text(arrive_by, customer.timezone, now=now),
    )
    _queue(
        db,
        job,
        customer,
        appointment,
        purpose="running_late",
        body=body,
        at=now,
        settings=settings,
    )


#: The texts about a visit's schedule, and the organization setting that turns each on.
VISIT_TEXT_SETTINGS = {
    "booked": "booked_texts",
    "moved": "booked_texts",
    "reminder": "reminder_texts",
    "canceled": "canceled_texts",
}


def send_schedule_texts(
    db: Session,
    job: Job,
    appointments: list[Appointment],
    before: Mapping[uuid.UUID, str],
    *,
    now: datetime,
    settings: TextSettings,
) -> None:
    """After a lifecycle decision: `booked` for each new scheduled visit, `canceled` for
    each visit that was active (`before`: the statuses before the decision)."""
    for row in appointments:
        was = before.get(row.id)
        if was is None and row.status == "scheduled":
            send_visit_text(db, job, row, "booked", now=now, settings=settings)
        elif was in ("scheduled", "enroute", "started") and row.status == "canceled":
            send_visit_text(db, job, row, "canceled", now=now, settings=settings)


def send_booking_answer(
    db: Session, job: Job, *, accepted: bool, now: datetime, settings: TextSettings
) -> None:
    """Tell the customer who asked on the booking page whether the request was taken."""
    organization = organization_settings(db, job.organization_id)
    customer = db.get_one(Customer, job.customer_id)
    purpose = "booking_accepted" if accepted else "booking_declined"
    body = (templates.booking_accepted if accepted else templates.booking_declined)(
        organization.name
    )
    details: dict[str, Any] = {"purpose": purpose}
    try:
        if not customer.phone:
            raise DomainError("the customer has no phone number")
        message = queue_message(
            db,
            organization_id=job.organization_id,
            to=customer.phone,
            body=body,
            purpose=purpose,
            allowed_regions=settings.allowed_regions,
            job_id=job.id,
        )
    except DomainError as error:
        details["reason"] = error.message
        record_event(db, job, action="text_skipped", at=now, details=details)
        return
    details.update(message_id=str(message.id), to=message.to_phone, body=body)
    record_event(db, job, action="text_queued", at=now, details=details)


def send_visit_text(
    db: Session,
    job: Job,
    appointment: Appointment,
    purpose: str,
    *,
    now: datetime,
    settings: TextSettings,
) -> bool:
    """Queue a visit's `booked`, `moved`, `reminder` or `canceled` text unless the
    organization turned it off or the visit already had one of that purpose (one text per
    purpose per visit: a queued, sent or refused one alike). Whether one was queued."""
    organization = organization_settings(db, job.organization_id)
    if not getattr(organization, VISIT_TEXT_SETTINGS[purpose]):
        return False
    if _visit_had_text(db, job, appointment, purpose):
        return False
    customer = db.get_one(Customer, job.customer_id)
    when = visit_window_text(appointment.starts_at, appointment.duration_min, customer.timezone)
    body = getattr(templates, f"visit_{purpose}")(organization.name, when)
    _queue(db, job, customer, appointment, purpose=purpose, body=body, at=now, settings=settings)
    return True


def visit_window_text(starts_at: datetime, duration_min: int, timezone: str) -> str:
    """`Tue Dec 2, 2:00-3:30 PM` in the customer's timezone."""
    zone = ZoneInfo(timezone)
    start = starts_at.astimezone(zone)
    end = (starts_at + timedelta(minutes=duration_min)).astimezone(zone)

    def clock(moment: datetime, with_half: bool) -> str:
        text = f"{moment.hour % 12 or 12}:{moment.minute:02d}"
        return f"{text} {'AM' if moment.hour < 12 else 'PM'}" if with_half else text

    same_half = (start.hour < 12) == (end.hour < 12) and start.date() == end.date()
    return f"{start:%a %b} {start.day}, {clock(start, not same_half)}-{clock(end, True)}"


def _visit_had_text(db: Session, job: Job, appointment: Appointment, purpose: str) -> bool:
    if visit_had_text(db, appointment.id, purpose):
        return True
    skipped = db.scalar(
        select(ActivityEvent.id)
        .where(
            ActivityEvent.organization_id == job.organization_id,
            ActivityEvent.job_id == job.id,
            ActivityEvent.appointment_id == appointment.id,
            ActivityEvent.action == "text_skipped",
            ActivityEvent.details["purpose"].astext == purpose,
        )
        .limit(1)
    )
    return skipped is not None


def _text_body(
    purpose: str,
    *,
    organization: OrganizationSettings,
    first_name: str,
    survey_url: str,
    job: Job,
    appointment: Appointment,
    arrival: str | None = None,
    tracking_link: str | None = None,
) -> str:
    if purpose == "on_my_way" and tracking_link is not None:
        return templates.on_my_way(first_name, organization.name, arrival, tracking_link)
    if purpose == "arrival":
        return templates.arrival(first_name, organization.name)
    if purpose == "survey":
        url = survey_url.replace("{job_id}", str(job.id)).replace(
            "{appointment_id}", str(appointment.id)
        )
        return templates.survey(organization.name, url)
    raise ValueError(f"unknown text purpose {purpose!r}")


def _technician_first_name(db: Session, appointment: Appointment, acting: Acting) -> str:
    """Who the customer is told about: the assigned technician, else whoever acts."""
    user_id = appointment.technician_id or acting.user_id
    user = None if user_id is None else member(db, user_id)
    return user.first_name if user is not None else "Your technician"


def _queue(
    db: Session,
    job: Job,
    customer: Customer,
    appointment: Appointment,
    *,
    purpose: str,
    body: str,
    at: datetime,
    settings: TextSettings,
) -> None:
    details: dict[str, Any] = {"purpose": purpose}
    if not customer.phone:
        details["reason"] = "the customer has no phone number"
        record_event(
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
            # The customer came with the job's lock, read in this transaction.
            opted_out=customer.texts_opted_out,
        )
    except DomainError as error:  # a number we may not text: the action still happens
        details["reason"] = error.message
        record_event(
            db, job, action="text_skipped", at=at, appointment_id=appointment.id, details=details
        )
        return
    details.update(message_id=str(message.id), to=message.to_phone, body=body)
    record_event(
        db, job, action="text_queued", at=at, appointment_id=appointment.id, details=details
    )
