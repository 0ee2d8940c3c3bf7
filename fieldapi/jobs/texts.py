"""The customer's texts about a job: their settings, their bodies, and queueing them (or
noting in the activity log why none went out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fieldapi import lifecycle as lc
from fieldapi.accounts.models import Organization, User
from fieldapi.errors import DomainError
from fieldapi.eta.model import clock_text
from fieldapi.eta.service import Eta, EtaSettings
from fieldapi.jobs.activity import Acting, record_event
from fieldapi.jobs.models import Appointment, Customer, Job
from fieldapi.messaging import templates
from fieldapi.messaging.outbox import queue_message


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
    organization = db.get_one(Organization, job.organization_id)
    customer = db.get_one(Customer, job.customer_id)
    for text in texts:
        appointment = next(row for row in rows if str(row.id) == text.appointment_id)
        arrival = None
        if text.purpose == "on_my_way" and eta is not None and eta.arrive_by is not None:
            arrival = clock_text(eta.arrive_by, customer.timezone, now=now)
        body = _text_body(
            text.purpose,
            organization=organization,
            first_name=_technician_first_name(db, appointment, acting),
            survey_url=settings.survey_url,
            job=job,
            appointment=appointment,
            arrival=arrival,
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


def _text_body(
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


def _technician_first_name(db: Session, appointment: Appointment, acting: Acting) -> str:
    """Who the customer is told about: the assigned technician, else whoever acts."""
    user_id = appointment.technician_id or acting.user_id
    user = None if user_id is None else db.get(User, user_id)
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
