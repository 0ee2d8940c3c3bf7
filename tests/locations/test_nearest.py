"""GET /v1/dispatch/nearest: on-duty technicians with a fresh position, nearest by ETA."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.eta.model import EtaModel, estimate_minutes
from fieldapi.locations.nearest import NEAREST_SQL, Place, nearest_params
from tests.conftest import ApiClient, plan_of
from tests.locations.conftest import make_appointment

WRIGLEY = (41.9484, -87.6553)


def place_at(db: Session, user: User, lat: float, lon: float, *, age: timedelta) -> None:
    db.execute(
        text(
            "INSERT INTO latest_locations (organization_id, user_id, recorded_at, position, "
            "updated_at) VALUES (:org, :user, :at, "
            "CAST(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geography), :at)"
        ),
        {
            "org": user.organization_id,
            "user": user.id,
            "at": utcnow() - age,
            "lat": lat,
            "lon": lon,
        },
    )
    db.commit()


@pytest.fixture
def team(db: Session, org: Organization, make_user: Callable[..., User]) -> dict[str, User]:
    """Technicians north of Wrigley Field at growing distances, and some who must not show."""
    people = {
        "near": make_user(org, role="technician", name="Near Nia"),
        "mid": make_user(org, role="both", name="Mid Mo"),
        "far": make_user(org, role="technician", name="Far Fay"),
        "stale": make_user(org, role="technician", name="Stale Stan"),
        "off": make_user(org, role="technician", name="Off Olga"),
        "boss": make_user(org, role="dispatcher", name="Boss Bo"),
        "gone": make_user(org, role="technician", name="Gone Gil", active=False),
    }
    spots = {
        "near": 0.01,
        "mid": 0.05,
        "far": 0.3,
        "stale": 0.001,
        "off": 0.002,
        "boss": 0.003,
        "gone": 0.004,
    }
    for key, north in spots.items():
        age = timedelta(hours=2) if key == "stale" else timedelta(seconds=30)
        place_at(db, people[key], WRIGLEY[0] + north, WRIGLEY[1], age=age)
    people["off"].on_duty = False
    db.commit()
    return people


def test_the_nearest_come_first_with_their_eta_and_only_who_can_go(
    dispatcher_client: ApiClient, team: dict[str, User]
) -> None:
    response = dispatcher_client.get(
        "/v1/dispatch/nearest", query_string={"lat": WRIGLEY[0], "lon": WRIGLEY[1]}
    )
    assert response.status_code == 200, response.json
    names = [row["user"]["name"] for row in response.json]
    assert names == ["Near Nia", "Mid Mo", "Far Fay"]
    first = response.json[0]
    assert first["user"]["id"] == str(team["near"].id)
    assert 1_080 <= first["distance_m"] <= 1_140  # 0.01 degree of latitude
    assert first["eta_minutes"] == estimate_minutes(first["distance_m"], EtaModel())
    assert 25 <= first["position_age_s"] <= 120
    assert first["current_appointment_id"] is None
    assert response.json[2]["eta_minutes"] > response.json[1]["eta_minutes"]


def test_limit_keeps_the_nearest(dispatcher_client: ApiClient, team: dict[str, User]) -> None:
    response = dispatcher_client.get(
        "/v1/dispatch/nearest", query_string={"lat": WRIGLEY[0], "lon": WRIGLEY[1], "limit": 2}
    )
    assert [row["user"]["name"] for row in response.json] == ["Near Nia", "Mid Mo"]


def test_an_appointment_s_site_and_what_each_is_doing_now(
    db: Session, org: Organization, dispatcher_client: ApiClient, team: dict[str, User]
) -> None:
    busy = make_appointment(db, org, technician=team["mid"], status="enroute")
    wanted = make_appointment(db, org, technician=None, status="scheduled")
    response = dispatcher_client.get(
        "/v1/dispatch/nearest", query_string={"appointment_id": str(wanted.id)}
    )
    assert response.status_code == 200, response.json
    assert [row["user"]["name"] for row in response.json] == ["Near Nia", "Mid Mo", "Far Fay"]
    assert response.json[1]["current_appointment_id"] == str(busy.id)
    assert response.json[0]["current_appointment_id"] is None


def test_bad_places_are_4xx(
    db: Session,
    org: Organization,
    dispatcher_client: ApiClient,
    tech_client: ApiClient,
    make_org: Callable[..., Organization],
) -> None:
    def status(query: dict[str, Any]) -> int:
        return dispatcher_client.get("/v1/dispatch/nearest", query_string=query).status_code

    assert status({}) == 422
    assert status({"lat": 41.9}) == 422
    assert status({"lat": 95, "lon": 0}) == 422
    assert status({"lat": "NaN", "lon": 0}) == 422
    assert status({"lat": 41.9, "lon": -87.6, "limit": 0}) == 422
    assert status({"appointment_id": str(uuid.uuid4())}) == 404
    other = make_appointment(db, make_org(name="Elsewhere"), technician=None, status="scheduled")
    assert status({"appointment_id": str(other.id)}) == 404
    unsited = make_appointment(db, org, technician=None, status="scheduled", site=None)
    assert status({"appointment_id": str(unsited.id)}) == 422
    assert (
        tech_client.get(
            "/v1/dispatch/nearest", query_string={"lat": 41.9, "lon": -87.6}
        ).status_code
        == 403
    )


def test_another_organization_s_technicians_never_show(
    db: Session,
    dispatcher_client: ApiClient,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
) -> None:
    stranger = make_user(make_org(name="Elsewhere"), role="technician")
    place_at(db, stranger, *WRIGLEY, age=timedelta(seconds=5))
    response = dispatcher_client.get(
        "/v1/dispatch/nearest", query_string={"lat": WRIGLEY[0], "lon": WRIGLEY[1]}
    )
    assert response.json == []


def test_one_statement_whatever_the_team_size(
    db: Session,
    org: Organization,
    make_user: Callable[..., User],
    dispatcher_client: ApiClient,
    count_queries: Callable[[], Any],
) -> None:
    def statements() -> int:
        with count_queries() as counted:
            response = dispatcher_client.get(
                "/v1/dispatch/nearest", query_string={"lat": WRIGLEY[0], "lon": WRIGLEY[1]}
            )
        assert response.status_code == 200
        return len(counted)

    place_at(db, make_user(org, role="technician"), 41.95, -87.65, age=timedelta(seconds=5))
    # The first search fits the organization's trips and stores the fit: two more.
    first, small = statements(), statements()
    for n in range(30):
        place_at(db, make_user(org, role="technician"), 41.9 + n / 1e3, -87.6, age=timedelta(0))
    # Authentication, the organization's stored ETA fit, the one statement.
    assert statements() == small <= 3
    assert first == small + 2


def test_the_shortlist_is_a_knn_walk_of_the_gist_index(db: Session, org: Organization) -> None:
    """The plan can walk the index in `<->` order within the organization and stop at the
    limit; the bench (scripts/bench_nearest) measures it at 10,000 technicians."""
    db.execute(text("SET LOCAL enable_seqscan = off"))
    db.execute(text("SET LOCAL enable_bitmapscan = off"))
    params = nearest_params(
        org.id, Place(*WRIGLEY), now=utcnow(), max_age=timedelta(minutes=15), limit=10
    )
    plan = "\n".join(row[0] for row in db.execute(text(f"EXPLAIN {NEAREST_SQL}"), params))
    assert "ix_latest_locations_organization_id_position" in plan, plan
    assert 'Order By: ("position" <->' in plan, plan


def test_the_bench_script_runs() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "bench_nearest.py"
    result = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "--technicians" in result.stdout


def test_a_member_s_current_visit_is_read_from_the_index_of_current_visits(
    db: Session,
    org: Organization,
    make_user: Callable[..., User],
    dispatcher_client: ApiClient,
    query_plans: Callable[[], Any],
) -> None:
    # Not the member's every visit ever: the partial index holds the en route and started.
    tech = make_user(org, role="technician")
    place_at(db, tech, 41.95, -87.65, age=timedelta(seconds=5))
    make_appointment(db, org, technician=tech, status="enroute")
    with query_plans() as plans:
        for path in ("/v1/dispatch/nearest", "/v1/team/locations"):
            answer = dispatcher_client.get(path, query_string={"lat": 41.95, "lon": -87.65})
            assert answer.status_code == 200, answer.json
    for fragment in ("ORDER BY l.position <->", "FROM latest_locations l"):
        plan = plan_of(plans, fragment, "'enroute', 'started'")
        assert "ix_appointments_current_technician_id_updated_at" in plan, plan
