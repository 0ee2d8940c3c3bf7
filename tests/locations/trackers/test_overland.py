"""/ingest/overland: Overland's batches of GeoJSON Features, replayed as the app sends them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from fieldapi.db import utcnow
from tests.conftest import ApiClient
from tests.locations.conftest import latest, stored_pings


def feature(moment: datetime, lat: float = 41.88, lon: float = -87.63, **props: Any) -> dict:
    properties = {
        "timestamp": moment.isoformat().replace("+00:00", "Z"),
        "altitude": 181,
        "speed": 4,
        "horizontal_accuracy": 5,
        "vertical_accuracy": 3,
        "motion": ["driving"],
        "battery_state": "unplugged",
        "battery_level": 0.8,
        "wifi": "",
        "device_id": "sam-iphone",
        **props,
    }
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }


def post(client: ApiClient, token: str, body: Any) -> Any:
    return client.client.post(
        "/ingest/overland", json=body, headers={"Authorization": f"Bearer {token}"}
    )


@pytest.fixture
def start() -> datetime:
    return (utcnow() - timedelta(hours=1)).replace(microsecond=0)


def test_a_batch_of_200_with_duplicates_is_stored_once_and_answered_ok(
    client: ApiClient, tech: User, db: Session, device_token: str, start: datetime
) -> None:
    features = [feature(start + timedelta(seconds=10 * i), 41.88 + i * 1e-4) for i in range(190)]
    features += features[:10]  # the app re-sends part of an earlier batch
    body = {"locations": features, "current": features[-1], "trip": {"mode": "car"}}
    response = post(client, device_token, body)
    assert response.status_code == 200
    assert response.json["result"] == "ok"
    assert (response.json["stored"], response.json["duplicates"]) == (190, 10)
    rows = stored_pings(db, tech.id)
    assert len(rows) == 190
    assert rows[0]["speed_mps"] == 4 and rows[0]["battery_pct"] == pytest.approx(80)
    assert rows[0]["accuracy_m"] == 5 and rows[0]["altitude_m"] == 181
    newest = latest(db, tech.id)
    assert newest is not None and newest["recorded_at"] == start + timedelta(seconds=1890)
    again = post(client, device_token, body)
    assert again.json == {"result": "ok", "stored": 0, "duplicates": 200, "rejected": []}


def test_a_partly_bad_batch_stores_the_good_and_still_answers_ok(
    client: ApiClient, tech: User, db: Session, device_token: str, start: datetime
) -> None:
    """Anything but ok makes Overland send the whole batch again, forever: the bad
    locations would never become good. So: ok, and which ones were refused."""
    features: list[Any] = [
        feature(start),
        feature(start + timedelta(seconds=5), speed=10_000),
        feature(datetime(1970, 1, 2, tzinfo=start.tzinfo)),
        {"type": "Feature", "geometry": None, "properties": {}},
        "garbage",
        feature(start + timedelta(seconds=10), speed=-1, battery_level=-1),
    ]
    response = post(client, device_token, {"locations": features})
    assert response.status_code == 200
    assert response.json["result"] == "ok"
    assert response.json["stored"] == 2
    assert [r["index"] for r in response.json["rejected"]] == [1, 2, 3, 4]
    rows = stored_pings(db, tech.id)
    assert [r["recorded_at"] for r in rows] == [start, start + timedelta(seconds=10)]
    assert rows[1]["speed_mps"] is None and rows[1]["battery_pct"] is None


def test_an_unknown_or_missing_token_is_401_and_stores_nothing(
    client: ApiClient, tech: User, db: Session, device_token: str, start: datetime
) -> None:
    body = {"locations": [feature(start)]}
    assert post(client, "trk_wrong", body).status_code == 401
    assert client.client.post("/ingest/overland", json=body).status_code == 401
    assert stored_pings(db, tech.id) == []


def test_bodies_that_are_not_overland_batches_are_400(
    client: ApiClient, tech: User, db: Session, device_token: str, start: datetime
) -> None:
    headers = {"Authorization": f"Bearer {device_token}"}
    for body in ([feature(start)], {"locations": "x"}, {"type": "FeatureCollection"}):
        assert post(client, device_token, body).status_code == 400
    form = client.client.post("/ingest/overland", data={"locations": "[]"}, headers=headers)
    assert form.status_code == 415  # the project's rule: a body is JSON unless declared
    too_many = post(client, device_token, {"locations": [feature(start)] * 1001})
    assert too_many.status_code == 400
    too_big = client.client.post(
        "/ingest/overland",
        data=b" " * (10 * 1024 * 1024),
        headers=headers,
        content_type="application/json",
    )
    assert too_big.status_code == 413
    assert stored_pings(db, tech.id) == []


def test_an_empty_batch_is_ok(client: ApiClient, device_token: str) -> None:
    response = post(client, device_token, {"locations": []})
    assert response.status_code == 200 and response.json["result"] == "ok"
