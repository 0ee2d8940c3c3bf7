"""On my way: the ETA from the phone's position or the latest ping, and the customer's text."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.eta.model import EtaModel, clock_text, estimate_minutes
from fieldapi.jobs.models import Customer, Job
from fieldapi.messaging.models import OptOut
from tests.conftest import ApiClient
from tests.jobs.conftest import LOOP, activity_of, appointments_of, load_job, texts_of


def on_my_way(client: ApiClient, job: Job, **body: Any) -> Any:
    return client.post(f"/v1/appointments/{job.appointments[0].id}/actions/on-my-way", json=body)


def store_ping(db: Session, user: User, lat: float, lon: float, recorded_at: datetime) -> None:
    db.execute(
        text(
            "INSERT INTO latest_locations (organization_id, user_id, recorded_at, position, "
            "updated_at) VALUES (:org, :user, :at, "
            "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, now())"
        ),
        {"org": user.organization_id, "user": user.id, "at": recorded_at, "lat": lat, "lon": lon},
    )
    db.commit()


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_the_position_in_the_request_gives_the_eta_and_the_text_says_when(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session
) -> None:
    job = make_job(technician=tech)
    before = utcnow()
    response = on_my_way(tech_client, job, lat=LOOP[0], lon=LOOP[1])
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "in_progress"
    assert body["appointments"][0]["status"] == "enroute"
    eta = body["eta"]
    assert eta["method"] == "request_position"
    assert 7_850 < eta["distance_m"] < 7_950  # Wrigley Field to the Loop, straight line
    assert eta["minutes"] == estimate_minutes(eta["distance_m"], EtaModel())
    arrive_by = parse(eta["arrive_by"])
    assert eta["arrive_by"].endswith("Z")
    assert before + timedelta(minutes=eta["minutes"]) - timedelta(seconds=1) <= arrive_by
    assert arrive_by <= utcnow() + timedelta(minutes=eta["minutes"])
    [message] = texts_of(db, job.id)
    # Sent now: an arrival past the customer's midnight carries its weekday.
    when = clock_text(arrive_by, "America/Chicago", now=before)
    text_part, link = message.body.split(" Track: ")
    assert text_part == f"Sam from Done Right Home Services is on the way, arriving around {when}."
    assert re.fullmatch(r"https://api\.example\.test/t/[A-Za-z0-9_-]{22}", link)
    assert (message.purpose, message.to_phone, message.status) == (
        "on_my_way",
        "+13122000201",
        "queued",
    )
    assert message.appointment_id == job.appointments[0].id
    on_the_way, queued = activity_of(db, job.id)[-2:]
    assert on_the_way.action == "on-my-way"
    assert on_the_way.details["eta"]["method"] == "request_position"
    assert (queued.action, queued.details["message_id"]) == ("text_queued", str(message.id))


def test_the_text_uses_the_customers_timezone(
    make_customer: Callable[..., Customer],
    make_job: Callable[..., Job],
    org: Organization,
    tech: User,
    tech_client: ApiClient,
    db: Session,
) -> None:
    # a customer in Honolulu, technician 5 km away: minutes, not hours
    hawaii = make_customer(
        org,
        name="Kai",
        phone="+18085550123",
        site=(21.3069, -157.8583),
        timezone="Pacific/Honolulu",
    )
    job = make_job(technician=tech, customer_id=hawaii.id)
    response = on_my_way(tech_client, job, lat=21.2793, lon=-157.8292)
    assert response.status_code == 200, response.json
    arrive_by = parse(response.json["eta"]["arrive_by"])
    [message] = texts_of(db, job.id)
    local = clock_text(arrive_by, "Pacific/Honolulu", now=arrive_by)
    chicago = clock_text(arrive_by, "America/Chicago", now=arrive_by)
    assert local != chicago
    assert message.body.split(" Track: ")[0].endswith(f"arriving around {local}.")


def test_without_a_position_the_latest_fresh_ping_is_used(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session
) -> None:
    store_ping(db, tech, LOOP[0], LOOP[1], utcnow() - timedelta(minutes=3))
    job = make_job(technician=tech)
    response = on_my_way(tech_client, job)
    assert response.status_code == 200, response.json
    eta = response.json["eta"]
    assert eta["method"] == "latest_position"
    assert 7_850 < eta["distance_m"] < 7_950
    assert "arriving around" in texts_of(db, job.id)[0].body


def test_a_stale_ping_is_no_position_and_the_text_has_no_time(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session
) -> None:
    store_ping(db, tech, LOOP[0], LOOP[1], utcnow() - timedelta(hours=2))
    job = make_job(technician=tech)
    response = on_my_way(tech_client, job)
    assert response.status_code == 200
    assert response.json["eta"] == {
        "minutes": None,
        "arrive_by": None,
        "distance_m": None,
        "method": "unknown_position",
    }
    [message] = texts_of(db, job.id)
    assert message.body.split(" Track: ")[0] == "Sam from Done Right Home Services is on the way."
    assert load_job(db, job.id).status == "in_progress"


def test_no_position_at_all(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session
) -> None:
    job = make_job(technician=tech)
    response = on_my_way(tech_client, job)
    assert response.json["eta"]["method"] == "unknown_position"
    assert texts_of(db, job.id)[0].body.split(" Track: ")[0].endswith("is on the way.")


def test_the_assigned_technicians_ping_counts_when_a_dispatcher_presses_it(
    make_job: Callable[..., Job], tech: User, dispatcher_client: ApiClient, db: Session
) -> None:
    store_ping(db, tech, LOOP[0], LOOP[1], utcnow() - timedelta(minutes=1))
    job = make_job(technician=tech)
    response = on_my_way(dispatcher_client, job)
    assert response.json["eta"]["method"] == "latest_position"
    assert texts_of(db, job.id)[0].body.startswith("Sam from ")


def test_a_customer_without_a_site_gets_a_text_without_time(
    make_customer: Callable[..., Customer],
    make_job: Callable[..., Job],
    org: Organization,
    tech: User,
    tech_client: ApiClient,
    db: Session,
) -> None:
    nowhere = make_customer(org, name="Unmapped", site=(None, None))
    job = make_job(technician=tech, customer_id=nowhere.id)
    response = on_my_way(tech_client, job, lat=LOOP[0], lon=LOOP[1])
    assert response.status_code == 200
    assert response.json["eta"]["method"] == "unknown_site"
    assert texts_of(db, job.id)[0].body.split(" Track: ")[0].endswith("is on the way.")


@pytest.mark.parametrize("second", ["on-my-way", "start"])
def test_on_my_way_twice_is_refused_but_start_follows(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session, second: str
) -> None:
    job = make_job(technician=tech)
    assert on_my_way(tech_client, job).status_code == 200
    response = tech_client.post(
        f"/v1/appointments/{job.appointments[0].id}/actions/{second}", json={}
    )
    if second == "on-my-way":
        assert response.status_code == 409
        assert "the appointment is enroute" in response.json["message"]
        assert response.json["errors"]["allowed_actions"] == ["complete", "pause", "start"]
        assert len(texts_of(db, job.id)) == 1
    else:
        assert response.status_code == 200
        assert [a.status for a in appointments_of(db, job.id)] == ["started"]


def test_an_unknown_appointment_is_404(tech_client: ApiClient) -> None:
    response = tech_client.post(f"/v1/appointments/{uuid.uuid4()}/actions/on-my-way", json={})
    assert response.status_code == 404


# The statements of one on-my-way with the phone's position, the path `scripts/bench_scale`
# holds to 3x a bare `GET /v1/me` (2 statements): authenticate; lock; the appointments with
# the ETA's inputs (the organization's stored fit among them); one statement of every write
# (the appointment's and the job's updates, the activity entries, the text and the tracking
# link). With no fresh fit stored, the trips are read and the new fit stored: two more.
ON_MY_WAY_STATEMENTS = 4
REFIT_STATEMENTS = 2


def test_on_my_way_runs_a_fixed_number_of_statements(
    make_job: Callable[..., Job],
    tech: User,
    tech_client: ApiClient,
    db: Session,
    count_queries: Callable[[], Any],
) -> None:
    first, job = make_job(technician=tech), make_job(technician=tech)
    assert first.appointments and job.appointments  # loaded before the statements counted
    with count_queries() as refitting:
        assert on_my_way(tech_client, first, lat=LOOP[0], lon=LOOP[1]).status_code == 200
    with count_queries() as statements:
        response = on_my_way(tech_client, job, lat=LOOP[0], lon=LOOP[1])
    assert response.status_code == 200, response.json
    assert response.json["eta"]["method"] == "request_position"
    assert [m.purpose for m in texts_of(db, job.id)] == ["on_my_way"]
    assert len(statements) == ON_MY_WAY_STATEMENTS, listing(statements)
    assert len(refitting) == ON_MY_WAY_STATEMENTS + REFIT_STATEMENTS, listing(refitting)


def listing(statements: list[str]) -> str:
    return "\n".join(" ".join(s.split())[:120] for s in statements)


def test_the_on_my_way_text_to_a_customer_who_opted_out_is_blocked(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session
) -> None:
    job = make_job(technician=tech)
    db.add(OptOut(phone=job.customer.phone, source="reply", keyword="STOP"))
    db.commit()
    response = on_my_way(tech_client, job, lat=LOOP[0], lon=LOOP[1])
    assert response.status_code == 200, response.json
    assert response.json["status"] == "in_progress"
    assert response.json["customer"]["texts_opted_out"] is True
    [message] = texts_of(db, job.id)
    assert (message.purpose, message.status) == ("on_my_way", "blocked")
    assert message.error_message == "The recipient opted out by replying STOP."
