"""Helpers for the locations tests: pings near Chicago, reading what was stored."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.accounts.sessions import open_session
from fieldapi.db import utcnow
from fieldapi.onboarding import create_organization
from tests.conftest import TEST_SECRET_KEY, ApiClient, unique_phone

CHICAGO = (41.8781, -87.6298)
NEW_YORK = (40.7128, -74.0060)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def ping(moment: datetime, lat: float = CHICAGO[0], lon: float = CHICAGO[1], **extra: Any) -> dict:
    return {"recorded_at": iso(moment), "lat": lat, "lon": lon, **extra}


@pytest.fixture
def base_time() -> datetime:
    """A whole minute a little in the past, so a batch fits before `now`."""
    return (utcnow() - timedelta(hours=2)).replace(second=0, microsecond=0)


@pytest.fixture
def org(make_org: Callable[..., Organization]) -> Organization:
    return make_org()


@pytest.fixture
def tech(org: Organization, make_user: Callable[..., User]) -> User:
    return make_user(org, role="technician", name="Sam Ortiz")


@pytest.fixture
def tech_client(tech: User, login_as: Callable[[User], ApiClient]) -> ApiClient:
    return login_as(tech)


@pytest.fixture
def dispatcher(org: Organization, make_user: Callable[..., User]) -> User:
    return make_user(org, role="dispatcher", name="Dana Reyes")


@pytest.fixture
def dispatcher_client(dispatcher: User, login_as: Callable[[User], ApiClient]) -> ApiClient:
    return login_as(dispatcher)


def stored_pings(db: Session, user_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = db.execute(
        text(
            "SELECT recorded_at, ST_Y(position::geometry) AS lat, ST_X(position::geometry) AS lon,"
            " accuracy_m, speed_mps, heading_deg, altitude_m, battery_pct, impossible_jump,"
            " organization_id FROM location_pings WHERE user_id = :user ORDER BY recorded_at"
        ),
        {"user": user_id},
    ).mappings()
    return [dict(row) for row in rows]


def latest(db: Session, user_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        db.execute(
            text(
                "SELECT recorded_at, ST_Y(position::geometry) AS lat, "
                "ST_X(position::geometry) AS lon, accuracy_m, battery_pct "
                "FROM latest_locations WHERE user_id = :user"
            ),
            {"user": user_id},
        )
        .mappings()
        .one_or_none()
    )
    return dict(row) if row else None


def post_pings(client: ApiClient, pings: list[dict[str, Any]]) -> Any:
    return client.post("/v1/locations", json={"pings": pings})


def committed_technician(committed: Session, name: str) -> tuple[User, str]:
    """A technician and their access token, committed (for tests outside a transaction)."""
    organization, _owner = create_organization(
        committed, name=f"{name} HVAC", owner_name="Tess", owner_phone=unique_phone()
    )
    user = User(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name=name,
        phone=unique_phone(),
        role="technician",
    )
    committed.add(user)
    committed.flush()
    token = open_session(committed, user, secret_key=TEST_SECRET_KEY, now=utcnow()).access_token
    committed.commit()
    return user, token
