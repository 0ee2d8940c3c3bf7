"""Wrong passcodes count per address and per number: a stranger is slowed, then stopped,
long before the number locks, so the owner still gets in; many addresses together are
stopped at NIST SP 800-63B's cap of 100 consecutive failures for the number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import PasscodeSource, User
from tests.accounts.conftest import ask_code, passcode_record
from tests.accounts.test_login import a_wrong_code, log_in, sessions_of
from tests.conftest import ApiClient, unique_phone

START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
DAY = 24 * 3600


def from_address(app: Flask, address: str) -> ApiClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return ApiClient(client)


def guess_until_stopped(
    stranger: ApiClient, phone: str, clock: time_machine.Coordinates, right: str = ""
) -> list[tuple[int, int | None]]:
    """Wrong codes from one address, waiting out every slow-down, until it is stopped.
    Each answer as (status, Retry-After)."""
    answers: list[tuple[int, int | None]] = []
    for n in range(100):
        answer = log_in(stranger, phone, a_wrong_code(right, n))
        wait = answer.headers.get("Retry-After")
        answers.append((answer.status_code, int(wait) if wait else None))
        if answer.status_code == 429:
            if int(wait) >= DAY:
                return answers
            clock.shift(timedelta(seconds=int(wait)))
    raise AssertionError("the address was never stopped")


def test_an_address_is_slowed_after_ten_wrong_codes_then_stopped_at_twenty(
    app: Flask, client: ApiClient, db: Session, technician: User
) -> None:
    stranger = from_address(app, "203.0.113.66")
    with time_machine.travel(START, tick=False) as clock:
        answers = guess_until_stopped(stranger, technician.phone, clock)
        # A stopped address is refused for any number, before its code is even looked at.
        other = log_in(stranger, unique_phone(), "123456")

    failures = [a for a in answers if a[0] == 401]
    waits = [wait for status, wait in answers if status == 429]
    assert len(failures) == 20
    assert answers[:10] == [(401, None)] * 10  # a few typos cost nothing
    assert waits[:-1] == [2**n for n in range(10)][: len(waits) - 1]  # 1 s, 2 s, 4 s...
    assert waits[-1] == DAY
    assert (other.status_code, other.headers["Retry-After"]) == (429, str(DAY))
    record = passcode_record(db, technician.phone)
    assert record is None or record.locked_until is None


def test_a_stopped_stranger_does_not_lock_the_owner_out(
    app: Flask, client: ApiClient, db: Session, technician: User
) -> None:
    phone = technician.phone
    stranger, owner = from_address(app, "203.0.113.66"), from_address(app, "198.51.100.7")
    with time_machine.travel(START, tick=False) as clock:
        first = ask_code(owner, db, phone)
        guess_until_stopped(stranger, phone, clock, right=first)
        clock.shift(timedelta(seconds=31))
        fresh = ask_code(owner, db, phone)  # a new text on the owner's phone
        answer = log_in(owner, phone, fresh)

    assert answer.status_code == 201, answer.json
    assert len(sessions_of(db, technician)) == 1
    record = passcode_record(db, phone)
    assert record is not None and record.failures == 0 and record.locked_until is None


def test_a_hundred_wrong_codes_from_many_addresses_lock_the_number(
    app: Flask, client: ApiClient, db: Session, technician: User
) -> None:
    """NIST SP 800-63B: at most 100 consecutive failures per account, whoever sends them."""
    phone = technician.phone
    owner = from_address(app, "198.51.100.7")
    with time_machine.travel(START, tick=False) as clock:
        code = ask_code(owner, db, phone)
        for n in range(5):
            guess_until_stopped(from_address(app, f"203.0.113.{n + 1}"), phone, clock, code)

        record = passcode_record(db, phone)
        assert record is not None and record.failures == 100
        assert record.locked_until is not None and record.locked_until >= START + timedelta(days=1)
        assert record.code_hash is None
        # Locked: the right code is refused, even from the owner's own address.
        refused = log_in(owner, phone, code)
        assert refused.status_code == 429
        assert "this number" in refused.json["message"]
        assert owner.post("/v1/auth/passcode", json={"phone": phone}).status_code == 429

        clock.shift(record.locked_until - START)
        assert log_in(owner, phone, ask_code(owner, db, phone)).status_code == 201

    record = passcode_record(db, phone)
    assert record is not None and record.failures == 0 and record.locked_until is None


def test_an_addresses_count_is_forgotten_a_day_after_its_last_failure(
    app: Flask, client: ApiClient, db: Session, technician: User
) -> None:
    typo = from_address(app, "198.51.100.7")
    with time_machine.travel(START, tick=False) as clock:
        for n in range(9):
            assert log_in(typo, technician.phone, a_wrong_code("", n)).status_code == 401
        clock.shift(timedelta(days=1))
        answers = [
            log_in(typo, technician.phone, a_wrong_code("", n)).status_code for n in range(9)
        ]

    assert answers == [401] * 9  # nine more typos, still not slowed


def test_pruning_forgets_quiet_addresses_and_expired_counters_only(
    app: Flask, client: ApiClient, db: Session, technician: User
) -> None:
    from fieldapi.accounts.passcodes import prune_passcode_records, source_key
    from fieldapi.rate_limit_storage import RateLimitCounter
    from tests.conftest import TEST_SECRET_KEY

    typo, stopped = from_address(app, "198.51.100.7"), from_address(app, "203.0.113.66")
    with time_machine.travel(START, tick=False) as clock:
        assert log_in(typo, technician.phone, "000000").status_code == 401
        clock.shift(timedelta(hours=1))
        guess_until_stopped(stopped, technician.phone, clock)
    prune_at = START + timedelta(days=1, minutes=30)  # the typo's day is over
    db.add_all(
        [
            RateLimitCounter(key="old", hits=3, expires_at=prune_at.timestamp() - 1),
            RateLimitCounter(key="live", hits=3, expires_at=prune_at.timestamp() + 60),
        ]
    )
    db.commit()

    prune_passcode_records(db, now=prune_at)

    kept = {row.source_hash for row in db.scalars(select(PasscodeSource))}
    assert kept == {source_key(TEST_SECRET_KEY, "203.0.113.66")}  # still stopped
    assert {row.key for row in db.scalars(select(RateLimitCounter))} == {"live"}
