"""Jobs: create, read, list (filters, pagination), edit; other organizations see nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.jobs.models import Customer, Job
from tests.conftest import ApiClient
from tests.jobs.conftest import activity_of, appointments_of, iso, load_job, table_counts


def test_a_job_without_appointment_is_unscheduled(
    dispatcher_client: ApiClient, dispatcher: User, customer: Customer, db: Session
) -> None:
    response = dispatcher_client.post(
        "/v1/jobs", json={"customer_id": str(customer.id), "title": "Leaky faucet"}
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "unscheduled"
    assert body["appointments"] == []
    assert body["customer"]["name"] == "Maria Lopez"
    assert body["customer"]["site"] == {"type": "Point", "coordinates": [-87.6553, 41.9484]}
    assert "add_appointment" in body["allowed_actions"] and "cancel" in body["allowed_actions"]
    job = load_job(db, body["id"])
    assert (job.status, job.title, job.created_by_id) == (
        "unscheduled",
        "Leaky faucet",
        dispatcher.id,
    )
    [created] = activity_of(db, job.id)
    assert (created.action, created.from_status, created.to_status) == (
        "create",
        None,
        "unscheduled",
    )
    assert (created.actor_kind, created.actor_name) == ("user", "Dana Reyes")


def test_a_job_with_an_appointment_is_scheduled(
    dispatcher_client: ApiClient, tech: User, customer: Customer, db: Session
) -> None:
    starts = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    response = dispatcher_client.post(
        "/v1/jobs",
        json={
            "customer_id": str(customer.id),
            "title": "Furnace",
            "description": "No heat upstairs",
            "appointment": {
                "starts_at": starts.astimezone().isoformat(),
                "duration_min": 90,
                "technician_id": str(tech.id),
            },
        },
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "scheduled"
    [appointment] = body["appointments"]
    assert appointment["starts_at"] == iso(starts)
    assert appointment["ends_at"] == iso(starts + timedelta(minutes=90))
    assert appointment["technician"] == {"id": str(tech.id), "name": "Sam Ortiz"}
    assert appointment["status"] == "scheduled"
    assert set(appointment["allowed_actions"]) >= {"on-my-way", "start", "complete"}
    [row] = appointments_of(db, body["id"])
    assert (row.status, row.technician_id, row.starts_at) == ("scheduled", tech.id, starts)
    assert load_job(db, body["id"]).status == "scheduled"


def test_the_technician_sees_the_actions_of_their_own_appointment_only(
    make_job: Callable[..., Job], tech: User, login_as: Callable[[User], ApiClient]
) -> None:
    job = make_job(technician=tech)
    body = login_as(tech).get(f"/v1/jobs/{job.id}").json
    assert body["allowed_actions"] == []  # no job actions for technicians
    assert body["appointments"][0]["allowed_actions"] == ["complete", "on-my-way", "start"]


def test_technicians_cannot_create_jobs(
    tech_client: ApiClient, customer: Customer, db: Session
) -> None:
    before = table_counts(db)
    response = tech_client.post("/v1/jobs", json={"customer_id": str(customer.id), "title": "x"})
    assert response.status_code == 403
    assert table_counts(db) == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"customer_id": "not-a-uuid"}, "customer_id"),
        ({"appointment": {"starts_at": "2026-11-24T14:00:00", "duration_min": 60}}, "appointment"),
        ({"appointment": {"starts_at": "1999-12-31T23:00:00Z", "duration_min": 60}}, "starts_at"),
        ({"appointment": {"starts_at": "2070-01-01T00:00:00Z", "duration_min": 60}}, "starts_at"),
        (
            {"appointment": {"starts_at": "2026-11-24T14:00:00Z", "duration_min": -30}},
            "appointment",
        ),
        ({"appointment": {"starts_at": "2026-11-24T14:00:00Z", "duration_min": 0}}, "appointment"),
        (
            {"appointment": {"starts_at": "2026-11-24T14:00:00Z", "duration_min": "60"}},
            "appointment",
        ),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_job_input_is_a_422_that_changes_nothing(
    dispatcher_client: ApiClient,
    customer: Customer,
    db: Session,
    payload: dict[str, Any],
    field: str,
) -> None:
    before = table_counts(db)
    body = {"customer_id": str(customer.id), "title": "Furnace", **payload}
    response = dispatcher_client.post("/v1/jobs", json=body)
    assert response.status_code == 422, response.json
    assert field in response.json.get("errors", {}) or field in response.json["message"]
    assert table_counts(db) == before


def test_a_dispatcher_only_user_or_a_deactivated_technician_cannot_be_assigned(
    dispatcher_client: ApiClient,
    customer: Customer,
    dispatcher: User,
    org: Organization,
    make_user: Callable[..., User],
    db: Session,
) -> None:
    gone = make_user(org, role="technician", name="Gone Tech", active=False)
    before = table_counts(db)
    for user, expected in ((dispatcher, "dispatcher"), (gone, "deactivated")):
        response = dispatcher_client.post(
            "/v1/jobs",
            json={
                "customer_id": str(customer.id),
                "title": "Furnace",
                "appointment": {
                    "starts_at": iso(utcnow() + timedelta(hours=3)),
                    "duration_min": 60,
                    "technician_id": str(user.id),
                },
            },
        )
        assert response.status_code == 422, response.json
        assert expected in response.json["message"]
        assert response.json["errors"] == {
            "technician_id": [response.json["errors"]["technician_id"][0]]
        }
    assert table_counts(db) == before


def test_ids_of_another_organization_are_404(
    dispatcher_client: ApiClient,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    make_customer: Callable[..., Customer],
    make_job: Callable[..., Job],
    customer: Customer,
    db: Session,
) -> None:
    elsewhere = make_org(name="Other Co")
    their_tech = make_user(elsewhere, role="technician")
    their_customer = make_customer(elsewhere, name="Someone Else")
    their_dispatcher = make_user(elsewhere, role="dispatcher")
    their_job = make_job(by=their_dispatcher, customer_id=their_customer.id, technician=their_tech)
    their_appointment = their_job.appointments[0]
    before = table_counts(db)
    for path in (
        f"/v1/jobs/{their_job.id}",
        f"/v1/jobs/{their_job.id}/activity",
        f"/v1/jobs/{their_job.id}/notes",
        f"/v1/customers/{their_customer.id}",
        f"/v1/appointments/{their_appointment.id}",
    ):
        assert dispatcher_client.get(path).status_code == 404, path
    posts = {
        "/v1/jobs": {"customer_id": str(their_customer.id), "title": "x"},
        f"/v1/jobs/{their_job.id}/actions/cancel": {},
        f"/v1/jobs/{their_job.id}/appointments": {
            "starts_at": iso(utcnow() + timedelta(hours=1)),
            "duration_min": 30,
        },
        f"/v1/appointments/{their_appointment.id}/actions/start": {},
        f"/v1/jobs/{their_job.id}/notes": {"body": "hi"},
    }
    for path, body in posts.items():
        assert dispatcher_client.post(path, json=body).status_code == 404, path
    assert (
        dispatcher_client.patch(
            f"/v1/appointments/{their_appointment.id}", json={"duration_min": 30}
        ).status_code
        == 404
    )
    assert dispatcher_client.delete(f"/v1/appointments/{their_appointment.id}").status_code == 404
    assert (
        dispatcher_client.patch(
            f"/v1/customers/{their_customer.id}", json={"name": "Mine now"}
        ).status_code
        == 404
    )
    # their technician cannot be assigned to our jobs either
    response = dispatcher_client.post(
        "/v1/jobs",
        json={
            "customer_id": str(customer.id),
            "title": "x",
            "appointment": {
                "starts_at": iso(utcnow() + timedelta(hours=1)),
                "duration_min": 30,
                "technician_id": str(their_tech.id),
            },
        },
    )
    assert response.status_code == 404
    assert table_counts(db) == before
    assert load_job(db, their_job.id).status == "scheduled"


def test_unknown_ids_are_404(dispatcher_client: ApiClient) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    assert dispatcher_client.get(f"/v1/jobs/{unknown}").status_code == 404
    assert dispatcher_client.post(f"/v1/jobs/{unknown}/actions/accept").status_code == 404
    assert dispatcher_client.post(f"/v1/appointments/{unknown}/actions/start").status_code == 404
    response = dispatcher_client.post("/v1/jobs", json={"customer_id": unknown, "title": "x"})
    assert response.status_code == 404


def test_a_technician_sees_only_jobs_they_are_assigned_to(
    make_job: Callable[..., Job], tech: User, other_tech: User, tech_client: ApiClient
) -> None:
    mine = make_job(technician=tech, title="Mine")
    theirs = make_job(technician=other_tech, title="Theirs")
    unassigned = make_job(technician=None, title="Nobody's")
    listed = tech_client.get("/v1/jobs").json["items"]
    assert [job["id"] for job in listed] == [str(mine.id)]
    assert tech_client.get(f"/v1/jobs/{theirs.id}").status_code == 404
    assert tech_client.get(f"/v1/jobs/{unassigned.id}").status_code == 404


def test_the_list_filters_by_status_and_pages_newest_first(
    make_job: Callable[..., Job], tech: User, dispatcher_client: ApiClient
) -> None:
    scheduled = [make_job(technician=tech, title=f"S{i}") for i in range(3)]
    unscheduled = make_job(scheduled=False, title="U")
    first = dispatcher_client.get("/v1/jobs?status=scheduled&limit=2").json
    assert [j["title"] for j in first["items"]] == ["S2", "S1"]
    assert first["next_cursor"]
    second = dispatcher_client.get(
        f"/v1/jobs?status=scheduled&limit=2&cursor={first['next_cursor']}"
    ).json
    assert [j["title"] for j in second["items"]] == ["S0"]
    assert second["next_cursor"] is None
    both = dispatcher_client.get("/v1/jobs?status=scheduled,unscheduled").json["items"]
    assert {j["id"] for j in both} == {str(j.id) for j in [*scheduled, unscheduled]}
    by_tech = dispatcher_client.get(f"/v1/jobs?technician_id={tech.id}").json["items"]
    assert {j["id"] for j in by_tech} == {str(j.id) for j in scheduled}
    assert dispatcher_client.get("/v1/jobs?status=nonsense").status_code == 422
    assert dispatcher_client.get("/v1/jobs?cursor=garbage").status_code == 422
    assert dispatcher_client.get("/v1/jobs?limit=0").status_code == 422
    assert dispatcher_client.get("/v1/jobs?limit=101").status_code == 422


def test_a_listed_job_is_the_job_s_own_answer_without_its_complete_reasons(
    make_job: Callable[..., Job], tech: User, dispatcher_client: ApiClient
) -> None:
    job = make_job(technician=tech)
    own = dispatcher_client.get(f"/v1/jobs/{job.id}").json
    [listed] = dispatcher_client.get("/v1/jobs").json["items"]
    assert own["complete_reasons"]
    assert listed == {key: value for key, value in own.items() if key != "complete_reasons"}


def test_listing_jobs_does_not_query_per_job(
    make_job: Callable[..., Job],
    tech: User,
    other_tech: User,
    dispatcher_client: ApiClient,
    count_queries: Callable[[], Any],
) -> None:
    for i in range(2):
        make_job(technician=tech if i % 2 else other_tech)
    with count_queries() as few:
        assert len(dispatcher_client.get("/v1/jobs").json["items"]) == 2
    for i in range(6):
        make_job(technician=tech if i % 2 else other_tech)
    with count_queries() as many:
        assert len(dispatcher_client.get("/v1/jobs").json["items"]) == 8
    assert len(many) == len(few)


def test_a_dispatcher_edits_the_title(
    make_job: Callable[..., Job],
    dispatcher_client: ApiClient,
    tech_client: ApiClient,
    tech: User,
    db: Session,
) -> None:
    job = make_job(technician=tech)
    response = dispatcher_client.patch(f"/v1/jobs/{job.id}", json={"title": "Furnace, again"})
    assert response.status_code == 200
    assert response.json["title"] == "Furnace, again"
    assert load_job(db, job.id).title == "Furnace, again"
    assert tech_client.patch(f"/v1/jobs/{job.id}", json={"title": "no"}).status_code == 403
    assert dispatcher_client.patch(f"/v1/jobs/{job.id}", json={"title": ""}).status_code == 422
    assert load_job(db, job.id).title == "Furnace, again"
