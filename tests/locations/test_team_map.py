"""GET /v1/team/locations: the dispatcher's map of the team."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.jobs.models import Appointment, Customer, Job
from tests.conftest import ApiClient
from tests.locations.conftest import ping, post_pings
from tests.test_app import assert_error_shape


@pytest.fixture
def place(
    login_as: Callable[[User], ApiClient],
) -> Callable[..., None]:
    """Give a user a latest position by posting a ping as them."""

    def go(user: User, lat: float, lon: float, at: datetime | None = None, **extra: Any) -> None:
        response = post_pings(login_as(user), [ping(at or utcnow(), lat, lon, **extra)])
        assert response.json["stored"] == 1

    return go


def features(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.json
    assert response.json["type"] == "FeatureCollection"
    return {f["properties"]["name"]: f for f in response.json["features"]}


def test_the_map_shows_each_member_with_a_position(
    dispatcher_client: ApiClient,
    org: Organization,
    make_user: Callable[..., User],
    place: Callable[..., None],
) -> None:
    sam = make_user(org, name="Sam Ortiz")
    lee = make_user(org, role="both", name="Lee Chen")
    make_user(org, name="No Position Yet")
    at = (utcnow() - timedelta(minutes=2)).replace(microsecond=250000)
    place(sam, 41.8781, -87.6298, at, accuracy_m=12, speed_mps=8.5, heading_deg=271, battery_pct=64)
    place(lee, 41.95, -87.65)
    shown = features(dispatcher_client.get("/v1/team/locations"))
    assert set(shown) == {"Sam Ortiz", "Lee Chen"}
    feature = shown["Sam Ortiz"]
    assert feature["type"] == "Feature"
    assert feature["id"] == str(sam.id)
    assert feature["geometry"] == {"type": "Point", "coordinates": [-87.6298, 41.8781]}
    assert feature["properties"] == {
        "user_id": str(sam.id),
        "name": "Sam Ortiz",
        "role": "technician",
        "recorded_at": at.replace(tzinfo=None).isoformat()[:-4] + "Z",  # ".25Z"
        "accuracy_m": 12,
        "speed_mps": 8.5,
        "heading_deg": 271,
        "battery_pct": 64,
        "stale": False,
        "appointment": None,
    }
    assert shown["Lee Chen"]["properties"]["role"] == "both"


def test_old_positions_are_stale(
    dispatcher_client: ApiClient,
    org: Organization,
    make_user: Callable[..., User],
    place: Callable[..., None],
) -> None:
    fresh, old = make_user(org, name="Fresh"), make_user(org, name="Old")
    place(fresh, 41.8, -87.6, utcnow() - timedelta(minutes=9))
    place(old, 41.8, -87.6, utcnow() - timedelta(minutes=11))
    shown = features(dispatcher_client.get("/v1/team/locations"))
    assert shown["Fresh"]["properties"]["stale"] is False
    assert shown["Old"]["properties"]["stale"] is True


def test_inactive_off_duty_and_other_organizations_members_are_not_shown(
    dispatcher_client: ApiClient,
    org: Organization,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    place: Callable[..., None],
    login_as: Callable[[User], ApiClient],
    db: Session,
) -> None:
    shown_one = make_user(org, name="Shown")
    gone = make_user(org, name="Gone")
    resting = make_user(org, name="Resting")
    stranger = make_user(make_org(name="Other Co"), name="Stranger")
    for user in (shown_one, gone, resting, stranger):
        place(user, 41.8, -87.6)
    gone.active = False
    db.commit()
    assert login_as(resting).put("/v1/me/duty", json={"on_duty": False}).status_code == 200
    assert set(features(dispatcher_client.get("/v1/team/locations"))) == {"Shown"}


def test_the_map_shows_the_appointment_under_way(
    dispatcher_client: ApiClient,
    org: Organization,
    make_user: Callable[..., User],
    place: Callable[..., None],
    db: Session,
) -> None:
    sam, priya = make_user(org, name="Sam"), make_user(org, name="Priya")
    place(sam, 41.8, -87.6)
    place(priya, 41.9, -87.7)
    customer = Customer(
        id=uuid.uuid4(),
        organization_id=org.id,
        name="Maria Lopez",
        site=from_shape(Point(-87.6553, 41.9484), srid=4326),
        timezone="America/Chicago",
    )
    db.add(customer)
    db.flush()
    starts = utcnow().replace(microsecond=0)

    def appointment(technician: User, status: str, title: str) -> Appointment:
        # Arranged directly: the statuses as the lifecycle would have left them.
        job = Job(
            id=uuid.uuid4(),
            organization_id=org.id,
            customer_id=customer.id,
            title=title,
            status="in_progress" if status == "started" else "scheduled",
        )
        db.add(job)
        db.flush()
        row = Appointment(
            id=uuid.uuid4(),
            organization_id=org.id,
            job_id=job.id,
            starts_at=starts,
            duration_min=60,
            technician_id=technician.id,
            status=status,
        )
        db.add(row)
        db.flush()
        return row

    appointment(sam, "scheduled", "Later today")
    appointment(sam, "complete", "Done earlier")
    current = appointment(sam, "enroute", "Fix the AC")
    db.commit()
    shown = features(dispatcher_client.get("/v1/team/locations"))
    assert shown["Sam"]["properties"]["appointment"] == {
        "id": str(current.id),
        "status": "enroute",
        "job_id": str(current.job_id),
        "job_title": "Fix the AC",
        "customer_name": "Maria Lopez",
        "starts_at": starts.replace(tzinfo=None).isoformat() + "Z",
    }
    assert shown["Priya"]["properties"]["appointment"] is None


def test_technicians_may_not_see_the_map(
    tech_client: ApiClient, tech: User, place: Callable[..., None]
) -> None:
    place(tech, 41.8, -87.6)
    response = tech_client.get("/v1/team/locations")
    assert response.status_code == 403
    assert_error_shape(response.json, 403)


def test_the_map_needs_a_token(client: ApiClient) -> None:
    assert client.get("/v1/team/locations").status_code == 401
    assert client.get("/v1/team/locations?bbox=nonsense").status_code == 401


def test_an_empty_team_is_an_empty_collection(dispatcher_client: ApiClient) -> None:
    response = dispatcher_client.get("/v1/team/locations")
    assert response.json == {"type": "FeatureCollection", "features": []}


def test_bbox_keeps_the_members_inside_the_view(
    dispatcher_client: ApiClient,
    org: Organization,
    make_user: Callable[..., User],
    place: Callable[..., None],
) -> None:
    for name, lat, lon in [
        ("Loop", 41.88, -87.63),
        ("Evanston", 42.05, -87.68),
        ("Fiji", -17.7, 178.0),
        ("Samoa", -13.8, -172.0),
    ]:
        place(make_user(org, name=name), lat, lon)
    chicago = features(dispatcher_client.get("/v1/team/locations?bbox=-87.7,41.8,-87.6,41.9"))
    assert set(chicago) == {"Loop"}
    # west > east: a view across the antimeridian
    pacific = features(dispatcher_client.get("/v1/team/locations?bbox=170,-20,-170,-10"))
    assert set(pacific) == {"Fiji", "Samoa"}
    edge = features(dispatcher_client.get("/v1/team/locations?bbox=-87.63,41.88,-87.0,42.0"))
    assert set(edge) == {"Loop"}  # the edges are inside


@pytest.mark.parametrize(
    "bbox",
    [
        "1,2,3",
        "1,2,3,4,5",
        "a,b,c,d",
        "-87.7,41.9,-87.6,41.8",  # south above north
        "-187,41,-87,42",
        "-87,-91,-86,42",
        "nan,1,2,3",
        "inf,1,2,3",
        "",
    ],
)
def test_a_bad_bbox_is_422(dispatcher_client: ApiClient, bbox: str) -> None:
    response = dispatcher_client.get(f"/v1/team/locations?bbox={bbox}")
    assert response.status_code == 422
    assert_error_shape(response.json, 422)
    assert "bbox" in response.json["errors"]


def test_the_map_takes_the_same_statements_for_any_team_size(
    dispatcher_client: ApiClient,
    org: Organization,
    make_user: Callable[..., User],
    place: Callable[..., None],
    count_queries: Callable[[], Any],
) -> None:
    def statements() -> int:
        with count_queries() as counted:
            dispatcher_client.get("/v1/team/locations")
        return len(counted)

    place(make_user(org, name="First"), 41.8, -87.6)
    small = statements()
    for n in range(15):
        place(make_user(org, name=f"Member {n}"), 41.8 + n / 100, -87.6)
    assert len(features(dispatcher_client.get("/v1/team/locations"))) == 16
    assert statements() == small <= 2
