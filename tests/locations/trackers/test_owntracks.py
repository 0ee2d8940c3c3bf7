"""/ingest/owntracks: OwnTracks in HTTP mode, replayed as the app posts its messages."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from fieldapi.db import utcnow
from tests.conftest import ApiClient
from tests.locations.conftest import stored_pings


def basic(password: str, user: str = "sam") -> dict[str, str]:
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}", "X-Limit-U": user, "X-Limit-D": "phone"}


def tst(seconds_ago: int = 60) -> int:
    return int((utcnow() - timedelta(seconds=seconds_ago)).timestamp())


def post(client: ApiClient, token: str, body: object) -> object:
    return client.client.post("/ingest/owntracks", json=body, headers=basic(token))


def test_a_location_message_in_km_h_is_stored_and_answered_an_empty_array(
    client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    message = {
        "_type": "location",
        "acc": 12,
        "alt": 182,
        "batt": 81,
        "bs": 1,
        "cog": 270,
        "conn": "m",
        "lat": 41.8781,
        "lon": -87.6298,
        "t": "u",
        "tid": "SO",
        "tst": tst(),
        "vac": 3,
        "vel": 36,
        "topic": "owntracks/sam/phone",
    }
    response = post(client, device_token, message)
    assert response.status_code == 200
    assert response.json == []
    [row] = stored_pings(db, tech.id)
    assert int(row["recorded_at"].timestamp()) == message["tst"]
    assert row["speed_mps"] == pytest.approx(10.0)
    assert (row["heading_deg"], row["accuracy_m"], row["altitude_m"]) == (270, 12, 182)
    assert row["battery_pct"] == 81


def test_zero_fields_left_out_on_the_prime_meridian(
    client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    """The apps leave out fields that are zero: no lon at Greenwich, no vel when still."""
    response = post(client, device_token, {"_type": "location", "lat": 51.4779, "tst": tst()})
    assert response.status_code == 200 and response.json == []
    [row] = stored_pings(db, tech.id)
    assert (row["lat"], row["lon"]) == (51.4779, 0.0)
    assert row["speed_mps"] is None and row["accuracy_m"] is None


@pytest.mark.parametrize(
    "message",
    [
        {"_type": "transition", "event": "leave", "desc": "Shop", "tst": 1, "wtst": 1},
        {"_type": "lwt", "tst": 1},
        {"_type": "waypoint", "desc": "Home", "lat": 1, "lon": 2, "rad": 50, "tst": 1},
        {"_type": "status"},
    ],
    ids=lambda m: m["_type"],
)
def test_other_message_types_are_accepted_and_store_no_position(
    client: ApiClient, tech: User, db: Session, device_token: str, message: dict[str, object]
) -> None:
    response = post(client, device_token, message)
    assert response.status_code == 200 and response.json == []
    assert stored_pings(db, tech.id) == []


def test_an_empty_body_is_accepted(client: ApiClient, device_token: str) -> None:
    response = client.client.post(
        "/ingest/owntracks", data=b"", headers=basic(device_token), content_type="application/json"
    )
    assert response.status_code == 200 and response.json == []


def test_a_resent_message_is_a_duplicate(
    client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    message = {"_type": "location", "lat": 41.9, "lon": -87.6, "tst": tst()}
    assert post(client, device_token, message).status_code == 200
    assert post(client, device_token, message).status_code == 200
    assert len(stored_pings(db, tech.id)) == 1


def test_an_unknown_or_missing_token_is_401_and_stores_nothing(
    client: ApiClient, tech_client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    message = {"_type": "location", "lat": 41.9, "lon": -87.6, "tst": tst()}
    wrong = post(client, "trk_wrong", message)
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    assert client.client.post("/ingest/owntracks", json=message).status_code == 401
    garbled = client.client.post(
        "/ingest/owntracks", json=message, headers={"Authorization": "Basic !!!"}
    )
    assert garbled.status_code == 401
    assert tech_client.token is not None  # a session token is not a device token
    assert post(client, tech_client.token, message).status_code == 401
    assert stored_pings(db, tech.id) == []


@pytest.mark.parametrize(
    "message",
    [
        {"_type": "location", "lat": "north", "lon": -87.6, "tst": 1_700_000_000},
        {"_type": "location", "lat": 41.9, "lon": -87.6, "tst": 0},
        {"_type": "location", "lat": 41.9, "lon": -87.6, "tst": 32503680000},
        {"_type": "location", "lat": 41.9, "lon": -87.6},
        {"_type": "location", "lat": 41.9, "lon": -87.6, "tst": 1e300},
        {"_type": "location", "lat": 41.9, "lon": -87.6, "vel": 50_000, "tst": "{now}"},
    ],
    ids=["garbage lat", "1970", "year 3000", "no tst", "huge tst", "50,000 km/h"],
)
def test_a_bad_fix_is_stored_nowhere_and_answered_so_the_app_moves_on(
    client: ApiClient, tech: User, db: Session, device_token: str, message: dict[str, object]
) -> None:
    if message.get("tst") == "{now}":
        message = {**message, "tst": tst()}
    response = post(client, device_token, message)
    assert response.status_code == 200 and response.json == []
    assert response.headers["X-Fieldapi-Rejected"].startswith("1; ")
    assert stored_pings(db, tech.id) == []


def test_bodies_that_are_not_owntracks_messages_are_400(
    client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    form = client.client.post(
        "/ingest/owntracks", data={"lat": "1", "lon": "2"}, headers=basic(device_token)
    )
    assert form.status_code == 415  # the project's rule: a body is JSON unless declared
    for body in ([{"_type": "location"}], {"lat": 1, "lon": 2}, "location"):
        assert post(client, device_token, body).status_code == 400
    too_big = client.client.post(
        "/ingest/owntracks",
        data=b"[" * (10 * 1024 * 1024),
        headers=basic(device_token),
        content_type="application/json",
    )
    assert too_big.status_code == 413
    assert stored_pings(db, tech.id) == []
