"""Fixtures of the jobs tests: an organization with a team, customers and jobs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.accounts.principal import Principal
from fieldapi.db import utcnow
from fieldapi.jobs import commands
from fieldapi.jobs.models import ActivityEvent, Appointment, Customer, Job, JobNote, JobPhoto
from fieldapi.messaging.models import Message
from tests.conftest import ApiClient

LOOP = (41.8789, -87.6359)  # about 8 km south of it


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def principal_of(user: User) -> Principal:
    return Principal(user.id, user.organization_id, uuid.uuid4(), user.name, user.role)


@pytest.fixture
def org(make_org: Callable[..., Organization]) -> Organization:
    return make_org(name="Done Right Home Services", timezone="America/Chicago")


@pytest.fixture
def dispatcher(org: Organization, make_user: Callable[..., User]) -> User:
    return make_user(org, role="dispatcher", name="Dana Reyes")


@pytest.fixture
def tech(org: Organization, make_user: Callable[..., User]) -> User:
    return make_user(org, role="technician", name="Sam Ortiz")


@pytest.fixture
def other_tech(org: Organization, make_user: Callable[..., User]) -> User:
    return make_user(org, role="technician", name="Priya Nair")


@pytest.fixture
def both(org: Organization, make_user: Callable[..., User]) -> User:
    return make_user(org, role="both", name="Lee Chen")


@pytest.fixture
def dispatcher_client(dispatcher: User, login_as: Callable[[User], ApiClient]) -> ApiClient:
    return login_as(dispatcher)


@pytest.fixture
def tech_client(tech: User, login_as: Callable[[User], ApiClient]) -> ApiClient:
    return login_as(tech)


@pytest.fixture
def customer(org: Organization, make_customer: Callable[..., Customer]) -> Customer:
    return make_customer(org)


@pytest.fixture
def make_job(db: Session, dispatcher: User, customer: Customer) -> Callable[..., Job]:
    """A job made through the service; `technician` (or `None`) gets an appointment."""

    def make(
        *,
        technician: User | None = None,
        scheduled: bool = True,
        starts_at: datetime | None = None,
        title: str = "Fix the furnace",
        customer_id: uuid.UUID | None = None,
        by: User | None = None,
    ) -> Job:
        appointment = None
        if scheduled:
            appointment = commands.AppointmentInput(
                starts_at=starts_at or utcnow() + timedelta(hours=2),
                duration_min=90,
                technician_id=None if technician is None else technician.id,
            )
        job_id = commands.create_job(
            db,
            principal_of(by or dispatcher),
            customer_id=customer_id or customer.id,
            title=title,
            appointment=appointment,
            now=utcnow(),
        )
        return load_job(db, job_id)

    return make


def load_job(db: Session, job_id: uuid.UUID) -> Job:
    """The job as committed (fresh from the database, appointments included)."""
    db.expire_all()
    return db.scalars(
        select(Job).where(Job.id == job_id).execution_options(populate_existing=True)
    ).one()


def appointments_of(db: Session, job_id: uuid.UUID) -> list[Appointment]:
    db.expire_all()
    return list(
        db.scalars(
            select(Appointment)
            .where(Appointment.job_id == job_id)
            .order_by(Appointment.created_at, Appointment.id)
        )
    )


def activity_of(db: Session, job_id: uuid.UUID) -> list[ActivityEvent]:
    db.expire_all()
    return list(
        db.scalars(
            select(ActivityEvent)
            .where(ActivityEvent.job_id == job_id)
            .order_by(ActivityEvent.at, ActivityEvent.id)
        )
    )


def texts_of(db: Session, job_id: uuid.UUID) -> list[Message]:
    db.expire_all()
    return list(
        db.scalars(select(Message).where(Message.job_id == job_id).order_by(Message.queued_at))
    )


def table_counts(db: Session) -> dict[str, int]:
    """Rows per table of this capability: a refused request must leave these alone."""
    db.expire_all()
    models = {
        "jobs": Job,
        "appointments": Appointment,
        "activity": ActivityEvent,
        "messages": Message,
        "customers": Customer,
        "notes": JobNote,
        "photos": JobPhoto,
    }
    return {
        name: db.scalar(select(func.count()).select_from(model)) or 0
        for name, model in models.items()
    }


def state_of(db: Session, job_id: uuid.UUID) -> tuple[Any, ...]:
    """Everything a status action may change, to compare before and after."""
    job = load_job(db, job_id)
    return (
        job.status,
        job.canceled,
        job.offer_state,
        tuple(
            (a.id, a.status, a.technician_id, a.starts_at, a.duration_min, a.reason_code)
            for a in appointments_of(db, job_id)
        ),
        len(activity_of(db, job_id)),
        len(texts_of(db, job_id)),
    )
