"""The latest position: forward only, good fixes only; impossible jumps are flagged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from fieldapi.locations.pings import Fix, Ping, flag_jumps
from tests.conftest import ApiClient
from tests.locations.conftest import CHICAGO, NEW_YORK, latest, ping, post_pings, stored_pings

Send = Callable[[list[dict[str, Any]]], None]


@pytest.fixture(params=["batch", "one_by_one", "one_by_one_keyed"])
def send(request: pytest.FixtureRequest, tech_client: ApiClient) -> Send:
    """The same pings as one batch or as one request per ping, each without a key (the
    one-statement path) or with one (the general path): the rules must agree."""

    def go(pings: list[dict[str, Any]]) -> None:
        batches = [pings] if request.param == "batch" else [[p] for p in pings]
        for batch in batches:
            headers = {}
            if request.param == "one_by_one_keyed":
                headers["Idempotency-Key"] = batch[0]["recorded_at"] + str(batch[0]["lat"])
            response = tech_client.post("/v1/locations", json={"pings": batch}, headers=headers)
            assert response.status_code == 200, response.json
            assert response.json["rejected"] == []

    return go


def test_an_old_ping_uploaded_late_goes_to_the_history_only(
    send: Send, tech: User, db: Session, base_time: datetime
) -> None:
    send([ping(base_time + timedelta(minutes=10), 41.90, -87.65)])
    send([ping(base_time, 41.88, -87.63), ping(base_time + timedelta(minutes=5), 41.89, -87.64)])
    newest = latest(db, tech.id)
    assert newest is not None
    assert newest["recorded_at"] == base_time + timedelta(minutes=10)
    assert (newest["lat"], newest["lon"]) == (41.90, -87.65)
    assert len(stored_pings(db, tech.id)) == 3


def test_an_inaccurate_ping_goes_to_the_history_only(
    send: Send, tech: User, db: Session, base_time: datetime
) -> None:
    send([ping(base_time, 41.88, -87.63, accuracy_m=20)])
    send([ping(base_time + timedelta(minutes=1), 41.881, -87.631, accuracy_m=250)])
    newest = latest(db, tech.id)
    assert newest is not None and newest["recorded_at"] == base_time
    assert [row["accuracy_m"] for row in stored_pings(db, tech.id)] == [20, 250]


def test_a_user_with_only_inaccurate_pings_has_no_latest_position(
    send: Send, tech: User, db: Session, base_time: datetime
) -> None:
    send([ping(base_time, accuracy_m=201), ping(base_time + timedelta(seconds=5), accuracy_m=900)])
    assert latest(db, tech.id) is None
    assert len(stored_pings(db, tech.id)) == 2


def test_an_impossible_jump_is_kept_flagged_and_never_latest(
    send: Send, tech: User, db: Session, base_time: datetime
) -> None:
    send(
        [
            ping(base_time, *CHICAGO, accuracy_m=10),
            # 1,150 km in a minute
            ping(base_time + timedelta(minutes=1), *NEW_YORK, accuracy_m=10),
            # back near Chicago two minutes after the first fix: plausible from it
            ping(base_time + timedelta(minutes=2), CHICAGO[0] + 0.01, CHICAGO[1], accuracy_m=10),
        ]
    )
    rows = stored_pings(db, tech.id)
    assert [row["impossible_jump"] for row in rows] == [False, True, False]
    newest = latest(db, tech.id)
    assert newest is not None
    assert newest["recorded_at"] == base_time + timedelta(minutes=2)


def test_a_jump_in_the_newest_ping_leaves_the_latest_where_it_was(
    send: Send, tech: User, db: Session, base_time: datetime
) -> None:
    send([ping(base_time, *CHICAGO)])
    send([ping(base_time + timedelta(seconds=30), *NEW_YORK)])
    newest = latest(db, tech.id)
    assert newest is not None
    assert (newest["lat"], newest["lon"]) == CHICAGO
    assert [row["impossible_jump"] for row in stored_pings(db, tech.id)] == [False, True]


def test_fast_but_possible_driving_is_not_a_jump(
    send: Send, tech: User, db: Session, base_time: datetime
) -> None:
    # 0.01 degrees of latitude (1.1 km) a minute: 18.5 m/s, a highway.
    send(
        [ping(base_time + timedelta(minutes=n), CHICAGO[0] + n / 100, CHICAGO[1]) for n in range(4)]
    )
    assert not any(row["impossible_jump"] for row in stored_pings(db, tech.id))
    assert latest(db, tech.id)["recorded_at"] == base_time + timedelta(minutes=3)


def test_a_late_ping_is_checked_against_the_fix_before_it(
    send: Send, tech: User, db: Session, base_time: datetime
) -> None:
    send([ping(base_time, *CHICAGO), ping(base_time + timedelta(minutes=10), *CHICAGO)])
    # Uploaded late, between the two: New York five minutes after Chicago is impossible.
    send([ping(base_time + timedelta(minutes=5), *NEW_YORK)])
    rows = stored_pings(db, tech.id)
    assert [row["impossible_jump"] for row in rows] == [False, True, False]


def test_duplicates_do_not_count_as_references(
    tech_client: ApiClient, tech: User, db: Session, base_time: datetime
) -> None:
    """A retry that re-sends stored times with other positions changes nothing, and the
    new pings in it are checked against what is stored, not against the resent ones."""
    stored = [ping(base_time + timedelta(seconds=n), 41.8 + n / 1e4) for n in range(3)]
    post_pings(tech_client, stored)
    resent = [ping(base_time + timedelta(seconds=n), *NEW_YORK) for n in range(3)]
    new = ping(base_time + timedelta(seconds=3), 41.8003)
    response = post_pings(tech_client, [*resent, new])
    assert response.json == {"stored": 1, "duplicates": 3, "rejected": []}
    assert [row["impossible_jump"] for row in stored_pings(db, tech.id)] == [False] * 4
    assert latest(db, tech.id)["recorded_at"] == base_time + timedelta(seconds=3)


def fix_ping(seconds: int, lat: float, lon: float, accuracy: float | None = 10) -> Ping:
    from fieldapi.db import utcnow

    base = utcnow().replace(microsecond=0)
    return Ping(seconds, base + timedelta(seconds=seconds), lat, lon, accuracy)


def test_the_jump_check_uses_the_last_good_fix_as_reference() -> None:
    pings = [
        fix_ping(0, *CHICAGO),
        fix_ping(60, *NEW_YORK),  # flagged
        fix_ping(61, *NEW_YORK),  # still flagged: compared with Chicago, not the jump
        fix_ping(120, CHICAGO[0] + 0.02, CHICAGO[1], accuracy=5000),  # inaccurate: not a ref
        fix_ping(180, CHICAGO[0] + 0.01, CHICAGO[1]),
    ]
    assert flag_jumps(pings, None, max_speed_mps=70, max_accuracy_m=200) == [
        False,
        True,
        True,
        False,
        False,
    ]


def test_the_jump_check_allows_for_the_fixes_accuracy() -> None:
    previous = Fix(fix_ping(0, 0, 0).recorded_at, 0.0, 0.0, 100.0)
    # 1 km in 10 s is 100 m/s, but with 500 m of uncertainty on each side 0 m/s will do.
    sloppy = fix_ping(10, 0.009, 0.0, accuracy=500)
    precise = fix_ping(10, 0.009, 0.0, accuracy=5)
    assert flag_jumps([sloppy], previous, max_speed_mps=70, max_accuracy_m=1000) == [False]
    assert flag_jumps([precise], previous, max_speed_mps=70, max_accuracy_m=1000) == [True]
