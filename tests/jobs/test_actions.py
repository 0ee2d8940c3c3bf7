"""Status actions: who may act, what they write, the texts they queue, bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.jobs.models import Customer, Job
from tests.conftest import ApiClient
from tests.jobs.conftest import (
    activity_of,
    appointments_of,
    load_job,
    state_of,
    table_counts,
    texts_of,
)


def act(client: ApiClient, job: Job, action: str, **body: Any) -> Any:
    appointment = job.appointments[0]
    return client.post(f"/v1/appointments/{appointment.id}/actions/{action}", json=body)


def test_start_texts_the_arrival_and_complete_texts_the_survey(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session
) -> None:
    job = make_job(technician=tech)
    started = act(tech_client, job, "start")
    assert started.status_code == 200, started.json
    assert started.json["status"] == "in_progress"
    assert started.json["appointments"][0]["status"] == "started"
    completed = act(tech_client, job, "complete", reason_code="repaired")
    assert completed.status_code == 200, completed.json
    assert completed.json["status"] == "complete"
    [row] = appointments_of(db, job.id)
    assert (row.status, row.reason_code, row.outcome) == ("complete", "repaired", "complete")
    assert row.ended_at is not None
    arrival, survey = texts_of(db, job.id)
    assert arrival.purpose == "arrival" and arrival.to_phone == "+13122000201"
    assert arrival.body == "Sam from Done Right Home Services has arrived."
    assert survey.purpose == "survey" and survey.status == "queued"
    assert survey.body.startswith("Thanks for choosing Done Right Home Services!")
    assert "https://dispatch.example.com/survey" in survey.body
    actions = [(e.action, e.actor_kind, e.actor_name) for e in activity_of(db, job.id)]
    assert actions == [
        ("create", "user", "Dana Reyes"),
        ("start", "user", "Sam Ortiz"),
        ("text_queued", "system", None),
        ("complete", "user", "Sam Ortiz"),
        ("text_queued", "system", None),
    ]


def test_the_survey_link_fills_in_the_ids(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session, app: Any
) -> None:
    job = make_job(technician=tech)
    original = app.config["SURVEY_URL"]
    app.config["SURVEY_URL"] = "https://s.example.com/r?job={job_id}&visit={appointment_id}"
    try:
        assert act(tech_client, job, "complete", reason_code="repaired").status_code == 200
    finally:
        app.config["SURVEY_URL"] = original
    [survey] = texts_of(db, job.id)
    assert f"https://s.example.com/r?job={job.id}&visit={job.appointments[0].id}" in survey.body


def test_no_arrival_text_when_the_organization_turned_it_off(
    make_job: Callable[..., Job],
    tech: User,
    tech_client: ApiClient,
    dispatcher_client: ApiClient,
    db: Session,
) -> None:
    assert (
        dispatcher_client.patch("/v1/settings/organization", json={"arrival_texts": False}).json[
            "arrival_texts"
        ]
        is False
    )
    job = make_job(technician=tech)
    assert act(tech_client, job, "start").status_code == 200
    assert texts_of(db, job.id) == []
    assert load_job(db, job.id).status == "in_progress"


def test_a_pause_reason_outcome_leaves_the_job_paused(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session
) -> None:
    job = make_job(technician=tech)
    response = act(tech_client, job, "complete", reason_code="parts_ordered")
    assert response.status_code == 200
    assert response.json["status"] == "paused"
    [row] = appointments_of(db, job.id)
    assert (row.status, row.outcome) == ("complete", "pause")
    assert [t.purpose for t in texts_of(db, job.id)] == ["survey"]


def test_pause_keeps_its_reason(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session
) -> None:
    job = make_job(technician=tech)
    act(tech_client, job, "start")
    response = act(tech_client, job, "pause", reason="Customer not home")
    assert response.status_code == 200
    assert response.json["status"] == "paused"
    assert response.json["appointments"][0]["pause_reason"] == "Customer not home"
    [row] = appointments_of(db, job.id)
    assert (row.status, row.pause_reason) == ("paused", "Customer not home")
    assert activity_of(db, job.id)[-1].details["reason"] == "Customer not home"


def test_an_unknown_reason_code_is_a_422_that_changes_nothing(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session
) -> None:
    job = make_job(technician=tech)
    before = state_of(db, job.id)
    response = act(tech_client, job, "complete", reason_code="fixed_it_somehow")
    assert response.status_code == 422
    assert "repaired" in response.json["message"]  # the valid codes are listed
    assert response.json["errors"]["reason_code"]
    assert act(tech_client, job, "complete").status_code == 422  # no reason at all
    assert state_of(db, job.id) == before


def test_a_refusal_wins_over_an_unknown_reason(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session
) -> None:
    job = make_job(technician=tech)
    act(tech_client, job, "complete", reason_code="repaired")
    response = act(tech_client, job, "complete", reason_code="nonsense")
    assert response.status_code == 409
    assert "the job is complete" in response.json["message"]


def test_a_technician_acts_only_on_their_own_appointments(
    make_job: Callable[..., Job],
    tech: User,
    other_tech: User,
    tech_client: ApiClient,
    dispatcher_client: ApiClient,
    db: Session,
) -> None:
    theirs = make_job(technician=other_tech)
    assert act(tech_client, theirs, "start").status_code == 404  # cannot even see the job
    # on a job they can see, someone else's appointment does not exist for them either
    shared = make_job(technician=tech)
    extra = dispatcher_client.post(
        f"/v1/jobs/{shared.id}/appointments",
        json={
            "starts_at": "2030-01-02T15:00:00Z",
            "duration_min": 30,
            "technician_id": str(other_tech.id),
        },
    )
    assert extra.status_code == 201
    before = state_of(db, shared.id)
    response = tech_client.post(f"/v1/appointments/{extra.json['id']}/actions/start", json={})
    assert response.status_code == 404
    assert state_of(db, shared.id) == before
    assert state_of(db, theirs.id)[0] == "scheduled"


def test_technicians_cannot_cancel_delete_or_reschedule(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session
) -> None:
    job = make_job(technician=tech)
    before = state_of(db, job.id)
    appointment_id = job.appointments[0].id
    assert tech_client.post(f"/v1/jobs/{job.id}/actions/cancel", json={}).status_code == 403
    assert tech_client.delete(f"/v1/appointments/{appointment_id}").status_code == 403
    assert (
        tech_client.patch(
            f"/v1/appointments/{appointment_id}", json={"duration_min": 30}
        ).status_code
        == 403
    )
    assert (
        tech_client.post(
            f"/v1/jobs/{job.id}/appointments",
            json={"starts_at": "2030-01-02T15:00:00Z", "duration_min": 30},
        ).status_code
        == 403
    )
    assert state_of(db, job.id) == before


def test_a_dispatcher_can_status_an_appointment_as_a_backup(
    make_job: Callable[..., Job], tech: User, dispatcher_client: ApiClient, db: Session
) -> None:
    job = make_job(technician=tech)
    assert act(dispatcher_client, job, "start").status_code == 200
    # the customer hears about the assigned technician, not the dispatcher
    [arrival] = texts_of(db, job.id)
    assert arrival.body.startswith("Sam from ")
    assert activity_of(db, job.id)[1].actor_name == "Dana Reyes"


def test_both_role_may_do_everything(
    make_job: Callable[..., Job], both: User, login_as: Callable[[User], ApiClient], db: Session
) -> None:
    job = make_job(technician=both)
    client = login_as(both)
    assert act(client, job, "on-my-way").status_code == 200
    assert client.post(f"/v1/jobs/{job.id}/actions/cancel", json={}).status_code == 200
    assert load_job(db, job.id).status == "canceled"


def test_a_customer_without_a_phone_gets_no_text_and_the_log_says_so(
    make_customer: Callable[..., Customer],
    make_job: Callable[..., Job],
    org: Organization,
    tech: User,
    tech_client: ApiClient,
    db: Session,
) -> None:
    silent = make_customer(org, name="No Phone", phone=None)
    job = make_job(technician=tech, customer_id=silent.id)
    assert act(tech_client, job, "start").status_code == 200
    assert texts_of(db, job.id) == []
    skipped = activity_of(db, job.id)[-1]
    assert skipped.action == "text_skipped"
    assert skipped.details == {"purpose": "arrival", "reason": "the customer has no phone number"}


def test_a_number_outside_the_allowed_regions_is_not_texted_but_the_action_happens(
    make_customer: Callable[..., Customer],
    make_job: Callable[..., Job],
    org: Organization,
    tech: User,
    tech_client: ApiClient,
    db: Session,
) -> None:
    abroad = make_customer(org, name="In London", phone="+442079460958")
    job = make_job(technician=tech, customer_id=abroad.id)
    assert act(tech_client, job, "start").status_code == 200
    assert load_job(db, job.id).status == "in_progress"
    assert texts_of(db, job.id) == []
    assert activity_of(db, job.id)[-1].action == "text_skipped"


@pytest.mark.parametrize(
    "body",
    [
        {"lat": 41.9},
        {"lat": 91, "lon": 0},
        {"lat": 0, "lon": -181},
        {"lat": "x", "lon": 0},
        {"speed": 3},
    ],
)
def test_bad_positions_are_422_and_change_nothing(
    make_job: Callable[..., Job],
    tech: User,
    tech_client: ApiClient,
    db: Session,
    body: dict[str, Any],
) -> None:
    job = make_job(technician=tech)
    before = table_counts(db)
    response = act(tech_client, job, "on-my-way", **body)
    assert response.status_code == 422, response.json
    assert table_counts(db) == before
    assert load_job(db, job.id).status == "scheduled"


def test_actions_accept_an_empty_body(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient
) -> None:
    job = make_job(technician=tech)
    response = tech_client.post(f"/v1/appointments/{job.appointments[0].id}/actions/start")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "in_progress"
