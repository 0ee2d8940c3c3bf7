"""/ingest/osmand: Traccar Client and OsmAnd, replayed as the apps send their positions."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from fieldapi.db import utcnow
from tests.conftest import ApiClient
from tests.locations.conftest import latest, stored_pings

KNOT = 1852 / 3600


def at(seconds_ago: int) -> datetime:
    return (utcnow() - timedelta(seconds=seconds_ago)).replace(microsecond=0)


def test_traccar_client_s_query_string_post_with_knots_and_epoch_seconds(
    client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    moment = at(120)
    query = (
        f"id={device_token}&timestamp={int(moment.timestamp())}&lat=41.8781&lon=-87.6298"
        "&speed=10.0&bearing=271.5&altitude=181.0&accuracy=6.0&batt=87.0&charge=false"
    )
    response = client.client.post(f"/ingest/osmand?{query}", data=b"")
    assert response.status_code == 200
    assert response.data == b""
    [row] = stored_pings(db, tech.id)
    assert row["recorded_at"] == moment
    assert (row["lat"], row["lon"]) == (41.8781, -87.6298)
    assert row["speed_mps"] == pytest.approx(10 * KNOT, rel=1e-6)
    assert (row["heading_deg"], row["altitude_m"], row["accuracy_m"]) == (271.5, 181.0, 6.0)
    assert row["battery_pct"] == 87.0
    assert latest(db, tech.id) is not None


def test_osmand_s_get_with_milliseconds_and_hdop(
    client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    moment = at(60)
    millis = int(moment.timestamp() * 1000) + 250
    response = client.client.get(
        f"/ingest/osmand?id={device_token}&lat=41.9&lon=-87.65&timestamp={millis}"
        "&hdop=1.2&altitude=190&speed=0"
    )
    assert response.status_code == 200 and response.data == b""
    [row] = stored_pings(db, tech.id)
    assert row["recorded_at"] == moment + timedelta(milliseconds=250)
    assert row["speed_mps"] == 0.0


@pytest.mark.parametrize(
    "stamp",
    ["{iso}", "{plain}"],
    ids=["iso 8601", "yyyy-MM-dd HH:mm:ss"],
)
def test_text_timestamps_and_the_location_field(
    client: ApiClient, tech: User, db: Session, device_token: str, stamp: str
) -> None:
    moment = at(300)
    text = stamp.format(
        iso=moment.isoformat().replace("+00:00", "Z"), plain=moment.strftime("%Y-%m-%d %H:%M:%S")
    )
    response = client.client.get(
        "/ingest/osmand",
        query_string={"deviceid": device_token, "location": "41.8,-87.6", "timestamp": text},
    )
    assert response.status_code == 200
    [row] = stored_pings(db, tech.id)
    assert (row["recorded_at"], row["lat"], row["lon"]) == (moment, 41.8, -87.6)


def test_a_position_without_a_timestamp_is_taken_as_of_now(
    client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    before = utcnow()
    response = client.client.get(f"/ingest/osmand?id={device_token}&lat=41.8&lon=-87.6")
    assert response.status_code == 200
    [row] = stored_pings(db, tech.id)
    assert before <= row["recorded_at"] <= utcnow()


def test_a_form_body_when_the_query_is_empty(
    client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    moment = at(30)
    response = client.client.post(
        "/ingest/osmand",
        data={
            "id": device_token,
            "lat": "41.87",
            "lon": "-87.62",
            "timestamp": str(int(moment.timestamp())),
        },
    )
    assert response.status_code == 200
    [row] = stored_pings(db, tech.id)
    assert (row["recorded_at"], row["lat"]) == (moment, 41.87)


def test_traccar_client_s_json_location_with_unknown_speed_and_a_0_to_1_battery(
    client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    moment = at(90)
    body = {
        "location": {
            "timestamp": moment.isoformat().replace("+00:00", ".000Z"),
            "coords": {
                "latitude": 41.8781,
                "longitude": -87.6298,
                "accuracy": 4.5,
                "speed": -1,
                "heading": -1,
                "altitude": 179.2,
            },
            "is_moving": False,
            "odometer": 0,
            "event": "motionchange",
            "battery": {"level": 0.62, "is_charging": False},
            "activity": {"type": "still"},
        },
        "device_id": device_token,
    }
    response = client.client.post("/ingest/osmand", json=body)
    assert response.status_code == 200 and response.data == b""
    [row] = stored_pings(db, tech.id)
    assert row["recorded_at"] == moment
    assert row["speed_mps"] is None and row["heading_deg"] is None
    assert row["battery_pct"] == pytest.approx(62.0)
    assert (row["accuracy_m"], row["altitude_m"]) == (4.5, pytest.approx(179.2))


def test_the_sdk_s_json_array_of_flat_objects_with_a_resent_duplicate(
    client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    times = [int(at(s).timestamp()) for s in (200, 100)]
    flat = [
        {"id": device_token, "lat": 41.87, "lon": -87.62, "timestamp": t, "speed": 2.0}
        for t in times
    ]
    assert client.client.post("/ingest/osmand", json=flat).status_code == 200
    assert client.client.post("/ingest/osmand", json=flat[1:]).status_code == 200
    rows = stored_pings(db, tech.id)
    assert [int(r["recorded_at"].timestamp()) for r in rows] == times
    assert rows[0]["speed_mps"] == pytest.approx(2 * KNOT, rel=1e-6)


def test_an_unknown_token_is_400_and_stores_nothing(
    client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    for query in (
        "id=trk_nope&lat=41.8&lon=-87.6",
        "lat=41.8&lon=-87.6",
        f"id={device_token[:-2]}&lat=1&lon=1",
    ):
        response = client.client.get(f"/ingest/osmand?{query}")
        assert response.status_code == 400, query
        assert response.json["message"]
    assert stored_pings(db, tech.id) == []


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ("lat=abc&lon=-87.6", "lat must be a finite number"),
        ("lat=NaN&lon=-87.6", "lat must be a finite number"),
        ("lat=41.8&lon=-87.6&timestamp=0", "older than the retention window"),
        ("lat=41.8&lon=-87.6&timestamp=4102444800000", "in the future"),
        ("lat=41.8&lon=-87.6&speed=10000", "speed_mps must be between"),
        ("lat=41.8&lon=-87.6&timestamp=yesterday", "recorded_at"),
        ("lat=95&lon=-87.6", "lat must be between"),
    ],
)
def test_a_bad_fix_is_stored_nowhere_and_answered_200_so_the_queue_moves_on(
    client: ApiClient, tech: User, db: Session, device_token: str, fields: str, reason: str
) -> None:
    """Traccar Client retries a non-200 answer forever, oldest first: a fix that can never
    be stored would hold every later one behind it. So it is dropped with a 200 whose
    header says why."""
    response = client.client.get(f"/ingest/osmand?id={device_token}&{fields}")
    assert response.status_code == 200 and response.data == b""
    assert reason in response.headers["X-Fieldapi-Rejected"]
    assert stored_pings(db, tech.id) == []
    assert latest(db, tech.id) is None


def test_json_declared_but_not_json_and_json_sent_as_a_form_are_400(
    client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    not_json = client.client.post(
        f"/ingest/osmand?id={device_token}", data=b"lat=1&lon=2", content_type="application/json"
    )
    assert not_json.status_code == 400 and "JSON" in not_json.json["message"]
    body = json.dumps({"device_id": device_token, "location": {"coords": {}}})
    as_form = client.client.post(
        "/ingest/osmand", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert as_form.status_code == 400
    wrong_shape = client.client.post("/ingest/osmand", json={"device_id": device_token})
    assert wrong_shape.status_code == 400
    assert client.client.post("/ingest/osmand", json=[]).status_code == 400
    assert stored_pings(db, tech.id) == []


def test_a_body_over_the_json_limit_is_413(client: ApiClient, tech: User, db: Session) -> None:
    response = client.client.post(
        "/ingest/osmand", data=b"x" * (10 * 1024 * 1024), content_type="application/json"
    )
    assert response.status_code == 413
    assert stored_pings(db, tech.id) == []


def test_an_off_duty_technician_s_fix_is_dropped(
    tech_client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    assert tech_client.put("/v1/me/duty", json={"on_duty": False}).status_code == 200
    response = tech_client.client.get(f"/ingest/osmand?id={device_token}&lat=41.8&lon=-87.6")
    assert response.status_code == 200
    assert "off duty" in response.headers["X-Fieldapi-Rejected"]
    assert stored_pings(db, tech.id) == []


def test_epoch_seconds_and_milliseconds_of_the_same_instant_are_one_position(
    client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    moment = datetime.fromtimestamp(int(at(50).timestamp()), UTC)
    for stamp in (int(moment.timestamp()), int(moment.timestamp() * 1000)):
        client.client.get(f"/ingest/osmand?id={device_token}&lat=41.8&lon=-87.6&timestamp={stamp}")
    assert [r["recorded_at"] for r in stored_pings(db, tech.id)] == [moment]


def test_one_fix_is_one_statement_that_also_checks_the_device_token(
    client: ApiClient,
    tech: User,
    db: Session,
    device_token: str,
    count_queries: Callable[[], Any],
) -> None:
    # Traccar Client sends one position per request: that request is the fleet's hot path.
    def send(moment: datetime, token: str = device_token) -> int:
        stamp = int(moment.timestamp())
        query = f"id={token}&timestamp={stamp}&lat=41.8781&lon=-87.6298&accuracy=6.0"
        return client.client.post(f"/ingest/osmand?{query}", data=b"").status_code

    first, second = at(120), at(60)
    assert send(first) == 200
    with count_queries() as counted:
        assert send(second) == 200
    assert len(counted) == 1
    assert "tracker_devices" in counted[0] and "location_pings" in counted[0]
    assert [row["recorded_at"] for row in stored_pings(db, tech.id)] == [first, second]
    # A token that is no device's is still refused, by the general path, and stores nothing.
    assert send(at(30), token="trk_" + "x" * 40) == 400
    assert len(stored_pings(db, tech.id)) == 2
