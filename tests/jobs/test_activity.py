"""The activity log: every action, oldest first, with who did it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.jobs.commands import create_offer
from fieldapi.jobs.models import Customer, Job
from tests.conftest import ApiClient, enterprise_named
from tests.jobs.conftest import load_job


def test_an_offered_job_shows_the_enterprise_by_name_only(
    dispatcher_client: ApiClient,
    dispatcher: User,
    org: Organization,
    customer: Customer,
    db: Session,
) -> None:
    job_id = create_offer(
        db,
        organization_id=org.id,
        offered_by_id=enterprise_named(db, "Acme Home Warranty").id,
        customer_id=customer.id,
        title="Warranty repair",
        now=utcnow(),
    )
    offered = dispatcher_client.get(f"/v1/jobs/{job_id}").json
    assert (offered["status"], offered["offer_state"], offered["provider_name"]) == (
        "offered",
        "pending",
        "Acme Home Warranty",
    )
    assert offered["allowed_actions"] == ["accept", "decline"]
    assert dispatcher_client.post(f"/v1/jobs/{job_id}/actions/accept").status_code == 200
    assert load_job(db, job_id).offer_state == "accepted"
    log = dispatcher_client.get(f"/v1/jobs/{job_id}/activity").json
    assert log["next_cursor"] is None
    first, second = log["items"]
    assert first["actor"] == {"id": None, "name": "Acme Home Warranty", "kind": "enterprise"}
    assert (first["action"], first["from_status"], first["to_status"]) == (
        "create",
        None,
        "offered",
    )
    assert second["actor"] == {"id": str(dispatcher.id), "name": "Dana Reyes", "kind": "user"}
    assert (second["action"], second["from_status"], second["to_status"]) == (
        "accept",
        "offered",
        "unscheduled",
    )
    assert first["at"] <= second["at"] and first["at"].endswith("Z")


def test_the_whole_day_of_a_visit_reads_in_order_and_pages(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient
) -> None:
    job = make_job(technician=tech)
    appointment = f"/v1/appointments/{job.appointments[0].id}/actions"
    tech_client.post(f"{appointment}/on-my-way", json={"lat": 41.88, "lon": -87.63})
    tech_client.post(f"{appointment}/start", json={})
    tech_client.post(f"/v1/jobs/{job.id}/notes", json={"body": "Replaced igniter"})
    tech_client.post(f"{appointment}/complete", json={"reason_code": "repaired"})
    items = tech_client.get(f"/v1/jobs/{job.id}/activity").json["items"]
    assert [e["action"] for e in items] == [
        "create",
        "on-my-way",
        "text_queued",
        "start",
        "text_queued",
        "note_added",
        "complete",
        "text_queued",
    ]
    assert [e["to_status"] for e in items if e["actor"]["kind"] == "user"] == [
        "scheduled",
        "in_progress",
        "in_progress",
        "in_progress",
        "complete",
    ]
    assert items[1]["details"]["eta"]["method"] == "request_position"
    assert items[2]["details"]["purpose"] == "on_my_way"
    assert items[6]["details"]["reason_code"] == "repaired"
    page = tech_client.get(f"/v1/jobs/{job.id}/activity?limit=3").json
    assert [e["id"] for e in page["items"]] == [e["id"] for e in items[:3]]
    rest = tech_client.get(f"/v1/jobs/{job.id}/activity?cursor={page['next_cursor']}").json
    assert [e["id"] for e in rest["items"]] == [e["id"] for e in items[3:]]


def test_a_technician_reads_the_log_only_of_their_jobs(
    make_job: Callable[..., Job], other_tech: User, tech_client: ApiClient
) -> None:
    job = make_job(technician=other_tech)
    assert tech_client.get(f"/v1/jobs/{job.id}/activity").status_code == 404
