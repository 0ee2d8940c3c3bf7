"""POST /v1/locations: batches validated ping by ping, stored idempotently."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.locations.models import LocationPing
from tests.conftest import ApiClient
from tests.locations.conftest import (
    committed_technician,
    iso,
    latest,
    ping,
    post_pings,
    stored_pings,
)
from tests.test_app import assert_error_shape


def count_pings(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(LocationPing)) or 0


def test_a_batch_in_any_order_is_stored(
    tech_client: ApiClient, tech: User, db: Session, base_time: datetime
) -> None:
    pings = [
        ping(base_time + timedelta(seconds=20), 41.88, -87.63, accuracy_m=8, battery_pct=71),
        ping(base_time, 41.87, -87.62, accuracy_m=5, speed_mps=3.5, heading_deg=90),
        ping(base_time + timedelta(seconds=10), 41.875, -87.625, altitude_m=180.5),
    ]
    response = post_pings(tech_client, pings)
    assert response.status_code == 200, response.json
    assert response.json == {"stored": 3, "duplicates": 0, "rejected": []}
    rows = stored_pings(db, tech.id)
    assert [row["recorded_at"] for row in rows] == [
        base_time + timedelta(seconds=s) for s in (0, 10, 20)
    ]
    assert rows[0]["lat"] == 41.87 and rows[0]["lon"] == -87.62
    assert (rows[0]["accuracy_m"], rows[0]["speed_mps"], rows[0]["heading_deg"]) == (5, 3.5, 90)
    assert rows[1]["altitude_m"] == 180.5 and rows[1]["accuracy_m"] is None
    assert all(row["organization_id"] == tech.organization_id for row in rows)
    assert not any(row["impossible_jump"] for row in rows)
    newest = latest(db, tech.id)
    assert newest is not None
    assert newest["recorded_at"] == base_time + timedelta(seconds=20)
    assert (newest["lat"], newest["lon"], newest["battery_pct"]) == (41.88, -87.63, 71)


def test_offsets_are_stored_as_utc_to_the_microsecond(
    tech_client: ApiClient, tech: User, db: Session, base_time: datetime
) -> None:
    local = (base_time - timedelta(hours=6)).replace(tzinfo=None).isoformat() + ".123456-06:00"
    response = post_pings(tech_client, [{"recorded_at": local, "lat": 41.9, "lon": -87.6}])
    assert response.json["stored"] == 1
    assert stored_pings(db, tech.id)[0]["recorded_at"] == base_time.replace(microsecond=123456)


def test_the_same_pings_again_are_duplicates_and_change_nothing(
    tech_client: ApiClient, tech: User, db: Session, base_time: datetime
) -> None:
    first = [ping(base_time + timedelta(seconds=s), 41.8 + s / 1e4, -87.6) for s in range(5)]
    assert post_pings(tech_client, first).json["stored"] == 5
    before = (stored_pings(db, tech.id), latest(db, tech.id))
    # Same times, other positions (a phone retrying with a re-serialized buffer).
    again = [ping(base_time + timedelta(seconds=s), 40.0, -80.0) for s in range(5)]
    again.append(ping(base_time + timedelta(seconds=5), 41.8005, -87.6))
    response = post_pings(tech_client, again)
    assert response.json == {"stored": 1, "duplicates": 5, "rejected": []}
    rows = stored_pings(db, tech.id)
    assert rows[:5] == before[0]
    assert len(rows) == 6
    assert latest(db, tech.id)["recorded_at"] == base_time + timedelta(seconds=5)


def test_a_time_repeated_inside_a_batch_is_stored_once(
    tech_client: ApiClient, tech: User, db: Session, base_time: datetime
) -> None:
    response = post_pings(
        tech_client, [ping(base_time, 41.80, -87.6), ping(base_time, 41.81, -87.6)]
    )
    assert response.json == {"stored": 1, "duplicates": 1, "rejected": []}
    assert [row["lat"] for row in stored_pings(db, tech.id)] == [41.80]


def test_the_user_comes_from_the_token_not_the_body(
    tech_client: ApiClient,
    tech: User,
    org: Organization,
    make_user: Callable[..., User],
    db: Session,
    base_time: datetime,
) -> None:
    other = make_user(org)
    body = {"user_id": str(other.id), "pings": [ping(base_time, user_id=str(other.id))]}
    assert tech_client.post("/v1/locations", json=body).json["stored"] == 1
    assert len(stored_pings(db, tech.id)) == 1
    assert stored_pings(db, other.id) == []


def test_pings_need_a_token(client: ApiClient, db: Session, base_time: datetime) -> None:
    response = post_pings(client, [ping(base_time)])
    assert response.status_code == 401
    assert count_pings(db) == 0


NOW = "now"  # placeholder replaced by a time inside the window


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"lat": "41.8"}, "lat must be a finite number"),
        ({"lon": "-87.6"}, "lon must be a finite number"),
        ({"lat": True}, "lat must be a finite number"),
        ({"lat": 91}, "lat must be between -90 and 90"),
        ({"lat": -90.0001}, "lat must be between -90 and 90"),
        ({"lon": -181}, "lon must be between -180 and 180"),
        ({"lat": None}, "lat is required"),
        ({"recorded_at": None}, "recorded_at is required"),
        ({"recorded_at": "2026-11-24T14:05:00"}, "needs a UTC offset"),
        ({"recorded_at": "2026-11-24"}, "needs a UTC offset"),
        ({"recorded_at": "yesterday"}, "not a valid RFC 3339 time"),
        ({"recorded_at": 1764000000}, "must be an RFC 3339 time string"),
        ({"recorded_at": "1970-01-01T00:00:00Z"}, "older than the retention window"),
        ({"recorded_at": "2999-01-01T00:00:00Z"}, "more than 5 minutes in the future"),
        ({"accuracy_m": -1}, "accuracy_m must be between 0 and 100000"),
        ({"accuracy_m": "12"}, "accuracy_m must be a finite number"),
        ({"heading_deg": 360.5}, "heading_deg must be between 0 and 360"),
        ({"battery_pct": 101}, "battery_pct must be between 0 and 100"),
        ({"speed_mps": -0.1}, "speed_mps must be between 0 and 1000"),
        ({"altitude_m": 1e30}, "altitude_m must be between -1000 and 100000"),
    ],
)
def test_a_bad_ping_is_rejected_with_its_reason(
    tech_client: ApiClient, db: Session, base_time: datetime, bad: dict[str, Any], reason: str
) -> None:
    response = post_pings(tech_client, [ping(base_time), {**ping(base_time), **bad}])
    assert response.status_code == 200
    assert response.json["stored"] == 1
    [rejection] = response.json["rejected"]
    assert rejection["index"] == 1
    assert reason in rejection["message"]
    assert count_pings(db) == 1


def test_a_ping_a_minute_ahead_is_fine_but_ten_minutes_is_not(
    tech_client: ApiClient, db: Session
) -> None:
    now = utcnow()
    response = post_pings(
        tech_client, [ping(now + timedelta(minutes=1)), ping(now + timedelta(minutes=10))]
    )
    assert response.json["stored"] == 1
    assert [r["index"] for r in response.json["rejected"]] == [1]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_are_rejected_per_ping(
    tech_client: ApiClient, db: Session, base_time: datetime, constant: str
) -> None:
    good = json.dumps(ping(base_time))
    bad = (
        f'{{"recorded_at": "{iso(base_time + timedelta(seconds=1))}", "lat": {constant}, "lon": 1}}'
    )
    response = tech_client.post(
        "/v1/locations",
        data=f'{{"pings": [{good}, {bad}]}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json["stored"] == 1
    assert response.json["rejected"] == [{"index": 1, "message": "lat must be a finite number"}]
    assert count_pings(db) == 1


def test_an_integer_past_64_bits_is_one_pings_rejection(
    tech_client: ApiClient, db: Session, base_time: datetime
) -> None:
    """(orjson reads it as a float, json as an int: either way only that ping fails.)"""
    good = json.dumps(ping(base_time))
    bad = f'{{"recorded_at": "{iso(base_time)}", "lat": {10**30}, "lon": 1}}'
    response = tech_client.post(
        "/v1/locations",
        data=f'{{"pings": [{good}, {bad}]}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.json["stored"] == 1
    assert response.json["rejected"] == [{"index": 1, "message": "lat must be between -90 and 90"}]
    assert count_pings(db) == 1


def test_a_batch_of_only_bad_pings_is_answered_and_stores_nothing(
    tech_client: ApiClient, tech: User, db: Session, base_time: datetime
) -> None:
    pings: list[Any] = [
        "not a ping",
        [1, 2],
        {**ping(base_time), "lat": 91},
        {**ping(base_time), "recorded_at": "2999-01-01T00:00:00Z"},
    ]
    response = post_pings(tech_client, pings)
    assert response.status_code == 200
    assert response.json["stored"] == 0 and response.json["duplicates"] == 0
    assert [r["index"] for r in response.json["rejected"]] == [0, 1, 2, 3]
    assert response.json["rejected"][0]["message"] == "a ping must be a JSON object"
    assert count_pings(db) == 0
    assert latest(db, tech.id) is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("this is not json", 400),
        ('{"pings": [', 400),
        (b"\xff\xfe\x00", 400),
        ("[" * 100_000 + "]" * 100_000, 400),
        ("[]", 422),
        ('[{"recorded_at": "2026-11-24T14:05:00Z", "lat": 1, "lon": 1}]', 422),
        ('"pings"', 422),
        ("{}", 422),
        ('{"pings": []}', 422),
        ('{"pings": {"lat": 1}}', 422),
        ('{"pings": null}', 422),
        ('{"pings": NaN}', 422),
    ],
)
def test_a_bad_envelope_is_a_clear_4xx(
    tech_client: ApiClient, db: Session, body: str | bytes, status: int
) -> None:
    response = tech_client.post(
        "/v1/locations", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert_error_shape(response.json, status)
    assert count_pings(db) == 0


def test_501_pings_are_too_many(tech_client: ApiClient, db: Session, base_time: datetime) -> None:
    pings = [ping(base_time + timedelta(seconds=n)) for n in range(501)]
    response = post_pings(tech_client, pings)
    assert response.status_code == 413
    assert_error_shape(response.json, 413)
    assert "500" in response.json["message"]
    assert count_pings(db) == 0


def test_500_pings_are_fine(tech_client: ApiClient, db: Session, base_time: datetime) -> None:
    pings = [ping(base_time + timedelta(seconds=n), 41.8 + n / 1e5) for n in range(500)]
    assert post_pings(tech_client, pings).json["stored"] == 500
    assert count_pings(db) == 500


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_1_mib_is_413_json(
    tech_client: ApiClient, db: Session, base_time: datetime, chunked: bool
) -> None:
    padding = "x" * (2 * 1024 * 1024)
    body = json.dumps({"pings": [ping(base_time)], "padding": padding}).encode()
    if chunked:  # no Content-Length (as gunicorn passes a chunked body): checked on reading
        response = tech_client.post(
            "/v1/locations",
            input_stream=io.BytesIO(body),
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},
        )
    else:
        response = tech_client.post(
            "/v1/locations", data=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413
    assert response.is_json
    assert_error_shape(response.json, 413)
    assert count_pings(db) == 0


def test_a_whole_batch_takes_a_constant_number_of_statements(
    tech_client: ApiClient,
    tech: User,
    db: Session,
    base_time: datetime,
    count_queries: Callable[[], Any],
) -> None:
    def statements(pings: list[dict[str, Any]]) -> list[str]:
        with count_queries() as counted:
            response = post_pings(tech_client, pings)
        assert response.status_code == 200
        assert response.json["stored"] == len(pings)
        return counted

    one = statements([ping(base_time)])
    many = statements(
        [ping(base_time + timedelta(seconds=n), 41.8 + n / 1e5) for n in range(1, 501)]
    )
    # Authenticate, read what is stored around the batch, store: whatever the batch's size.
    assert len(many) == 3
    # A late upload, older than the latest position, costs the same.
    late = statements(
        [ping(base_time - timedelta(minutes=30) + timedelta(seconds=n)) for n in range(300)]
    )
    assert len(late) == len(many)
    # One new ping is one statement, authentication included (test_single_ping.py).
    assert len(one) == 1
    assert count_pings(db) == 801


class OtherUpload:
    """Another request's upload, not committed yet: its rows are invisible to our upload's
    first look, and our insert of the same keys waits on them until `commit()`."""

    def __init__(self, engine: Engine, user: User, pings: list[dict[str, Any]]) -> None:
        self.engine = engine
        self.connection = engine.connect()
        self.pid = self.connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        for one in pings:
            self.connection.execute(
                text(
                    "INSERT INTO location_pings (organization_id, user_id, recorded_at, "
                    "position, impossible_jump) VALUES (:org, :user, :at, "
                    "CAST(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geography), false)"
                ),
                {
                    "org": user.organization_id,
                    "user": user.id,
                    "at": one["recorded_at"],
                    "lat": one["lat"],
                    "lon": one["lon"],
                },
            )

    def __enter__(self) -> OtherUpload:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.connection.close()  # rolls back when a test failed before the commit

    def commit_once_waited_on(self) -> None:
        """Commit as soon as a statement waits for this transaction's rows (no sleep: the
        waiting is read from PostgreSQL)."""
        deadline = time.monotonic() + 15
        while not self._waited_on():
            assert time.monotonic() < deadline, "no statement ever waited on the other upload"
            time.sleep(0.005)
        self.connection.commit()

    def _waited_on(self) -> bool:
        with self.engine.connect() as conn:
            return bool(
                conn.execute(
                    text(
                        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity "
                        "WHERE :pid = ANY(pg_blocking_pids(pid)))"
                    ),
                    {"pid": self.pid},
                ).scalar_one()
            )


def upload_in_a_thread(
    client: ApiClient, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[threading.Thread, list[Any]]:
    answers: list[Any] = []
    thread = threading.Thread(
        target=lambda: answers.append(client.post("/v1/locations", json=body, headers=headers))
    )
    thread.start()
    return thread, answers


def collided(
    app: Flask,
    engine: Engine,
    committed: Session,
    base_time: datetime,
    *,
    headers: dict[str, str] | None = None,
) -> tuple[User, ApiClient, dict[str, Any], Any]:
    """Four pings uploaded while another request stores the first three: our upload's first
    look misses them, its insert waits on them and collides once they are committed."""
    user, token = committed_technician(committed, "Collider")
    client = ApiClient(app.test_client(), token)
    pings = [ping(base_time + timedelta(seconds=n), 41.8 + n / 1e4) for n in range(4)]
    body = {"pings": pings}
    with OtherUpload(engine, user, pings[:3]) as other:
        thread, answers = upload_in_a_thread(client, body, headers)
        other.commit_once_waited_on()
        thread.join(timeout=30)
    assert len(answers) == 1, "the upload did not finish"
    return user, client, body, answers[0]


def test_a_collision_with_a_concurrent_upload_reads_as_duplicates(
    app: Flask, engine: Engine, committed: Session, base_time: datetime
) -> None:
    """The insert collides on the primary key; the retry sees the other request's rows and
    counts them as duplicates."""
    user, _client, _body, answer = collided(app, engine, committed, base_time)
    assert answer.status_code == 200
    assert answer.json == {"stored": 1, "duplicates": 3, "rejected": []}
    assert len(stored_pings(committed, user.id)) == 4
    assert latest(committed, user.id)["recorded_at"] == base_time + timedelta(seconds=3)


def test_a_keyed_upload_that_collided_still_replays_its_first_answer(
    app: Flask, engine: Engine, committed: Session, base_time: datetime
) -> None:
    """The collision's rollback takes the key's claim with it; the answer is still kept
    under the key, so the phone's retry gets the first answer back, not a new one."""
    headers = {"Idempotency-Key": "collided-1"}
    user, client, body, first = collided(app, engine, committed, base_time, headers=headers)
    assert first.json == {"stored": 1, "duplicates": 3, "rejected": []}
    again = client.post("/v1/locations", json=body, headers=headers)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(stored_pings(committed, user.id)) == 4


def test_colliding_twice_is_a_409_that_changes_nothing(
    app: Flask, engine: Engine, committed: Session, base_time: datetime
) -> None:
    """Two other requests: one stores the first three pings, one the fourth. Our insert
    collides with the first, its retry with the second: 409, and none of our writes stay."""
    user, token = committed_technician(committed, "Collider")
    client = ApiClient(app.test_client(), token)
    pings = [ping(base_time + timedelta(seconds=n), 41.8 + n / 1e4) for n in range(4)]
    with (
        OtherUpload(engine, user, pings[:3]) as first,
        OtherUpload(engine, user, pings[3:]) as second,
    ):
        thread, answers = upload_in_a_thread(client, {"pings": pings})
        first.commit_once_waited_on()
        second.commit_once_waited_on()
        thread.join(timeout=30)
    assert len(answers) == 1, "the upload did not finish"
    assert answers[0].status_code == 409
    assert_error_shape(answers[0].json, 409)
    assert len(stored_pings(committed, user.id)) == 4  # the other requests' rows only
    assert latest(committed, user.id) is None  # our upload would have moved it


def test_the_same_batch_from_two_threads_is_stored_once(
    app: Flask, committed: Session, base_time: datetime
) -> None:
    user, token = committed_technician(committed, "Racer")
    pings = [ping(base_time + timedelta(seconds=n), 41.8 + n / 1e4) for n in range(400)]
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def upload() -> None:
        client = ApiClient(app.test_client(), token)
        barrier.wait()
        answers.append(post_pings(client, pings))

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status_code for answer in answers] == [200, 200]
    assert sorted(answer.json["stored"] for answer in answers) == [0, 400]
    assert sorted(answer.json["duplicates"] for answer in answers) == [0, 400]
    assert len(stored_pings(committed, user.id)) == 400


def test_an_idempotency_key_replays_the_first_answer(
    tech_client: ApiClient, tech: User, db: Session, base_time: datetime
) -> None:
    pings = [ping(base_time + timedelta(seconds=n), 41.8 + n / 1e4) for n in range(3)]
    headers = {"Idempotency-Key": "upload-7f3a"}
    first = tech_client.post("/v1/locations", json={"pings": pings}, headers=headers)
    again = tech_client.post("/v1/locations", json={"pings": pings}, headers=headers)
    assert first.json == again.json == {"stored": 3, "duplicates": 0, "rejected": []}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(stored_pings(db, tech.id)) == 3
    other = tech_client.post("/v1/locations", json={"pings": pings[:1]}, headers=headers)
    assert other.status_code == 422
    # Without a key, the retry is still safe: the pings are duplicates.
    assert post_pings(tech_client, pings).json == {"stored": 0, "duplicates": 3, "rejected": []}
