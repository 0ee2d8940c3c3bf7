"""One new ping, one statement: the fast path agrees with the general one in every case."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from psycopg.pq import TransactionStatus
from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import database, make_engine
from fieldapi.locations.pings import Fix, implied_speed
from fieldapi.locations.single_ping import _IMPLIED_SPEED_SQL
from tests.conftest import ApiClient
from tests.locations.conftest import (
    CHICAGO,
    committed_technician,
    latest,
    ping,
    post_pings,
    stored_pings,
)
from tests.test_app import assert_error_shape


def test_a_new_ping_is_one_statement_that_also_authenticates(
    tech_client: ApiClient,
    tech: User,
    db: Session,
    base_time: datetime,
    count_queries: Callable[[], Any],
) -> None:
    with count_queries() as first:
        assert post_pings(tech_client, [ping(base_time)]).json["stored"] == 1
    with count_queries() as second:
        response = post_pings(tech_client, [ping(base_time + timedelta(seconds=5), 41.8782)])
    assert response.json == {"stored": 1, "duplicates": 0, "rejected": []}
    assert len(first) == len(second) == 1
    assert "auth_sessions" in second[0] and "location_pings" in second[0]
    newest = latest(db, tech.id)
    assert newest is not None and newest["recorded_at"] == base_time + timedelta(seconds=5)


def test_a_late_ping_takes_the_general_path_and_is_checked_against_the_fix_before_it(
    tech_client: ApiClient,
    tech: User,
    db: Session,
    base_time: datetime,
    count_queries: Callable[[], Any],
) -> None:
    post_pings(tech_client, [ping(base_time, *CHICAGO), ping(base_time + timedelta(hours=1))])
    # Ten minutes after a Chicago fix, 1,000 km away: a jump, though the latest position is
    # an hour away from it (what the one-statement path alone would compare with).
    with count_queries() as counted:
        response = post_pings(tech_client, [ping(base_time + timedelta(minutes=10), 41.8, -75.0)])
    assert response.json == {"stored": 1, "duplicates": 0, "rejected": []}
    assert len(counted) == 4  # the one-statement attempt, then authenticate, read, store
    flags = [row["impossible_jump"] for row in stored_pings(db, tech.id)]
    assert flags == [False, True, False]
    newest = latest(db, tech.id)
    assert newest is not None and newest["recorded_at"] == base_time + timedelta(hours=1)


def test_a_ping_at_a_stored_time_that_never_became_latest_is_a_duplicate(
    tech_client: ApiClient, tech: User, db: Session, base_time: datetime
) -> None:
    post_pings(tech_client, [ping(base_time)])
    inaccurate = ping(base_time + timedelta(seconds=5), accuracy_m=900)
    assert post_pings(tech_client, [inaccurate]).json["stored"] == 1
    again = post_pings(tech_client, [dict(inaccurate, accuracy_m=5, lat=41.9)])
    assert again.json == {"stored": 0, "duplicates": 1, "rejected": []}
    assert [row["accuracy_m"] for row in stored_pings(db, tech.id)] == [None, 900]
    newest = latest(db, tech.id)
    assert newest is not None and newest["recorded_at"] == base_time


def test_a_lone_bad_ping_is_rejected_with_its_reason_after_authentication(
    tech_client: ApiClient,
    db: Session,
    base_time: datetime,
    count_queries: Callable[[], Any],
) -> None:
    with count_queries() as counted:
        response = post_pings(tech_client, [ping(base_time, lat=91)])
    assert response.json == {
        "stored": 0,
        "duplicates": 0,
        "rejected": [{"index": 0, "message": "lat must be between -90 and 90"}],
    }
    assert len(counted) == 1 and "auth_sessions" in counted[0]
    assert db.scalar(text("SELECT count(*) FROM location_pings")) == 0


def test_a_lone_ping_sent_off_duty_is_rejected_and_stored_nowhere(
    tech_client: ApiClient,
    tech: User,
    db: Session,
    base_time: datetime,
    count_queries: Callable[[], Any],
) -> None:
    tech_client.put("/v1/me/duty", json={"on_duty": False})
    with count_queries() as counted:
        response = post_pings(tech_client, [ping(base_time)])
    assert response.json["stored"] == 0
    assert [r["index"] for r in response.json["rejected"]] == [0]
    assert "off duty" in response.json["rejected"][0]["message"]
    assert len(counted) == 1
    assert stored_pings(db, tech.id) == [] and latest(db, tech.id) is None


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_a_bad_body_without_a_valid_token_is_a_401(
    client: ApiClient, token: str | None, db: Session
) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.post(
        "/v1/locations", data=b"{nope", headers=headers, content_type="application/json"
    )
    assert response.status_code == 401
    assert_error_shape(response.json, 401)


def test_a_bad_body_with_a_valid_token_is_a_400(tech_client: ApiClient) -> None:
    response = tech_client.post(
        "/v1/locations", data=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_an_unknown_token_with_a_good_ping_is_a_401_that_stores_nothing(
    client: ApiClient, db: Session, base_time: datetime
) -> None:
    response = client.post(
        "/v1/locations",
        json={"pings": [ping(base_time)]},
        headers={"Authorization": "Bearer made-up"},
    )
    assert response.status_code == 401
    assert db.scalar(text("SELECT count(*) FROM location_pings")) == 0


def random_walk(rng: random.Random, start: datetime, count: int) -> list[dict[str, Any]]:
    """Pings one at a time as a phone sends them: mostly forward, with the cases the rules
    are about: jumps, inaccurate fixes, no accuracy at all, repeats and late ones."""
    pings: list[dict[str, Any]] = []
    at, lat, lon = start, *CHICAGO
    for _ in range(count):
        kind = rng.random()
        if kind < 0.1 and pings:
            pings.append(dict(rng.choice(pings)))  # a repeat of something sent
            continue
        if kind < 0.2 and pings:
            late = at - timedelta(seconds=rng.randint(1, 120))
            pings.append(ping(late, lat + rng.uniform(-0.01, 0.01), lon, accuracy_m=10))
            continue
        at += timedelta(seconds=rng.randint(1, 30))
        if kind < 0.3:
            pings.append(ping(at, lat + rng.uniform(-3, 3), lon + rng.uniform(-3, 3)))  # a jump
            continue
        lat += rng.uniform(-0.002, 0.002)
        lon += rng.uniform(-0.002, 0.002)
        accuracy = rng.choice([None, 5, 30, 150, 199, 201, 800])
        extra = {} if accuracy is None else {"accuracy_m": accuracy}
        pings.append(ping(at, lat, lon, **extra))
    return pings


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_one_ping_at_a_time_stores_what_the_general_path_stores(
    seed: int,
    org: Organization,
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
    db: Session,
    base_time: datetime,
) -> None:
    """The same pings, one per request: without a key (the one-statement path) for one
    technician, with an Idempotency-Key (the general path) for another."""
    fast, general = make_user(org), make_user(org)
    fast_client, general_client = login_as(fast), login_as(general)
    for n, one in enumerate(random_walk(random.Random(seed), base_time, 60)):
        a = post_pings(fast_client, [one])
        b = general_client.post(
            "/v1/locations", json={"pings": [one]}, headers={"Idempotency-Key": f"k{n}"}
        )
        assert a.status_code == b.status_code == 200
        assert a.json == b.json, (n, one)

    def history(user: User) -> list[tuple[Any, ...]]:
        return [
            (r["recorded_at"], r["lat"], r["lon"], r["accuracy_m"], r["impossible_jump"])
            for r in stored_pings(db, user.id)
        ]

    assert history(fast) == history(general)
    assert any(flagged for *_rest, flagged in history(fast))
    assert latest(db, fast.id) == latest(db, general.id)


def test_the_sql_jump_check_agrees_with_the_python_one(db: Session) -> None:
    rng = random.Random(5)
    start = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    for _ in range(200):
        seconds = rng.uniform(0.001, 7200)
        a = Fix(start, rng.uniform(-80, 80), rng.uniform(-180, 180), rng.choice([None, 5.5]))
        b = Fix(
            start + timedelta(seconds=seconds),
            a.lat + rng.uniform(-2, 2),
            max(-180.0, min(180.0, a.lon + rng.uniform(-2, 2))),
            rng.choice([None, 30.0]),
        )
        in_sql = db.scalar(
            text(
                f"SELECT {_IMPLIED_SPEED_SQL} FROM "
                "(SELECT CAST(:a_at AS timestamptz) AS prev_at, CAST(:a_lat AS float8) AS prev_lat,"
                " CAST(:a_lon AS float8) AS prev_lon, CAST(:a_acc AS float8) AS prev_accuracy) me,"
                " (SELECT CAST(:b_at AS timestamptz) AS at, CAST(:b_lat AS float8) AS lat,"
                " CAST(:b_lon AS float8) AS lon, CAST(:b_acc AS float8) AS accuracy_m) p"
            ),
            {
                "a_at": a.recorded_at,
                "a_lat": a.lat,
                "a_lon": a.lon,
                "a_acc": a.accuracy_m,
                "b_at": b.recorded_at,
                "b_lat": b.lat,
                "b_lon": b.lon,
                "b_acc": b.accuracy_m,
            },
        )
        assert math.isclose(in_sql, implied_speed(a, b), rel_tol=1e-9, abs_tol=1e-9)


def test_autocommit_commits_each_statement_and_gives_the_connection_back_as_it_was(
    app: Flask, committed: Session
) -> None:
    db = database(app)
    with db.autocommit() as connection:
        assert connection.autocommit is True
        assert connection.execute("SELECT 1").fetchone() == (1,)
        assert connection.info.transaction_status == TransactionStatus.IDLE  # no BEGIN
    assert connection.autocommit is False
    with pytest.raises(Exception, match="division by zero"), db.autocommit() as broken:
        broken.execute("SELECT 1 / 0")
    assert broken.autocommit is False
    with db.autocommit() as again:
        assert again.execute("SELECT 2").fetchone() == (2,)


def test_the_same_ping_from_two_threads_in_autocommit_is_stored_once(
    app: Flask, committed: Session, base_time: datetime, count_queries: Callable[[], Any]
) -> None:
    """Not bound to a test transaction: each request's statement commits on its own."""
    user, token = committed_technician(committed, "Twin")
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def upload() -> None:
        client = ApiClient(app.test_client(), token)
        barrier.wait()
        answers.append(post_pings(client, [ping(base_time, accuracy_m=8)]).json)

    threads = [threading.Thread(target=upload) for _ in range(2)]
    with count_queries() as counted:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # One statement each, authentication included: neither fell back to the general path
    # (a pooled connection idle for a while is pinged first: that SELECT 1 is not counted).
    authenticating = [statement for statement in counted if "auth_sessions" in statement]
    assert len(authenticating) == 2
    assert all("INSERT INTO location_pings" in statement for statement in authenticating)
    assert sorted((a["stored"], a["duplicates"]) for a in answers) == [(0, 1), (1, 0)]
    assert len(stored_pings(committed, user.id)) == 1
    newest = latest(committed, user.id)
    assert newest is not None and newest["recorded_at"] == base_time


def test_the_newest_ping_sent_again_is_a_duplicate_in_one_statement(
    tech_client: ApiClient,
    tech: User,
    db: Session,
    base_time: datetime,
    count_queries: Callable[[], Any],
) -> None:
    """A phone that got no answer sends its last ping again."""
    assert post_pings(tech_client, [ping(base_time, accuracy_m=8)]).json["stored"] == 1
    with count_queries() as counted:
        again = post_pings(tech_client, [ping(base_time, 41.95, accuracy_m=8)])
    assert again.json == {"stored": 0, "duplicates": 1, "rejected": []}
    assert len(counted) == 1
    assert [row["lat"] for row in stored_pings(db, tech.id)] == [CHICAGO[0]]
    newest = latest(db, tech.id)
    assert newest is not None and newest["lat"] == CHICAGO[0]


def test_a_ping_after_the_server_dropped_every_connection_is_still_stored(
    app: Flask,
    committed: Session,
    database_url: str,
    base_time: datetime,
    count_queries: Callable[[], Any],
) -> None:
    """What a database restart does to the pool: the one-statement path finds its
    connection dead, and the general path stores the ping on a new one."""
    user, token = committed_technician(committed, "Restart")
    client = ApiClient(app.test_client(), token)
    assert post_pings(client, [ping(base_time)]).json["stored"] == 1  # the pool is warm
    committed.close()  # its connection goes back to the pool, to die with the others
    held = [database(app).engine.connect() for _ in range(3)]  # the pool holds several
    for connection in held:
        connection.exec_driver_sql("SELECT 1")
        connection.close()
    killer = make_engine(database_url)  # a pool of its own, left alive
    others = (
        "FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )
    try:
        with killer.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend(pid) {others}"))
        for _ in range(100):
            with killer.connect() as conn:  # pg_stat_activity: a snapshot per transaction
                if not conn.execute(text(f"SELECT count(*) {others}")).scalar_one():
                    break
            time.sleep(0.02)
    finally:
        killer.dispose()
    with count_queries() as counted:
        response = post_pings(client, [ping(base_time + timedelta(seconds=5), 41.8785)])
    assert response.status_code == 200, response.json
    assert response.json == {"stored": 1, "duplicates": 0, "rejected": []}
    assert sum("auth_sessions" in statement for statement in counted) == 2  # tried, then fell back
    assert len(stored_pings(committed, user.id)) == 2
    newest = latest(committed, user.id)
    assert newest is not None and newest["recorded_at"] == base_time + timedelta(seconds=5)
