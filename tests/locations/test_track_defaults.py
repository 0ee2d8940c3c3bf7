"""GET /v1/users/<id>/track without `until` ends now; without `since` it starts 8 h before."""

from __future__ import annotations

from datetime import datetime, timedelta

from fieldapi.accounts.models import User
from fieldapi.db import utcnow
from tests.conftest import ApiClient
from tests.locations.conftest import CHICAGO, iso, ping, post_pings


def test_without_a_window_the_track_is_the_last_eight_hours(
    dispatcher_client: ApiClient, tech_client: ApiClient, tech: User
) -> None:
    now = utcnow().replace(microsecond=0)
    fixes = [now - timedelta(hours=9), now - timedelta(hours=7), now - timedelta(minutes=5)]
    pings = [ping(at, CHICAGO[0] + n / 100, CHICAGO[1]) for n, at in enumerate(fixes)]
    assert post_pings(tech_client, pings).json["stored"] == 3

    response = dispatcher_client.get(f"/v1/users/{tech.id}/track")

    assert response.status_code == 200, response.json
    assert response.json["properties"]["times"] == [iso(fixes[1]), iso(fixes[2])]
    until = datetime.fromisoformat(response.json["properties"]["until"])
    since = datetime.fromisoformat(response.json["properties"]["since"])
    assert now <= until <= utcnow()
    assert until - since == timedelta(hours=8)


def test_with_only_until_the_track_is_the_eight_hours_before_it(
    dispatcher_client: ApiClient, tech_client: ApiClient, tech: User
) -> None:
    until = utcnow().replace(microsecond=0) - timedelta(hours=3)
    fixes = [until - timedelta(hours=8, minutes=1), until - timedelta(hours=1)]
    pings = [ping(at, CHICAGO[0] + n / 100, CHICAGO[1]) for n, at in enumerate(fixes)]
    assert post_pings(tech_client, pings).json["stored"] == 2

    response = dispatcher_client.get(f"/v1/users/{tech.id}/track?until={iso(until)}")

    assert response.json["properties"]["times"] == [iso(fixes[1])]
    assert response.json["properties"]["since"] == iso(until - timedelta(hours=8))
