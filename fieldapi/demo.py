"""A demo organization: a team, customers around Chicago, and jobs in every status."""

from __future__ import annotations

import uuid
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.accounts.organizations import create_organization
from fieldapi.jobs.models import Customer

DEMO_ORG = "Done Right Home Services"
DEMO_DISPATCHER_PHONE = "+13122000100"
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
    return {
        "created": True,
        "organization_id": organization.id,
        "dispatcher_phone": dispatcher.phone,
        "team": [(user.name, user.phone, user.role) for user in team],
        "customers": [customer.name for customer in customers],
    }
