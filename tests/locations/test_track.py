"""GET /v1/users/<id>/track: a LineString of a user's good fixes in a window."""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from fieldapi.accounts.models import Organization, User
from tests.conftest import ApiClient
from tests.locations.conftest import CHICAGO, NEW_YORK, iso, ping, post_pings
from tests.test_app import assert_error_shape


def track_path(user: User | uuid.UUID, since: datetime, until: datetime, **extra: Any) -> str:
    user_id = user if isinstance(user, uuid.UUID) else user.id
    query = urllib.parse.urlencode({"since": iso(since), "until": iso(until), **extra})
    return f"/v1/users/{user_id}/track?{query}"


@pytest.fixture
def driven(tech_client: ApiClient, base_time: datetime) -> list[dict[str, Any]]:
    """Ten minutes north along a street, a ping a minute, with a jump and a bad fix."""
    pings = [
        ping(base_time + timedelta(minutes=n), CHICAGO[0] + n / 200, CHICAGO[1], accuracy_m=8)
        for n in range(10)
    ]
    pings.insert(3, ping(base_time + timedelta(minutes=2, seconds=30), *NEW_YORK))
    pings.insert(6, ping(base_time + timedelta(minutes=4, seconds=30), 41.0, -87.0, accuracy_m=900))
    assert post_pings(tech_client, pings).json["stored"] == 12
    return pings


def test_the_track_is_the_line_of_good_fixes_with_their_times(
    dispatcher_client: ApiClient, tech: User, driven: Any, base_time: datetime
) -> None:
    since, until = base_time - timedelta(minutes=1), base_time + timedelta(minutes=20)
    response = dispatcher_client.get(track_path(tech, since, until))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["type"] == "Feature"
    assert body["id"] == str(tech.id)
    assert body["geometry"]["type"] == "LineString"
    assert body["geometry"]["coordinates"] == [
        [CHICAGO[1], round(CHICAGO[0] + n / 200, 7)] for n in range(10)
    ]
    assert body["properties"]["times"] == [iso(base_time + timedelta(minutes=n)) for n in range(10)]
    assert body["properties"]["user_id"] == str(tech.id)
    assert body["properties"]["since"] == iso(since)
    assert body["properties"]["until"] == iso(until)


def test_the_window_bounds_are_inclusive(
    dispatcher_client: ApiClient, tech: User, driven: Any, base_time: datetime
) -> None:
    response = dispatcher_client.get(
        track_path(tech, base_time + timedelta(minutes=2), base_time + timedelta(minutes=5))
    )
    assert response.json["properties"]["times"] == [
        iso(base_time + timedelta(minutes=n)) for n in (2, 3, 4, 5)
    ]


def test_one_fix_is_a_point_and_none_is_a_null_geometry(
    dispatcher_client: ApiClient, tech: User, driven: Any, base_time: datetime
) -> None:
    one = dispatcher_client.get(
        track_path(tech, base_time + timedelta(seconds=30), base_time + timedelta(seconds=90))
    ).json
    assert one["geometry"] == {"type": "Point", "coordinates": [CHICAGO[1], 41.8831]}
    assert one["properties"]["times"] == [iso(base_time + timedelta(minutes=1))]
    none = dispatcher_client.get(
        track_path(tech, base_time - timedelta(days=2), base_time - timedelta(days=1))
    ).json
    assert none["geometry"] is None
    assert none["properties"]["times"] == []


def test_tolerance_simplifies_and_keeps_the_times_of_the_kept_vertices(
    tech_client: ApiClient, dispatcher_client: ApiClient, tech: User, base_time: datetime
) -> None:
    # North for 10 minutes, then east for 10: straight legs with 3 m of wobble.
    pings = []
    for n in range(21):
        lat = CHICAGO[0] + min(n, 10) / 200
        lon = CHICAGO[1] + max(0, n - 10) / 150 + (0.00003 if n % 2 else 0)
        pings.append(ping(base_time + timedelta(minutes=n), lat, lon, accuracy_m=5))
    assert post_pings(tech_client, pings).json["stored"] == 21
    path = track_path(tech, base_time, base_time + timedelta(minutes=30), tolerance_m=25)
    body = dispatcher_client.get(path).json
    coordinates = body["geometry"]["coordinates"]
    times = body["properties"]["times"]
    assert body["properties"]["tolerance_m"] == 25
    assert len(coordinates) == len(times) == 3  # start, the corner, the end
    assert times == [iso(base_time + timedelta(minutes=n)) for n in (0, 10, 20)]
    for (lon, lat), n in zip(coordinates, (0, 10, 20), strict=True):
        assert lon == pytest.approx(pings[n]["lon"], abs=1e-6)
        assert lat == pytest.approx(pings[n]["lat"], abs=1e-6)
    exact = dispatcher_client.get(path.replace("tolerance_m=25", "tolerance_m=0")).json
    assert len(exact["geometry"]["coordinates"]) == 21


def test_users_see_their_own_track(
    tech_client: ApiClient, tech: User, driven: Any, base_time: datetime
) -> None:
    response = tech_client.get(track_path(tech, base_time, base_time + timedelta(hours=1)))
    assert response.status_code == 200
    assert len(response.json["properties"]["times"]) == 10


def test_others_get_404(
    tech: User,
    driven: Any,
    org: Organization,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
    base_time: datetime,
) -> None:
    window = (base_time, base_time + timedelta(hours=1))
    colleague = login_as(make_user(org, name="Colleague"))
    outsider = login_as(make_user(make_org(name="Other Co"), role="dispatcher"))
    for client in (colleague, outsider):
        response = client.get(track_path(tech, *window))
        assert response.status_code == 404
        assert_error_shape(response.json, 404)
    assert colleague.get(track_path(uuid.uuid4(), *window)).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "2026-11-24T10:00:00", "until": "2026-11-24T11:00:00Z"}, "since"),
        ({"since": "2026-11-24T10:00:00Z", "until": "soon"}, "until"),
        ({"since": "2026-11-01T00:00:00Z", "until": "2026-11-08T00:00:01Z"}, "until"),
        ({"since": "2026-11-24T11:00:00Z", "until": "2026-11-24T10:00:00Z"}, "until"),
        (
            {"since": "2026-11-24T10:00:00Z", "until": "2026-11-24T11:00:00Z", "tolerance_m": -1},
            "tolerance_m",
        ),
        (
            {"since": "2026-11-24T10:00:00Z", "until": "2026-11-24T11:00:00Z", "tolerance_m": "x"},
            "tolerance_m",
        ),
    ],
)
def test_a_bad_window_is_422(
    dispatcher_client: ApiClient, tech: User, query: dict[str, Any], field: str
) -> None:
    response = dispatcher_client.get(f"/v1/users/{tech.id}/track?{urllib.parse.urlencode(query)}")
    assert response.status_code == 422
    assert_error_shape(response.json, 422)
    assert field in response.json["errors"]


def test_a_track_needs_a_token(client: ApiClient, tech: User) -> None:
    assert client.get(f"/v1/users/{tech.id}/track").status_code == 401


def test_exactly_seven_days_is_allowed(dispatcher_client: ApiClient, tech: User) -> None:
    query = {"since": "2026-11-01T00:00:00Z", "until": "2026-11-08T00:00:00+00:00"}
    response = dispatcher_client.get(f"/v1/users/{tech.id}/track?{urllib.parse.urlencode(query)}")
    assert response.status_code == 200
    assert response.json["geometry"] is None
