"""Offers: one transaction (customer matched by phone, the offered job, the dispatchers'
texts), external_id idempotent, accept/decline through the lifecycle, bad input 422."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.jobs.models import ActivityEvent, Customer, Job
from fieldapi.messaging.models import Message
from tests.conftest import ApiClient
from tests.enterprise.conftest import CUSTOMER, offer_body


def counts(db: Session) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        db.scalar(select(func.count()).select_from(table)) or 0
        for table in (Job, Customer, Message)
    )


def test_an_offer_reaches_the_provider_offered_with_a_text_to_its_dispatchers(
    offer: Callable[..., dict[str, Any]],
    dispatcher_client: ApiClient,
    dispatcher: User,
    enterprise: Organization,
    provider: Organization,
    db: Session,
) -> None:
    job = offer(external_id="ACME-1001", description="Water pools at the bottom")
    assert (job["status"], job["external_id"], job["provider"]["name"]) == (
        "offered",
        "ACME-1001",
        provider.name,
    )
    assert job["customer"]["phone"] == "+13122000201"
    assert len(job["appointment_windows"]) == 1
    seen = dispatcher_client.get(f"/v1/jobs/{job['id']}").json
    assert (seen["status"], seen["offer_state"]) == ("offered", "pending")
    assert seen["offered_by"] == {"id": str(enterprise.id), "name": "Acme Home Warranty"}
    assert seen["allowed_actions"] == ["accept", "decline"]
    dispatchers = set(
        db.scalars(
            select(User.phone).where(User.organization_id == provider.id, User.role == "dispatcher")
        )
    )
    assert dispatcher.phone in dispatchers and len(dispatchers) == 2  # with the owner
    texts = db.scalars(select(Message).where(Message.job_id == job["id"])).all()
    assert {t.to_phone for t in texts} == dispatchers
    assert {t.body for t in texts} == {
        "New job offer from Acme Home Warranty: Dishwasher not draining"
    }


def test_the_customer_is_matched_by_phone_within_the_provider(
    offer: Callable[..., dict[str, Any]],
    provider: Organization,
    make_customer: Callable[..., Customer],
    db: Session,
) -> None:
    existing = make_customer(provider, name="Maria L.", phone="+13122000201")
    first = offer()
    second = offer(customer=dict(CUSTOMER, name="Maria Lopez-Diaz"))
    ids = db.scalars(select(Job.customer_id).where(Job.id.in_([first["id"], second["id"]])))
    assert set(ids) == {existing.id}
    other = offer(customer=dict(CUSTOMER, phone="312-200-0299"))
    assert db.get_one(Job, other["id"]).customer_id != existing.id


def test_a_retry_with_the_same_external_id_answers_the_first_job(
    connected: str, manager_client: ApiClient, provider: Organization, db: Session
) -> None:
    body = offer_body(provider, external_id="ACME-7")
    first = manager_client.post("/v1/enterprise/offers", json=body)
    before = counts(db)
    again = manager_client.post("/v1/enterprise/offers", json=dict(body, title="Changed"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]
    assert again.json["title"] == "Dishwasher not draining"
    assert counts(db) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"customer": dict(CUSTOMER, phone="12")}, "customer"),
        ({"customer": dict(CUSTOMER, lat=91)}, "customer"),
        ({"customer": dict(CUSTOMER, lon=-181)}, "customer"),
        ({"customer": dict(CUSTOMER, timezone="Mars/Olympus")}, "customer"),
        ({"title": ""}, "title"),
        ("ends_before_start", "appointment_windows"),
        ("in_the_past", "appointment_windows"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(
    connected: str,
    manager_client: ApiClient,
    provider: Organization,
    db: Session,
    change: Any,
    field: str,
) -> None:
    now = utcnow()
    if change == "ends_before_start":
        window = {"start": (now + timedelta(hours=5)).isoformat(), "end": now.isoformat()}
        change = {"appointment_windows": [window]}
    elif change == "in_the_past":
        window = {
            "start": (now - timedelta(hours=5)).isoformat(),
            "end": (now - timedelta(hours=1)).isoformat(),
        }
        change = {"appointment_windows": [window]}
    before = counts(db)
    answer = manager_client.post("/v1/enterprise/offers", json=offer_body(provider, **change))
    assert answer.status_code == 422, answer.json
    assert field in answer.json["errors"]
    if isinstance(change, dict) and change.get("customer", {}).get("timezone") == "Mars/Olympus":
        assert "timezone" in answer.json["errors"]["customer"]
    assert counts(db) == before


def test_an_unconnected_or_unknown_provider_is_404(
    manager_client: ApiClient, make_org: Callable[..., Organization], db: Session
) -> None:
    stranger = make_org(name="Unconnected Plumbing")
    before = counts(db)
    for body in (
        offer_body(stranger),
        dict(offer_body(stranger), provider_id=str(stranger.id)[:-1] + "0"),
    ):
        answer = manager_client.post("/v1/enterprise/offers", json=body)
        assert answer.status_code == 404
    assert counts(db) == before


def test_accept_through_the_lifecycle_makes_it_unscheduled_for_both_sides(
    offer: Callable[..., dict[str, Any]],
    dispatcher_client: ApiClient,
    manager_client: ApiClient,
    db: Session,
) -> None:
    job = offer()
    accepted = dispatcher_client.post(f"/v1/jobs/{job['id']}/actions/accept")
    assert accepted.json["status"] == "unscheduled"
    assert manager_client.get(f"/v1/enterprise/jobs/{job['id']}").json["status"] == "unscheduled"
    actions = db.scalars(
        select(ActivityEvent.action)
        .where(ActivityEvent.job_id == job["id"])
        .order_by(ActivityEvent.id)
    ).all()
    assert actions[0] == "create" and "accept" in actions


def test_a_declined_offer_is_gone_for_the_provider_and_declined_for_the_enterprise(
    offer: Callable[..., dict[str, Any]],
    dispatcher_client: ApiClient,
    manager_client: ApiClient,
) -> None:
    job = offer()
    assert dispatcher_client.post(f"/v1/jobs/{job['id']}/actions/decline").status_code == 204
    assert dispatcher_client.get(f"/v1/jobs/{job['id']}").status_code == 404
    assert manager_client.get(f"/v1/enterprise/jobs/{job['id']}").json["status"] == "declined"
    listed = manager_client.get("/v1/enterprise/jobs?status=declined").json["items"]
    assert [item["id"] for item in listed] == [job["id"]]
    assert manager_client.get("/v1/enterprise/jobs?status=offered").json["items"] == []
