"""While a technician is en route: the ETA follows their pings, the customer hears once
(at most twice) that they run late, and their fixes at the site record the arrival."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization
from fieldapi.db import utcnow
from fieldapi.jobs.models import Appointment, Job
from fieldapi.public.models import VisitTracking
from tests.conftest import WRIGLEY, ApiClient, plan_of
from tests.jobs.conftest import activity_of, appointments_of
from tests.public.conftest import texts_of

Driving = Callable[..., tuple[Job, str]]
KM_OF_LATITUDE = 1 / 111.2  # degrees


def ping(at: datetime, lat: float, lon: float = WRIGLEY[1], accuracy: float = 8) -> dict[str, Any]:
    return {
        "recorded_at": at.isoformat().replace("+00:00", "Z"),
        "lat": lat,
        "lon": lon,
        "accuracy_m": accuracy,
    }


def north_of_site(km: float) -> float:
    return WRIGLEY[0] + km * KM_OF_LATITUDE


def upload(client: ApiClient, *pings: dict[str, Any]) -> None:
    response = client.post("/v1/locations", json={"pings": list(pings)})
    assert response.status_code == 200, response.json
    assert response.json["rejected"] == [], response.json


def began_minutes_ago(db: Session, job: Job, minutes: int) -> datetime:
    """Move the visit's on-my-way back in time, so earlier fixes count for it."""
    began = utcnow() - timedelta(minutes=minutes)
    db.execute(
        update(VisitTracking)
        .where(VisitTracking.appointment_id == job.appointments[0].id)
        .values(created_at=began)
    )
    db.commit()
    return began


def actions(db: Session, job: Job) -> list[str]:
    return [entry.action for entry in activity_of(db, job.id)]


def test_the_eta_follows_the_drive(
    on_the_way: Driving, tech_client: ApiClient, client: ApiClient
) -> None:
    _job, token = on_the_way()  # from the Loop, about 8 km away
    first = client.get(f"/v1/tracking/{token}").json["eta"]["minutes"]
    upload(tech_client, ping(utcnow(), north_of_site(2)))  # one ping: the one-statement path
    after = client.get(f"/v1/tracking/{token}").json
    assert after["eta"]["minutes"] < first
    assert after["position"]["lat"] == round(north_of_site(2), 3)
    upload(
        tech_client,
        ping(utcnow() + timedelta(seconds=60), north_of_site(1)),
        ping(utcnow() + timedelta(seconds=90), north_of_site(0.9)),
    )  # a batch: the general path
    assert client.get(f"/v1/tracking/{token}").json["position"]["lat"] == round(
        north_of_site(0.9), 3
    )


def test_one_running_late_text_per_slip_and_at_most_two(
    on_the_way: Driving, tech_client: ApiClient, db: Session
) -> None:
    job, _token = on_the_way(lat=north_of_site(1), lon=WRIGLEY[1])  # 5 minutes away
    now = utcnow()
    upload(tech_client, ping(now - timedelta(minutes=14), north_of_site(20)))  # about 37 min
    late = [m for m in texts_of(db, job.id) if m.purpose == "running_late"]
    assert len(late) == 1
    assert late[0].body.startswith("Sam from Done Right Home Services is running late, now around ")
    [entry] = [e for e in activity_of(db, job.id) if e.action == "running_late"]
    assert entry.actor_kind == "system" and entry.details["late_text"] == 1
    # A ping that slips no further (same place) sends nothing more.
    upload(tech_client, ping(now - timedelta(minutes=13), north_of_site(20)))
    assert len([m for m in texts_of(db, job.id) if m.purpose == "running_late"]) == 1
    upload(tech_client, ping(now - timedelta(minutes=8), north_of_site(40)))  # 60 min: slips again
    upload(tech_client, ping(now - timedelta(minutes=2), north_of_site(60)))  # would be a third
    assert len([m for m in texts_of(db, job.id) if m.purpose == "running_late"]) == 2
    assert actions(db, job).count("running_late") == 2


def test_a_technician_on_time_gets_no_late_text(
    on_the_way: Driving, tech_client: ApiClient, db: Session
) -> None:
    job, _token = on_the_way()
    upload(tech_client, ping(utcnow(), north_of_site(4)))
    assert [m.purpose for m in texts_of(db, job.id)] == ["on_my_way"]


def test_fixes_inside_the_radius_for_the_dwell_time_are_an_arrival(
    on_the_way: Driving, tech_client: ApiClient, client: ApiClient, db: Session
) -> None:
    job, token = on_the_way()
    began = began_minutes_ago(db, job, 10)
    at = began + timedelta(minutes=1)
    upload(tech_client, ping(at, north_of_site(0.05)))  # one fix inside: not yet
    assert "arrived" not in actions(db, job)
    assert client.get(f"/v1/tracking/{token}").json["status"] == "on_the_way"
    upload(tech_client, ping(at + timedelta(seconds=61), north_of_site(0.08)))
    [arrived] = [e for e in activity_of(db, job.id) if e.action == "arrived"]
    assert arrived.actor_kind == "system" and arrived.actor_id is None
    assert arrived.details["arrived_at"] == at.isoformat()
    tracking = client.get(f"/v1/tracking/{token}").json
    assert (tracking["status"], tracking["position"]) == ("arrived", None)
    # Without auto start the appointment stays en route: the technician starts it.
    assert appointments_of(db, job.id)[0].status == "enroute"


def test_a_drive_by_is_not_an_arrival(
    on_the_way: Driving, tech_client: ApiClient, db: Session
) -> None:
    job, _token = on_the_way()
    at = began_minutes_ago(db, job, 10) + timedelta(minutes=1)
    upload(
        tech_client,
        ping(at, north_of_site(0.1)),
        ping(at + timedelta(seconds=30), north_of_site(0.4)),  # outside between
        ping(at + timedelta(seconds=65), north_of_site(0.1)),
        ping(at + timedelta(seconds=90), north_of_site(0.1), accuracy=120),  # not accurate
        ping(at + timedelta(seconds=130), north_of_site(-0.5)),  # past it
    )
    assert "arrived" not in actions(db, job)


def test_out_of_order_and_repeated_pings_record_one_arrival(
    on_the_way: Driving, tech_client: ApiClient, db: Session
) -> None:
    job, _token = on_the_way()
    at = began_minutes_ago(db, job, 10) + timedelta(minutes=1)
    later, earlier = (
        ping(at + timedelta(seconds=70), north_of_site(0.05)),
        ping(at, north_of_site(0.05)),
    )
    upload(tech_client, later)
    assert "arrived" not in actions(db, job)
    upload(tech_client, earlier)  # a late upload completes the stay
    upload(tech_client, earlier, later)  # duplicates
    upload(tech_client, ping(at + timedelta(seconds=200), north_of_site(0.05)))  # more of it
    assert actions(db, job).count("arrived") == 1


def test_auto_start_on_arrival_starts_the_visit_through_the_lifecycle(
    on_the_way: Driving,
    tech_client: ApiClient,
    dispatcher_client: ApiClient,
    client: ApiClient,
    db: Session,
) -> None:
    switched = dispatcher_client.patch(
        "/v1/settings/organization", json={"auto_start_on_arrival": True}
    )
    assert switched.status_code == 200 and switched.json["auto_start_on_arrival"] is True
    job, token = on_the_way()
    at = began_minutes_ago(db, job, 10) + timedelta(minutes=1)
    upload(tech_client, ping(at, north_of_site(0.02)), ping(at + timedelta(seconds=60), WRIGLEY[0]))
    assert appointments_of(db, job.id)[0].status == "started"
    log = activity_of(db, job.id)
    start = next(e for e in log if e.action == "start")
    assert (start.actor_kind, start.from_status, start.to_status) == (
        "system",
        "in_progress",
        "in_progress",
    )
    assert [e.action for e in log].index("arrived") < [e.action for e in log].index("start")
    assert [m.purpose for m in texts_of(db, job.id)] == ["on_my_way", "arrival"]
    assert client.get(f"/v1/tracking/{token}").json["status"] == "arrived"


@pytest.mark.parametrize("auto_start", [False, True])
def test_a_technician_not_en_route_changes_no_visit(
    auto_start: bool,
    make_job: Callable[..., Job],
    tech: Any,
    tech_client: ApiClient,
    org: Organization,
    db: Session,
) -> None:
    org.auto_start_on_arrival = auto_start
    db.commit()
    job = make_job(technician=tech)  # scheduled, not on the way
    now = utcnow()
    upload(tech_client, ping(now - timedelta(minutes=2), WRIGLEY[0]), ping(now, WRIGLEY[0]))
    assert appointments_of(db, job.id)[0].status == "scheduled"
    assert db.scalars(select(VisitTracking)).all() == []
    assert "arrived" not in actions(db, job)
    assert db.scalar(select(Appointment.status).where(Appointment.job_id == job.id)) == "scheduled"


def test_the_arrival_already_recorded_is_looked_up_in_the_job_s_log(
    on_the_way: Driving, tech_client: ApiClient, db: Session, query_plans: Callable[[], Any]
) -> None:
    # Every upload while en route asks: by the job's index, not the organization's log.
    job, _token = on_the_way()
    at = began_minutes_ago(db, job, 10) + timedelta(minutes=1)
    upload(tech_client, ping(at, north_of_site(0.05)))
    other_jobs_log(db, job, 2000)
    with query_plans() as plans:
        upload(tech_client, ping(at + timedelta(seconds=70), north_of_site(0.05)))
    assert actions(db, job).count("arrived") == 1
    plan = plan_of(plans, "FROM activity_events", "'arrived'")
    assert "ix_activity_events_organization_id_job_id_at" in plan, plan


def other_jobs_log(db: Session, job: Job, entries: int) -> None:
    """A long log of another job of the organization, and fresh statistics: an index that
    reads the organization's whole log is then dearer than the job's."""
    other = Job(
        id=uuid.uuid4(),
        organization_id=job.organization_id,
        customer_id=job.customer_id,
        title="Another job",
        status="unscheduled",
        offer_state="none",
    )
    db.add(other)
    db.flush()
    db.execute(
        text(
            "INSERT INTO activity_events (organization_id, job_id, at, actor_kind, action, "
            "details) SELECT :org, :job, now(), 'system', 'note', '{}'::jsonb "
            "FROM generate_series(1, :n)"
        ),
        {"org": job.organization_id, "job": other.id, "n": entries},
    )
    db.execute(text("ANALYZE activity_events"))
    db.commit()
