"""A job with visits by two technicians: each sees the job, and only their own visits
(faq.txt: a technician "can only see appointments assigned to self")."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from fieldapi.jobs.models import Job
from tests.conftest import ApiClient
from tests.jobs.conftest import table_counts


@pytest.fixture
def shared_job(
    make_job: Callable[..., Job], tech: User, other_tech: User, dispatcher_client: ApiClient
) -> tuple[Job, str, str]:
    job = make_job(technician=tech)
    added = dispatcher_client.post(
        f"/v1/jobs/{job.id}/appointments",
        json={
            "starts_at": "2030-03-05T09:00:00Z",
            "duration_min": 60,
            "technician_id": str(other_tech.id),
        },
    )
    assert added.status_code == 201, added.json
    mine = str(job.appointments[0].id)
    theirs = added.json["id"]
    return job, mine, theirs


@pytest.fixture
def other_client(login_as: Callable[[User], ApiClient], other_tech: User) -> ApiClient:
    return login_as(other_tech)


def appointment_ids(answer: dict[str, object]) -> set[str]:
    appointments = answer["appointments"]
    assert isinstance(appointments, list)
    return {a["id"] for a in appointments}


def test_each_technician_sees_the_job_with_their_own_visits_only(
    shared_job: tuple[Job, str, str],
    tech_client: ApiClient,
    other_client: ApiClient,
    dispatcher_client: ApiClient,
) -> None:
    job, mine, theirs = shared_job

    assert appointment_ids(tech_client.get(f"/v1/jobs/{job.id}").json) == {mine}
    assert appointment_ids(other_client.get(f"/v1/jobs/{job.id}").json) == {theirs}
    assert appointment_ids(dispatcher_client.get(f"/v1/jobs/{job.id}").json) == {mine, theirs}
    [listed] = [j for j in tech_client.get("/v1/jobs").json["items"] if j["id"] == str(job.id)]
    assert appointment_ids(listed) == {mine}
    # The job's status still follows from every visit.
    assert tech_client.get(f"/v1/jobs/{job.id}").json["status"] == "scheduled"


def test_another_technician_s_visit_does_not_exist_for_a_technician(
    shared_job: tuple[Job, str, str],
    tech_client: ApiClient,
    dispatcher_client: ApiClient,
    db: Session,
) -> None:
    _job, mine, theirs = shared_job
    before = table_counts(db)

    assert tech_client.get(f"/v1/appointments/{mine}").status_code == 200
    assert tech_client.get(f"/v1/appointments/{theirs}").status_code == 404
    for action in ("on-my-way", "start", "pause"):
        response = tech_client.post(f"/v1/appointments/{theirs}/actions/{action}", json={})
        assert response.status_code == 404, (action, response.json)
    # Editing is for dispatchers: the same answer as for an id that exists nowhere.
    nowhere = "00000000-0000-4000-8000-000000000000"
    edits = {
        appointment_id: (
            tech_client.patch(f"/v1/appointments/{appointment_id}", json={"duration_min": 30}),
            tech_client.delete(f"/v1/appointments/{appointment_id}"),
        )
        for appointment_id in (theirs, nowhere)
    }
    codes = {key: tuple(r.status_code for r in answers) for key, answers in edits.items()}
    assert codes[theirs] == codes[nowhere]
    assert all(code in (403, 404) for code in codes[theirs])
    assert table_counts(db) == before
    assert dispatcher_client.get(f"/v1/appointments/{theirs}").status_code == 200


def test_a_technician_reads_the_job_s_activity_without_another_s_visit(
    shared_job: tuple[Job, str, str],
    tech_client: ApiClient,
    other_client: ApiClient,
    dispatcher_client: ApiClient,
) -> None:
    job, mine, theirs = shared_job
    on_the_way = other_client.post(f"/v1/appointments/{theirs}/actions/on-my-way", json={})
    assert on_the_way.status_code == 200, on_the_way.json
    edited = dispatcher_client.patch(f"/v1/jobs/{job.id}", json={"title": "Furnace and vents"})
    assert edited.status_code == 200, edited.json

    def visits_in_log(client: ApiClient) -> set[str | None]:
        entries = client.get(f"/v1/jobs/{job.id}/activity?limit=100").json["items"]
        return {entry["appointment_id"] for entry in entries}

    # None: the job's own entries (the edit), which both technicians see.
    assert visits_in_log(dispatcher_client) == {None, mine, theirs}
    assert visits_in_log(other_client) == {None, theirs}
    assert visits_in_log(tech_client) == {None, mine}


def test_a_whole_job_entry_names_only_the_technician_s_own_visits(
    shared_job: tuple[Job, str, str],
    tech_client: ApiClient,
    dispatcher_client: ApiClient,
) -> None:
    job, mine, theirs = shared_job
    assert dispatcher_client.post(f"/v1/jobs/{job.id}/actions/cancel", json={}).status_code == 200

    def canceled_visits(client: ApiClient) -> list[str]:
        entries = client.get(f"/v1/jobs/{job.id}/activity?limit=100").json["items"]
        [cancel] = [entry for entry in entries if entry["action"] == "cancel"]
        return sorted(cancel["details"]["canceled_appointment_ids"])

    assert canceled_visits(dispatcher_client) == sorted([mine, theirs])
    assert canceled_visits(tech_client) == [mine]
