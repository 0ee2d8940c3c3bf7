"""GET/PATCH /v1/settings/organization: name, timezone, and the arrival text on Start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.jobs.models import Job
from tests.conftest import ApiClient
from tests.jobs.conftest import texts_of
from tests.jobs.test_actions import act

PATH = "/v1/settings/organization"


def test_everyone_reads_the_settings(
    tech_client: ApiClient, dispatcher_client: ApiClient, org: Organization
) -> None:
    expected = {
        "id": str(org.id),
        "name": org.name,
        "timezone": org.timezone,
        "arrival_texts": True,
        "kind": "provider",
        "booked_texts": True,
        "reminder_texts": True,
        "reminder_hours": 24,
        "canceled_texts": True,
        "auto_start_on_arrival": False,
        "currency": "USD",
        "tax_rate_pct": 0.0,
        "booking_enabled": False,
        "booking_slug": None,
    }
    assert tech_client.get(PATH).json == expected
    as_dispatcher = dispatcher_client.get(PATH).json
    assert as_dispatcher.pop("connection_code") == org.connection_code
    assert as_dispatcher == expected


def test_a_dispatcher_turns_arrival_texts_off_and_start_sends_none(
    dispatcher_client: ApiClient,
    tech_client: ApiClient,
    make_job: Callable[..., Job],
    tech: User,
    db: Session,
) -> None:
    changed = dispatcher_client.patch(PATH, json={"arrival_texts": False})
    assert changed.status_code == 200, changed.json
    assert changed.json["arrival_texts"] is False

    quiet = make_job(technician=tech)
    assert act(tech_client, quiet, "start").status_code == 200
    assert texts_of(db, quiet.id) == []

    assert dispatcher_client.patch(PATH, json={"arrival_texts": True}).status_code == 200
    announced = make_job(technician=tech)
    assert act(tech_client, announced, "start").status_code == 200
    assert [text.purpose for text in texts_of(db, announced.id)] == ["arrival"]


def test_a_dispatcher_renames_and_moves_the_organization(
    dispatcher_client: ApiClient, db: Session, org: Organization
) -> None:
    response = dispatcher_client.patch(
        PATH, json={"name": "  Done  Right HVAC ", "timezone": "America/Denver"}
    )

    assert response.status_code == 200, response.json
    assert (response.json["name"], response.json["timezone"]) == (
        "Done Right HVAC",
        "America/Denver",
    )
    db.expire_all()
    assert (org.name, org.timezone, org.arrival_texts) == (
        "Done Right HVAC",
        "America/Denver",
        True,
    )
    assert dispatcher_client.get("/v1/me").json["organization"]["name"] == "Done Right HVAC"


@pytest.mark.parametrize(
    "change",
    [
        {"timezone": "Mars/Olympus"},
        {"name": "   "},
        {"name": ""},
        {"arrival_texts": "sometimes"},
        {"id": "00000000-0000-0000-0000-000000000000"},
    ],
)
def test_bad_settings_are_422_and_change_nothing(
    dispatcher_client: ApiClient, db: Session, org: Organization, change: dict[str, Any]
) -> None:
    before = dispatcher_client.get(PATH).json

    response = dispatcher_client.patch(PATH, json=change)

    assert response.status_code == 422, response.json
    db.expire_all()
    assert dispatcher_client.get(PATH).json == before


def test_a_technician_cannot_change_the_settings(
    tech_client: ApiClient, dispatcher_client: ApiClient
) -> None:
    response = tech_client.patch(PATH, json={"arrival_texts": False})

    assert response.status_code == 403
    assert dispatcher_client.get(PATH).json["arrival_texts"] is True
