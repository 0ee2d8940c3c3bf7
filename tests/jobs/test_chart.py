"""The transition chart of design/lifecycle.md, row by row, through the HTTP API."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.jobs.commands import create_offer
from fieldapi.jobs.models import Customer
from tests.conftest import ApiClient, enterprise_named
from tests.jobs.conftest import activity_of, appointments_of, iso, load_job


@dataclass
class Walker:
    """Drives one job through the API as a dispatcher."""

    client: ApiClient
    db: Session
    org: Organization
    customer: Customer
    tech: User
    job_id: uuid.UUID | None = None

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.json
        return response.json

    def appointment_body(self) -> dict[str, Any]:
        return {
            "starts_at": iso(utcnow() + timedelta(hours=4)),
            "duration_min": 60,
            "technician_id": str(self.tech.id),
        }

    def create(self, *, scheduled: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"customer_id": str(self.customer.id), "title": "Furnace"}
        if scheduled:
            body["appointment"] = self.appointment_body()
        answer = self.ok(self.client.post("/v1/jobs", json=body), 201)
        self.job_id = uuid.UUID(answer["id"])
        return answer

    def offer(self) -> None:
        self.job_id = create_offer(
            self.db,
            organization_id=self.org.id,
            offered_by_id=enterprise_named(self.db, "Acme Home Warranty").id,
            customer_id=self.customer.id,
            title="Warranty repair",
            now=utcnow(),
        )

    def latest_appointment(self) -> uuid.UUID:
        assert self.job_id is not None
        return appointments_of(self.db, self.job_id)[-1].id

    def job_action(self, action: str) -> Any:
        return self.client.post(f"/v1/jobs/{self.job_id}/actions/{action}", json={})

    def act(self, action: str, **body: Any) -> Any:
        appointment_id = self.latest_appointment()
        return self.client.post(f"/v1/appointments/{appointment_id}/actions/{action}", json=body)

    def add_appointment(self) -> Any:
        return self.client.post(
            f"/v1/jobs/{self.job_id}/appointments", json=self.appointment_body()
        )

    def delete_appointment(self) -> Any:
        return self.client.delete(f"/v1/appointments/{self.latest_appointment()}")

    def status(self) -> str:
        assert self.job_id is not None
        return load_job(self.db, self.job_id).status

    def arrive_at(self, start: str) -> None:
        """Build a job in the chart's start status."""
        if start == "offered":
            self.offer()
        else:
            self.create(scheduled=start != "unscheduled")
        steps: dict[str, list[Callable[[], Any]]] = {
            "in_progress": [lambda: self.act("on-my-way")],
            "paused": [lambda: self.act("start"), lambda: self.act("pause", reason="parts")],
            "complete": [lambda: self.act("complete", reason_code="repaired")],
            "canceled": [lambda: self.job_action("cancel")],
        }
        for step in steps.get(start, []):
            self.ok(step())
        assert self.status() == start


@pytest.fixture
def walker(
    dispatcher_client: ApiClient, db: Session, org: Organization, customer: Customer, tech: User
) -> Walker:
    return Walker(dispatcher_client, db, org, customer, tech)


# (start status, action, end status): the chart's rows, verbatim in meaning.
CHART = [
    ("offered", "accept", "unscheduled"),
    ("unscheduled", "add_appointment", "scheduled"),
    ("scheduled", "delete_appointment", "unscheduled"),
    ("scheduled", "on-my-way", "in_progress"),
    ("scheduled", "start", "in_progress"),
    ("scheduled", "complete:repaired", "complete"),
    ("scheduled", "complete:parts_ordered", "paused"),
    ("scheduled", "cancel", "canceled"),
    ("in_progress", "complete:repaired", "complete"),
    ("in_progress", "complete:no_show", "paused"),
    ("in_progress", "pause", "paused"),
    ("paused", "add_appointment", "scheduled"),
    ("paused", "cancel", "canceled"),
    ("complete", "add_appointment", "scheduled"),
    ("canceled", "reopen", "scheduled"),
]


def perform(walker: Walker, action: str) -> Any:
    if action == "add_appointment":
        return walker.add_appointment()
    if action == "delete_appointment":
        return walker.delete_appointment()
    if action.startswith("complete:"):
        return walker.act("complete", reason_code=action.split(":")[1])
    if action in ("accept", "decline", "cancel", "reopen"):
        return walker.job_action(action)
    return walker.act(action)


@pytest.mark.parametrize(("start", "action", "end"), CHART, ids=[f"{s}-{a}" for s, a, _ in CHART])
def test_chart_row(walker: Walker, db: Session, start: str, action: str, end: str) -> None:
    walker.arrive_at(start)
    response = perform(walker, action)
    assert response.status_code in (200, 201, 204), response.json
    assert walker.status() == end
    if response.status_code == 200:
        assert response.json["status"] == end
    assert walker.job_id is not None
    last = activity_of(db, walker.job_id)
    status_changes = [e for e in last if e.actor_kind != "system"]
    assert status_changes[-1].action == action.split(":")[0]
    assert (status_changes[-1].from_status, status_changes[-1].to_status) == (start, end)


def test_create_without_a_date_is_unscheduled_with_one_scheduled(walker: Walker) -> None:
    assert walker.create(scheduled=False)["status"] == "unscheduled"
    assert walker.status() == "unscheduled"
    assert walker.create(scheduled=True)["status"] == "scheduled"
    assert walker.status() == "scheduled"


def test_declining_an_offer_takes_the_job_away(walker: Walker, db: Session) -> None:
    walker.arrive_at("offered")
    response = walker.job_action("decline")
    assert response.status_code == 204
    assert response.data == b""
    assert load_job(db, walker.job_id).offer_state == "declined"  # type: ignore[arg-type]
    assert walker.client.get(f"/v1/jobs/{walker.job_id}").status_code == 404
    assert walker.job_action("accept").status_code == 404
    assert str(walker.job_id) not in {j["id"] for j in walker.client.get("/v1/jobs").json["items"]}


def test_deleting_one_of_two_appointments_keeps_the_job_scheduled(walker: Walker) -> None:
    walker.arrive_at("scheduled")
    walker.ok(walker.add_appointment(), 201)
    assert walker.delete_appointment().status_code == 204
    assert walker.status() == "scheduled"
    assert walker.delete_appointment().status_code == 204
    assert walker.status() == "unscheduled"


def test_cancel_cancels_every_active_appointment_and_reopen_restores_them(
    walker: Walker, db: Session
) -> None:
    walker.arrive_at("scheduled")
    walker.ok(walker.add_appointment(), 201)
    first, second = appointments_of(db, walker.job_id)  # type: ignore[arg-type]
    walker.ok(
        walker.client.post(
            f"/v1/appointments/{first.id}/actions/complete", json={"reason_code": "parts_ordered"}
        )
    )
    walker.ok(walker.job_action("cancel"))
    statuses = {a.id: a.status for a in appointments_of(db, walker.job_id)}  # type: ignore[arg-type]
    assert statuses == {first.id: "complete", second.id: "canceled"}
    answer = walker.ok(walker.job_action("reopen"))
    assert answer["status"] == "scheduled"
    statuses = {a.id: a.status for a in appointments_of(db, walker.job_id)}  # type: ignore[arg-type]
    assert statuses == {first.id: "complete", second.id: "scheduled"}


def test_reopening_a_job_canceled_without_appointments_is_unscheduled(walker: Walker) -> None:
    walker.arrive_at("unscheduled")
    walker.ok(walker.job_action("cancel"))
    assert walker.ok(walker.job_action("reopen"))["status"] == "unscheduled"


REFUSED = [
    ("unscheduled", "reopen"),
    ("scheduled", "accept"),
    ("scheduled", "pause"),
    ("in_progress", "on-my-way"),
    ("complete", "cancel"),
    ("complete", "start"),
    ("canceled", "add_appointment"),
    ("canceled", "start"),
    ("offered", "add_appointment"),
    ("paused", "reopen"),
]


@pytest.mark.parametrize(("start", "action"), REFUSED, ids=[f"{s}-{a}" for s, a in REFUSED])
def test_what_the_chart_does_not_allow_is_a_409_naming_the_status(
    walker: Walker, db: Session, start: str, action: str
) -> None:
    walker.arrive_at(start)
    assert walker.job_id is not None
    before = (
        walker.status(),
        len(activity_of(db, walker.job_id)),
        [(a.id, a.status) for a in appointments_of(db, walker.job_id)],
    )
    response = perform(walker, action)
    assert response.status_code == 409, response.json
    assert response.json["code"] == 409
    assert f"the job is {start}" in response.json["message"]
    allowed = response.json["errors"]["allowed_actions"]
    assert isinstance(allowed, list) and action not in allowed
    after = (
        walker.status(),
        len(activity_of(db, walker.job_id)),
        [(a.id, a.status) for a in appointments_of(db, walker.job_id)],
    )
    assert after == before
