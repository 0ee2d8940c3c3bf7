"""Location privacy: working hours (pings outside them stored nowhere, from any app) and
the log of track reads a user can list (GET /v1/me/track-views)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from tests.conftest import ApiClient
from tests.locations.conftest import iso, latest, ping, post_pings, stored_pings

CHICAGO_TZ = ZoneInfo("America/Chicago")  # the make_org default


def a_moment_away_from_midnight() -> datetime:
    """A recent whole minute whose Chicago time is far enough from midnight for a one-hour
    span around it to stay on its day."""
    moment = (utcnow() - timedelta(hours=1)).replace(second=0, microsecond=0)
    while not 2 <= moment.astimezone(CHICAGO_TZ).hour <= 21:
        moment -= timedelta(hours=1)
    return moment


@pytest.fixture
def inside() -> datetime:
    return a_moment_away_from_midnight()


@pytest.fixture
def outside(inside: datetime) -> datetime:
    return inside - timedelta(hours=2)


@pytest.fixture
def working_hours(dispatcher_client: ApiClient, inside: datetime) -> None:
    local = inside.astimezone(CHICAGO_TZ)
    span = {
        "weekday": local.weekday(),
        "starts": (local - timedelta(minutes=30)).strftime("%H:%M"),
        "ends": (local + timedelta(minutes=30)).strftime("%H:%M"),
    }
    response = dispatcher_client.put("/v1/settings/working-hours", json={"hours": [span]})
    assert response.status_code == 200, response.json
    assert response.json["timezone"] == "America/Chicago"
    assert response.json["hours"] == [
        {**span, "starts": span["starts"] + ":00", "ends": span["ends"] + ":00"}
    ]


def test_without_working_hours_pings_are_taken_at_any_time(
    tech_client: ApiClient, tech: User, db: Session, outside: datetime
) -> None:
    assert tech_client.get("/v1/settings/working-hours").json["hours"] == []
    assert post_pings(tech_client, [ping(outside)]).json["stored"] == 1


@pytest.mark.usefixtures("working_hours")
def test_a_single_ping_outside_the_hours_is_refused_and_stored_nowhere(
    tech_client: ApiClient, tech: User, db: Session, inside: datetime, outside: datetime
) -> None:
    refused = post_pings(tech_client, [ping(outside)])
    assert refused.status_code == 200
    assert refused.json["stored"] == 0
    assert "working hours" in refused.json["rejected"][0]["message"]
    assert stored_pings(db, tech.id) == [] and latest(db, tech.id) is None
    assert post_pings(tech_client, [ping(inside)]).json["stored"] == 1
    assert [r["recorded_at"] for r in stored_pings(db, tech.id)] == [inside]


@pytest.mark.usefixtures("working_hours")
def test_a_batch_across_the_edge_keeps_only_the_pings_inside(
    tech_client: ApiClient, tech: User, db: Session, inside: datetime
) -> None:
    edge = inside - timedelta(minutes=30)
    pings = [ping(edge + timedelta(minutes=m), 41.8 + m / 1e4) for m in (-2, -1, 0, 1, 2)]
    response = post_pings(tech_client, pings)
    assert response.json["stored"] == 3
    assert [r["index"] for r in response.json["rejected"]] == [0, 1]
    assert response.json["duplicates"] == 0
    assert [r["recorded_at"] for r in stored_pings(db, tech.id)] == [
        edge + timedelta(minutes=m) for m in (0, 1, 2)
    ]


@pytest.mark.usefixtures("working_hours")
def test_tracker_apps_outside_the_hours_store_nothing_either(
    client: ApiClient, tech_client: ApiClient, tech: User, db: Session, outside: datetime
) -> None:
    token = tech_client.post("/v1/me/devices", json={"name": "phone"}).json["token"]
    stamp = int(outside.timestamp())
    osmand = client.client.get(f"/ingest/osmand?id={token}&lat=41.8&lon=-87.6&timestamp={stamp}")
    assert osmand.status_code == 200
    assert "working hours" in osmand.headers["X-Fieldapi-Rejected"]
    basic = base64.b64encode(f"sam:{token}".encode()).decode()
    owntracks = client.client.post(
        "/ingest/owntracks",
        json={"_type": "location", "lat": 41.8, "lon": -87.6, "tst": stamp + 1},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert owntracks.status_code == 200 and owntracks.json == []
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-87.6, 41.8]},
        "properties": {"timestamp": iso(outside + timedelta(seconds=2))},
    }
    overland = client.client.post(
        "/ingest/overland",
        json={"locations": [feature]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert overland.json["result"] == "ok" and overland.json["stored"] == 0
    assert stored_pings(db, tech.id) == []


def test_only_dispatchers_set_the_hours_and_bad_hours_are_422(
    tech_client: ApiClient, dispatcher_client: ApiClient
) -> None:
    span = {"weekday": 0, "starts": "08:00", "ends": "17:00"}
    assert tech_client.put("/v1/settings/working-hours", json={"hours": [span]}).status_code == 403
    for hours in (
        [span, span],
        [{**span, "starts": "18:00"}],
        [{**span, "weekday": 7}],
        [{**span, "ends": "25:00"}],
        "always",
    ):
        response = dispatcher_client.put("/v1/settings/working-hours", json={"hours": hours})
        assert response.status_code == 422, hours
    assert dispatcher_client.get("/v1/settings/working-hours").json["hours"] == []
    lifted = dispatcher_client.put("/v1/settings/working-hours", json={"hours": []})
    assert lifted.status_code == 200 and lifted.json["hours"] == []


def test_every_track_read_is_listed_to_the_user_whose_track_it_is(
    tech_client: ApiClient,
    tech: User,
    dispatcher_client: ApiClient,
    dispatcher: User,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
) -> None:
    until = utcnow().replace(microsecond=0)
    since = until - timedelta(hours=3)
    window = {"since": iso(since), "until": iso(until)}
    assert tech_client.get("/v1/me/track-views").json == []
    assert (
        dispatcher_client.get(f"/v1/users/{tech.id}/track", query_string=window).status_code == 200
    )
    intruder = login_as(make_user(make_org(name="Elsewhere"), role="dispatcher"))
    assert intruder.get(f"/v1/users/{tech.id}/track", query_string=window).status_code == 404
    views = tech_client.get("/v1/me/track-views").json
    assert len(views) == 1
    assert views[0]["viewer"] == {"id": str(dispatcher.id), "name": dispatcher.name}
    assert (views[0]["since"], views[0]["until"]) == (
        since.isoformat(),
        until.isoformat(),
    )
    assert dispatcher_client.get("/v1/me/track-views").json == []
