"""OwnTracks as arrival help: the answer puts today's sites on the phone (setWaypoints),
and a `transition` enter at an appointment's site records the arrival, once."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.jobs.models import ActivityEvent, Appointment
from fieldapi.locations.arrival import todays_sites
from tests.conftest import ApiClient
from tests.locations.conftest import make_appointment, stored_pings

SITE = (41.9484, -87.6553)


def post(client: ApiClient, token: str, body: dict[str, Any]) -> Any:
    encoded = base64.b64encode(f"sam:{token}".encode()).decode()
    return client.client.post(
        "/ingest/owntracks", json=body, headers={"Authorization": f"Basic {encoded}"}
    )


def enter(lat: float, lon: float, *, event: str = "enter", seconds_ago: int = 30) -> dict:
    now = int(utcnow().timestamp())
    return {
        "_type": "transition",
        "event": event,
        "desc": "Maria Lopez - Leak",
        "lat": lat,
        "lon": lon,
        "acc": 10,
        "t": "c",
        "tid": "SO",
        "tst": now - seconds_ago,
        "wtst": now - 3600,
    }


def arrivals(db: Session, appointment: Appointment) -> list[ActivityEvent]:
    db.expire_all()
    return list(
        db.scalars(
            select(ActivityEvent).where(
                ActivityEvent.appointment_id == appointment.id, ActivityEvent.action == "arrived"
            )
        )
    )


def test_a_location_post_is_answered_with_today_s_sites_as_waypoints(
    client: ApiClient, db: Session, org: Organization, tech: User, device_token: str
) -> None:
    today = make_appointment(db, org, technician=tech, status="scheduled", starts_at=utcnow())
    make_appointment(
        db, org, technician=tech, status="scheduled", starts_at=utcnow() + timedelta(days=3)
    )
    make_appointment(db, org, technician=None, status="scheduled", starts_at=utcnow())
    location = {"_type": "location", "lat": 41.9, "lon": -87.6, "tst": int(utcnow().timestamp())}
    first = post(client, device_token, location)
    assert first.status_code == 200
    [command] = first.json
    assert (command["_type"], command["action"]) == ("cmd", "setWaypoints")
    [waypoint] = command["waypoints"]["waypoints"]
    assert waypoint["rid"] == str(today.id)
    assert (waypoint["lat"], waypoint["lon"], waypoint["rad"]) == (*SITE, 150)
    assert waypoint["_type"] == "waypoint" and waypoint["desc"] == "Maria Lopez - Leak"
    again = post(client, device_token, {**location, "tst": location["tst"] - 5})
    assert again.json[0]["waypoints"]["waypoints"][0]["tst"] == waypoint["tst"]


def test_no_sites_today_no_command(client: ApiClient, device_token: str) -> None:
    location = {"_type": "location", "lat": 41.9, "lon": -87.6, "tst": int(utcnow().timestamp())}
    assert post(client, device_token, location).json == []


def test_an_enter_at_the_site_records_the_arrival_once(
    client: ApiClient, db: Session, org: Organization, tech: User, device_token: str
) -> None:
    appointment = make_appointment(db, org, technician=tech, status="enroute")
    response = post(client, device_token, enter(SITE[0] + 0.0005, SITE[1]))
    assert response.status_code == 200 and response.json == []
    [entry] = arrivals(db, appointment)
    assert entry.details["source"] == "owntracks_transition"
    assert entry.actor_kind == "system"
    db.refresh(appointment)
    assert appointment.status == "enroute"  # Start is still the technician's
    assert len(stored_pings(db, tech.id)) == 1  # the crossing's position is a fix too
    post(client, device_token, enter(SITE[0], SITE[1], seconds_ago=10))
    assert len(arrivals(db, appointment)) == 1


def test_a_leave_an_enter_elsewhere_or_off_duty_records_nothing(
    client: ApiClient,
    tech_client: ApiClient,
    db: Session,
    org: Organization,
    tech: User,
    device_token: str,
) -> None:
    appointment = make_appointment(db, org, technician=tech, status="enroute")
    post(client, device_token, enter(*SITE, event="leave"))
    post(client, device_token, enter(SITE[0] + 0.01, SITE[1], seconds_ago=20))  # 1.1 km off
    assert arrivals(db, appointment) == []
    tech_client.put("/v1/me/duty", json={"on_duty": False})
    off = post(client, device_token, enter(*SITE, seconds_ago=10))
    assert off.status_code == 200 and "off duty" in off.headers["X-Fieldapi-Rejected"]
    assert arrivals(db, appointment) == []


def test_an_enter_at_a_scheduled_appointment_s_site_is_not_an_arrival(
    client: ApiClient, db: Session, org: Organization, tech: User, device_token: str
) -> None:
    appointment = make_appointment(db, org, technician=tech, status="scheduled")
    post(client, device_token, enter(*SITE))
    assert arrivals(db, appointment) == []


def test_today_is_the_organization_s_day_in_its_timezone_on_a_short_dst_day(
    db: Session, org: Organization, tech: User
) -> None:
    # 8 March 2026 in Chicago has 23 hours: midnight is 06:00 UTC, the next one 05:00 UTC.
    org.timezone = "America/Chicago"
    db.flush()
    chicago = ZoneInfo("America/Chicago")
    noon = datetime(2026, 3, 8, 12, 0, tzinfo=chicago)
    starts = {
        "yesterday late": datetime(2026, 3, 7, 23, 30, tzinfo=chicago),
        "first thing": datetime(2026, 3, 8, 0, 0, tzinfo=chicago),
        "last thing": datetime(2026, 3, 8, 23, 30, tzinfo=chicago),
        "tomorrow": datetime(2026, 3, 9, 0, 0, tzinfo=chicago),
    }
    made = {
        name: make_appointment(db, org, technician=tech, status="scheduled", starts_at=at)
        for name, at in starts.items()
    }

    sites = todays_sites(db, org.id, tech.id, now=noon.astimezone(UTC))

    assert [site["appointment_id"] for site in sites] == [
        made["first thing"].id,
        made["last thing"].id,
    ]
