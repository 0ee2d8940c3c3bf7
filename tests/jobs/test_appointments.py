"""Appointments: add, reschedule, reassign, delete, and the calendar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.jobs.models import Job
from tests.conftest import ApiClient
from tests.jobs.conftest import activity_of, appointments_of, iso, load_job, table_counts

MONDAY = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)


def test_add_an_appointment(
    make_job: Callable[..., Job], tech: User, dispatcher_client: ApiClient, db: Session
) -> None:
    job = make_job(scheduled=False)
    response = dispatcher_client.post(
        f"/v1/jobs/{job.id}/appointments",
        json={
            "starts_at": "2030-03-04T09:00:00-06:00",
            "duration_min": 45,
            "technician_id": str(tech.id),
        },
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["starts_at"] == "2030-03-04T15:00:00Z"
    assert body["job"] == {"id": str(job.id), "title": "Fix the furnace", "status": "scheduled"}
    assert body["customer"]["timezone"] == "America/Chicago"
    [row] = appointments_of(db, job.id)
    assert (str(row.id), row.starts_at, row.duration_min, row.technician_id) == (
        body["id"],
        MONDAY,
        45,
        tech.id,
    )
    assert load_job(db, job.id).status == "scheduled"
    event = activity_of(db, job.id)[-1]
    assert (event.action, event.appointment_id, event.to_status) == (
        "add_appointment",
        row.id,
        "scheduled",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"starts_at": "2030-03-04T09:00:00", "duration_min": 45},  # no offset
        {"starts_at": "1999-06-01T09:00:00Z", "duration_min": 45},  # before 2000
        {"starts_at": "2080-06-01T09:00:00Z", "duration_min": 45},  # decades ahead
        {"starts_at": "2030-03-04T09:00:00Z", "duration_min": -15},  # negative duration
        {"starts_at": "2030-03-04T09:00:00Z", "duration_min": 10081},  # over a week
        {"starts_at": "2030-03-04T09:00:00Z", "duration_min": 4.5},
        {"starts_at": "next tuesday", "duration_min": 45},
        {"duration_min": 45},
    ],
)
def test_bad_appointments_are_422_and_change_nothing(
    make_job: Callable[..., Job], dispatcher_client: ApiClient, db: Session, body: dict[str, Any]
) -> None:
    job = make_job(scheduled=False)
    before = table_counts(db)
    response = dispatcher_client.post(f"/v1/jobs/{job.id}/appointments", json=body)
    assert response.status_code == 422, response.json
    assert response.json["errors"]
    assert table_counts(db) == before
    assert load_job(db, job.id).status == "unscheduled"


def test_reschedule_and_reassign_keep_the_status(
    make_job: Callable[..., Job],
    tech: User,
    other_tech: User,
    dispatcher_client: ApiClient,
    db: Session,
) -> None:
    job = make_job(technician=tech)
    appointment_id = job.appointments[0].id
    response = dispatcher_client.patch(
        f"/v1/appointments/{appointment_id}",
        json={"starts_at": "2030-03-04T15:00:00Z", "duration_min": 120},
    )
    assert response.status_code == 200, response.json
    assert (response.json["starts_at"], response.json["duration_min"]) == (
        "2030-03-04T15:00:00Z",
        120,
    )
    response = dispatcher_client.patch(
        f"/v1/appointments/{appointment_id}", json={"technician_id": str(other_tech.id)}
    )
    assert response.status_code == 200
    assert response.json["technician"]["name"] == "Priya Nair"
    [row] = appointments_of(db, job.id)
    assert (row.status, row.starts_at, row.duration_min, row.technician_id) == (
        "scheduled",
        MONDAY,
        120,
        other_tech.id,
    )
    assert load_job(db, job.id).status == "scheduled"
    reschedule, reassign = activity_of(db, job.id)[-2:]
    assert reschedule.action == "reschedule_appointment"
    assert reschedule.details["changes"]["duration_min"] == {"from": 90, "to": 120}
    assert reassign.action == "reassign_appointment"
    assert reassign.details["changes"]["technician_id"] == {
        "from": str(tech.id),
        "to": str(other_tech.id),
    }
    unassigned = dispatcher_client.patch(
        f"/v1/appointments/{appointment_id}", json={"technician_id": None}
    )
    assert unassigned.status_code == 200 and unassigned.json["technician"] is None


def test_reassigning_to_a_dispatcher_or_a_deactivated_user_is_refused(
    make_job: Callable[..., Job],
    tech: User,
    dispatcher: User,
    org: Organization,
    make_user: Callable[..., User],
    dispatcher_client: ApiClient,
    db: Session,
) -> None:
    job = make_job(technician=tech)
    gone = make_user(org, role="both", active=False)
    before = (table_counts(db), appointments_of(db, job.id)[0].technician_id)
    for user in (dispatcher, gone):
        response = dispatcher_client.patch(
            f"/v1/appointments/{job.appointments[0].id}", json={"technician_id": str(user.id)}
        )
        assert response.status_code == 422
    for body in ({}, {"duration_min": 0}, {"starts_at": "2030-01-01T10:00:00"}, {"job_id": "x"}):
        response = dispatcher_client.patch(f"/v1/appointments/{job.appointments[0].id}", json=body)
        assert response.status_code == 422, body
    assert (table_counts(db), appointments_of(db, job.id)[0].technician_id) == before


def test_an_appointment_under_way_cannot_be_rescheduled(
    make_job: Callable[..., Job], tech: User, dispatcher_client: ApiClient, db: Session
) -> None:
    job = make_job(technician=tech)
    appointment_id = job.appointments[0].id
    dispatcher_client.post(f"/v1/appointments/{appointment_id}/actions/start", json={})
    response = dispatcher_client.patch(
        f"/v1/appointments/{appointment_id}", json={"duration_min": 30}
    )
    assert response.status_code == 409
    assert "started" in response.json["message"]
    assert appointments_of(db, job.id)[0].duration_min == 90
    deleted = dispatcher_client.delete(f"/v1/appointments/{appointment_id}")
    assert deleted.status_code == 409
    assert deleted.json["errors"]["allowed_actions"] == ["complete", "pause"]
    assert len(appointments_of(db, job.id)) == 1


def test_delete_goes_through_the_lifecycle(
    make_job: Callable[..., Job], tech: User, dispatcher_client: ApiClient, db: Session
) -> None:
    job = make_job(technician=tech)
    appointment_id = job.appointments[0].id
    assert dispatcher_client.delete(f"/v1/appointments/{appointment_id}").status_code == 204
    assert appointments_of(db, job.id) == []
    assert load_job(db, job.id).status == "unscheduled"
    event = activity_of(db, job.id)[-1]
    assert (event.action, event.from_status, event.to_status, event.appointment_id) == (
        "delete_appointment",
        "scheduled",
        "unscheduled",
        appointment_id,
    )
    assert dispatcher_client.delete(f"/v1/appointments/{appointment_id}").status_code == 404


def _calendar(client: ApiClient, start: datetime, end: datetime, extra: str = "") -> Any:
    return client.get(f"/v1/appointments?from={iso(start)}&to={iso(end)}{extra}")


def test_the_calendar_shows_technicians_only_their_own(
    make_job: Callable[..., Job],
    tech: User,
    other_tech: User,
    dispatcher_client: ApiClient,
    tech_client: ApiClient,
) -> None:
    mine = make_job(technician=tech, starts_at=MONDAY)
    theirs = make_job(technician=other_tech, starts_at=MONDAY + timedelta(hours=1))
    nobody = make_job(technician=None, starts_at=MONDAY + timedelta(hours=2))
    start, end = MONDAY - timedelta(hours=6), MONDAY + timedelta(hours=18)
    seen = _calendar(tech_client, start, end).json["items"]
    assert [a["id"] for a in seen] == [str(mine.appointments[0].id)]
    assert seen[0]["job"]["title"] == "Fix the furnace"
    assert seen[0]["customer"]["address"] == "1060 W Addison St, Chicago, IL"
    assert seen[0]["allowed_actions"] == ["complete", "on-my-way", "start"]
    everything = _calendar(dispatcher_client, start, end).json["items"]
    assert [a["job_id"] for a in everything] == [str(j.id) for j in (mine, theirs, nobody)]
    only_priya = _calendar(dispatcher_client, start, end, f"&technician_id={other_tech.id}")
    assert [a["job_id"] for a in only_priya.json["items"]] == [str(theirs.id)]


def test_the_calendar_window_overlaps_and_pages(
    make_job: Callable[..., Job], tech: User, dispatcher_client: ApiClient
) -> None:
    # 90-minute visits at 15:00, 17:00, 19:00 on Monday
    jobs = [make_job(technician=tech, starts_at=MONDAY + timedelta(hours=2 * i)) for i in range(3)]
    # a window starting at 16:00 still shows the 15:00 visit (it runs until 16:30)
    window = _calendar(dispatcher_client, MONDAY + timedelta(hours=1), MONDAY + timedelta(hours=4))
    assert [a["job_id"] for a in window.json["items"]] == [str(jobs[0].id), str(jobs[1].id)]
    first = _calendar(dispatcher_client, MONDAY, MONDAY + timedelta(days=1), "&limit=2").json
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = _calendar(
        dispatcher_client,
        MONDAY,
        MONDAY + timedelta(days=1),
        f"&limit=2&cursor={first['next_cursor']}",
    ).json
    assert [a["job_id"] for a in rest["items"]] == [str(jobs[2].id)]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    "query",
    [
        "?from=2030-03-04T00:00:00&to=2030-03-05T00:00:00",
        "?from=2030-03-05T00:00:00Z&to=2030-03-04T00:00:00Z",
        "?from=2030-03-01T00:00:00Z&to=2030-06-01T00:00:00Z",
        "?from=2030-03-04T00:00:00Z&to=2030-03-05T00:00:00Z&status=lost",
    ],
)
def test_bad_calendar_queries_are_422(dispatcher_client: ApiClient, query: str) -> None:
    response = dispatcher_client.get(f"/v1/appointments{query}")
    assert response.status_code == 422, response.json


def test_get_one_appointment(
    make_job: Callable[..., Job],
    tech: User,
    other_tech: User,
    tech_client: ApiClient,
) -> None:
    job = make_job(technician=tech, starts_at=utcnow() + timedelta(days=1))
    answer = tech_client.get(f"/v1/appointments/{job.appointments[0].id}")
    assert answer.status_code == 200
    assert answer.json["job"]["status"] == "scheduled"
    theirs = make_job(technician=other_tech)
    assert tech_client.get(f"/v1/appointments/{theirs.appointments[0].id}").status_code == 404
