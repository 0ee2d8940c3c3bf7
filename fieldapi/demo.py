"""A demo organization: a team, customers around Chicago, and jobs in every status."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.accounts.principal import Principal
from fieldapi.db import utcnow
from fieldapi.enterprise.models import Connection
from fieldapi.enterprise.offers import OfferInput, make_offer
from fieldapi.enterprise.texts import TextRules
from fieldapi.jobs.commands import (
    AppointmentInput,
    appointment_action,
    create_job,
    job_action,
)
from fieldapi.jobs.models import Appointment, Customer, Job
from fieldapi.jobs.texts import TextSettings
from fieldapi.lifecycle import ActionName
from fieldapi.onboarding import create_organization

DEMO_ORG = "Done Right Home Services"
DEMO_DISPATCHER_PHONE = "+13122000100"
DEMO_ENTERPRISE = "Acme Home Warranty"
DEMO_MANAGER_PHONE = "+13122000300"
DEMO_TEAM = (
    ("Sam Ortiz", "+13122000101", "technician"),
    ("Priya Nair", "+13122000102", "technician"),
    ("Lee Chen", "+13122000103", "both"),
)
DEMO_CUSTOMERS = (
    ("Maria Lopez", "+13122000201", "1060 W Addison St, Chicago, IL", 41.9484, -87.6553),
    ("Tom Becker", "+13122000202", "233 S Wacker Dr, Chicago, IL", 41.8789, -87.6359),
    ("Ada Okafor", "+13122000203", "5700 S DuSable Lake Shore Dr, Chicago, IL", 41.7906, -87.5831),
)


def seed_demo(db: Session, *, only_if_empty: bool = False) -> dict[str, Any]:
    """Create the demo organization; with only_if_empty, do nothing when any exists."""
    if only_if_empty and db.scalar(select(func.count()).select_from(Organization)):
        return {"created": False}
    organization, dispatcher = create_organization(
        db,
        name=DEMO_ORG,
        owner_name="Dana Reyes",
        owner_phone=DEMO_DISPATCHER_PHONE,
        timezone="America/Chicago",
    )
    team = [
        User(id=uuid.uuid4(), organization_id=organization.id, name=name, phone=phone, role=role)
        for name, phone, role in DEMO_TEAM
    ]
    customers = [
        Customer(
            id=uuid.uuid4(),
            organization_id=organization.id,
            name=name,
            phone=phone,
            address=address,
            site=from_shape(Point(lon, lat), srid=4326),
            timezone="America/Chicago",
        )
        for name, phone, address, lat, lon in DEMO_CUSTOMERS
    ]
    db.add_all([*team, *customers])
    db.flush()
    jobs = seed_jobs(db, dispatcher, team, customers)
    return {
        "enterprise": {"name": DEMO_ENTERPRISE, "manager_phone": DEMO_MANAGER_PHONE},
        "created": True,
        "organization_id": organization.id,
        "dispatcher_phone": dispatcher.phone,
        "team": [(user.name, user.phone, user.role) for user in team],
        "customers": [customer.name for customer in customers],
        "jobs": jobs,
    }


def seed_enterprise(db: Session, dispatcher: User, customer: Customer) -> User:
    """Acme Home Warranty, its manager, an active connection to the demo provider and one
    open offer (made through the enterprise's own offer service); the manager."""
    acme, manager = create_organization(
        db,
        name=DEMO_ENTERPRISE,
        owner_name="Morgan Hale",
        owner_phone=DEMO_MANAGER_PHONE,
        kind="enterprise",
    )
    now = utcnow()
    db.add(
        Connection(
            organization_id=dispatcher.organization_id,
            enterprise_id=acme.id,
            state="active",
            requested_by_id=manager.id,
            created_at=now,
            updated_at=now,
        )
    )
    db.flush()
    lat_lon = customer.lat_lon
    assert lat_lon is not None and customer.phone is not None and customer.address is not None
    start = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=1, hours=1)
    offer = OfferInput(
        provider_id=dispatcher.organization_id,
        title="Warranty claim: dishwasher",
        description="Dishwasher does not drain; covered under plan ACME-HW-2291.",
        external_id="ACME-1001",
        customer={
            "name": customer.name,
            "phone": customer.phone,
            "address": customer.address,
            "lat": lat_lon[0],
            "lon": lat_lon[1],
            "timezone": customer.timezone,
        },
        appointment_windows=[{"start": start, "end": start + timedelta(hours=4)}],
    )
    make_offer(db, _principal(manager), offer, now=now, rules=TextRules())
    return manager


def _principal(user: User) -> Principal:
    return Principal(user.id, user.organization_id, uuid.uuid4(), user.name, user.role)


def seed_jobs(
    db: Session, dispatcher: User, team: list[User], customers: list[Customer]
) -> list[tuple[str, str]]:
    """Jobs in every status, made the way the apps make them (through the services, so
    the statuses, the activity log and the queued texts are what real use produces)."""
    now = utcnow()
    sam, priya, lee = team
    maria, tom, ada = customers
    boss = _principal(dispatcher)
    texts = TextSettings()

    def job(customer: Customer, title: str, tech: User | None, hours: float) -> uuid.UUID:
        visit = None
        if tech is not None:
            visit = AppointmentInput(now + timedelta(hours=hours), 90, tech.id)
        return create_job(
            db, boss, customer_id=customer.id, title=title, appointment=visit, now=utcnow()
        )

    def act(user: User, job_id: uuid.UUID, action: ActionName, **values: Any) -> None:
        appointment_id = db.scalars(
            select(Appointment.id)
            .where(Appointment.job_id == job_id)
            .order_by(Appointment.created_at.desc())
        ).first()
        assert appointment_id is not None
        appointment_action(
            db, _principal(user), appointment_id, action, now=utcnow(), settings=texts, **values
        )

    job(maria, "Furnace not heating", sam, 2)
    driving = job(tom, "Water heater leaking", priya, 0.5)
    act(priya, driving, ActionName.ON_MY_WAY, position=(41.9000, -87.6500))
    waiting = job(ada, "Replace thermostat", lee, -3)
    act(lee, waiting, ActionName.START)
    act(lee, waiting, ActionName.COMPLETE, reason_code="parts_ordered")
    done = job(tom, "Annual AC tune-up", sam, -5)
    act(sam, done, ActionName.START)
    act(sam, done, ActionName.COMPLETE, reason_code="repaired")
    job(ada, "Quote: new ductwork", None, 0)
    canceled = job(maria, "Gutter cleaning", priya, 26)
    job_action(db, boss, canceled, ActionName.CANCEL, reason="Customer rescheduling", now=utcnow())
    seed_enterprise(db, dispatcher, maria)
    rows = db.execute(
        select(Job.title, Job.status)
        .where(Job.organization_id == dispatcher.organization_id)
        .order_by(Job.created_at)
    ).all()
    return [(title, status) for title, status in rows]
