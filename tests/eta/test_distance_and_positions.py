"""The PostGIS distance to a customer's site, and a technician's latest known position."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.eta.service import (
    LATEST_POSITION,
    REQUEST_POSITION,
    UNKNOWN_POSITION,
    EtaSettings,
    estimate_arrival,
)
from fieldapi.jobs.customers import distance_to_site_m, site_point
from fieldapi.jobs.models import Customer
from fieldapi.locations.positions import latest_known_position
from tests.conftest import WRIGLEY

LOOP = (41.8789, -87.6359)


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


@pytest.fixture
def org(make_org: Callable[..., Organization]) -> Organization:
    return make_org()


@pytest.fixture
def tech(org: Organization, make_user: Callable[..., User]) -> User:
    return make_user(org, role="technician")


@pytest.fixture
def customer(db: Session, org: Organization) -> Customer:
    row = Customer(
        id=uuid.uuid4(),
        organization_id=org.id,
        name="Maria",
        phone=None,
        address="Addison",
        timezone="America/Chicago",
        site=site_point(*WRIGLEY),
    )
    db.add(row)
    db.commit()
    return row


def ping(db: Session, user: User, where: tuple[float, float], at: datetime) -> None:
    db.execute(
        text(
            "INSERT INTO latest_locations (organization_id, user_id, recorded_at, position, "
            "updated_at) VALUES (:org, :user, :at, "
            "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, now())"
        ),
        {"org": user.organization_id, "user": user.id, "at": at, "lat": where[0], "lon": where[1]},
    )


def test_the_distance_is_postgis_geodesic(db: Session, customer: Customer) -> None:
    metres = distance_to_site_m(db, customer.id, *LOOP)
    assert metres is not None
    assert metres == pytest.approx(haversine_m(WRIGLEY, LOOP), rel=0.005)
    assert distance_to_site_m(db, customer.id, *WRIGLEY) == pytest.approx(0, abs=0.01)
    assert distance_to_site_m(db, uuid.uuid4(), *LOOP) is None


def test_only_a_fresh_ping_is_a_known_position(db: Session, tech: User, org: Organization) -> None:
    now = utcnow()
    assert latest_known_position(db, org.id, tech.id, timedelta(minutes=15), now=now) is None
    ping(db, tech, LOOP, now - timedelta(minutes=10))
    known = latest_known_position(db, org.id, tech.id, timedelta(minutes=15), now=now)
    assert known is not None
    assert (known.lat, known.lon) == pytest.approx(LOOP)
    assert known.recorded_at == now - timedelta(minutes=10)
    assert latest_known_position(db, org.id, tech.id, timedelta(minutes=5), now=now) is None
    assert latest_known_position(db, uuid.uuid4(), tech.id, timedelta(hours=1), now=now) is None


def test_the_estimate_prefers_the_request_position(
    db: Session, tech: User, org: Organization, customer: Customer
) -> None:
    now = utcnow()
    settings = EtaSettings()
    ping(db, tech, (42.05, -87.68), now - timedelta(minutes=1))  # Evanston, farther away
    told = estimate_arrival(
        db,
        organization_id=org.id,
        technician_id=tech.id,
        customer_id=customer.id,
        position=LOOP,
        now=now,
        settings=settings,
    )
    pinged = estimate_arrival(
        db,
        organization_id=org.id,
        technician_id=tech.id,
        customer_id=customer.id,
        position=None,
        now=now,
        settings=settings,
    )
    assert told.method == REQUEST_POSITION and pinged.method == LATEST_POSITION
    assert told.distance_m is not None and pinged.distance_m is not None
    assert told.distance_m < pinged.distance_m
    assert told.minutes is not None and told.arrive_by == (
        now + timedelta(minutes=told.minutes)
    ).replace(microsecond=0)
    nobody = estimate_arrival(
        db,
        organization_id=org.id,
        technician_id=uuid.uuid4(),
        customer_id=customer.id,
        position=None,
        now=now,
        settings=settings,
    )
    assert (nobody.method, nobody.minutes, nobody.arrive_by) == (UNKNOWN_POSITION, None, None)
