"""POST /v1/auth/passcode: no enumeration, hashes only, resend wait, caps and budget."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from fieldapi.accounts.models import Organization, Passcode, PasscodeRequest, User
from fieldapi.accounts.passcodes import code_digest, phone_key
from fieldapi.messaging.models import Message
from tests.accounts.conftest import ask_code, passcode_record
from tests.conftest import TEST_SECRET_KEY, ApiClient, unique_phone

START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def messages_to(db: Session, phone: str) -> list[Message]:
    return list(db.scalars(select(Message).where(Message.to_phone == phone)))


def request_count(db: Session, phone: str) -> int:
    key = phone_key(TEST_SECRET_KEY, phone)
    return db.scalar(
        select(func.count()).select_from(PasscodeRequest).where(PasscodeRequest.phone_hash == key)
    )


def test_a_passcode_is_texted_and_stored_only_as_an_hmac(
    client: ApiClient, db: Session, org: Organization, technician: User
) -> None:
    response = client.post("/v1/auth/passcode", json={"phone": technician.phone})

    assert response.status_code == 202
    assert response.json == {"expires_in": 600, "resend_after": 30}
    [message] = messages_to(db, technician.phone)
    assert message.purpose == "passcode"
    assert message.organization_id == org.id
    assert message.status == "queued"
    assert org.name in message.body
    code = passcode_from(message)
    record = passcode_record(db, technician.phone)
    assert record is not None
    key = phone_key(TEST_SECRET_KEY, technician.phone)
    assert record.code_hash == code_digest(TEST_SECRET_KEY, key, code)
    assert code not in repr(vars(record)) and technician.phone not in repr(vars(record))
    assert record.attempts == 0 and record.consumed_at is None
    assert record.expires_at - record.issued_at == timedelta(minutes=10)
    assert request_count(db, technician.phone) == 1


def passcode_from(message: Message) -> str:
    digits = [word for word in message.body.split() if word.isdigit() and len(word) == 6]
    assert len(digits) == 1, message.body
    return digits[0]


def headers_but_request_id(answer: TestResponse) -> list[tuple[str, str]]:
    return sorted((name, value) for name, value in answer.headers.items() if name != "X-Request-Id")


def test_registered_and_unknown_numbers_get_byte_identical_answers(
    client: ApiClient, db: Session, make_user: Callable[..., User], org: Organization
) -> None:
    active = make_user(org)
    inactive = make_user(org, active=False)
    unknown = unique_phone()

    answers = [
        client.post("/v1/auth/passcode", json={"phone": p})
        for p in (active.phone, unknown, inactive.phone)
    ]

    first = answers[0]
    for answer in answers:
        assert answer.status_code == first.status_code == 202
        assert answer.get_data() == first.get_data()
        # every header the same but the request id, which is new for each request
        assert headers_but_request_id(answer) == headers_but_request_id(first)
    # The same records for every number; a text only for the active user.
    for phone in (active.phone, unknown, inactive.phone):
        record = passcode_record(db, phone)
        assert record is not None and record.code_hash is not None
        assert request_count(db, phone) == 1
    assert len(messages_to(db, active.phone)) == 1
    assert messages_to(db, unknown) == []
    assert messages_to(db, inactive.phone) == []


def test_a_number_in_any_common_form_is_texted_in_e164(
    client: ApiClient, db: Session, technician: User
) -> None:
    national = technician.phone.removeprefix("+1")
    typed = f"({national[:3]}) {national[3:6]}-{national[6:]}"

    response = client.post("/v1/auth/passcode", json={"phone": typed})

    assert response.status_code == 202
    assert [m.to_phone for m in messages_to(db, technician.phone)] == [technician.phone]


@pytest.mark.parametrize(
    "phone",
    [
        "",
        "   ",
        "not a number",
        "12",
        "+1 555 0100",
        "+1 415 200 00000000",
        "4" * 40,
        "+999 123 456 789",
        "+44 20 7946 0958",  # valid, but texts to GB are not enabled
        None,
        4152000100,
        ["+14152000100"],
    ],
)
def test_malformed_phones_are_422_and_change_nothing(
    client: ApiClient, db: Session, phone: object
) -> None:
    before = db.scalar(select(func.count()).select_from(Passcode))

    response = client.post("/v1/auth/passcode", json={"phone": phone})

    assert response.status_code == 422
    assert response.json["code"] == 422
    assert "phone" in response.json["errors"]
    assert db.scalar(select(func.count()).select_from(Passcode)) == before
    assert db.scalar(select(func.count()).select_from(PasscodeRequest)) == 0
    assert db.scalar(select(func.count()).select_from(Message)) == 0


def test_a_missing_body_is_422(client: ApiClient, db: Session) -> None:
    assert client.post("/v1/auth/passcode", json={}).status_code == 422
    assert (
        client.post("/v1/auth/passcode", json={"phone": "+14152000100", "x": 1}).status_code == 422
    )
    assert db.scalar(select(func.count()).select_from(Passcode)) == 0


def test_asking_again_within_30_seconds_is_429_and_keeps_the_first_code(
    client: ApiClient, db: Session, technician: User
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        first = ask_code(client, db, technician.phone)
        clock.shift(timedelta(seconds=20))

        refused = client.post("/v1/auth/passcode", json={"phone": technician.phone})

        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "10"
        assert len(messages_to(db, technician.phone)) == 1
        assert request_count(db, technician.phone) == 1
        key = phone_key(TEST_SECRET_KEY, technician.phone)
        assert passcode_record(db, technician.phone).code_hash == code_digest(
            TEST_SECRET_KEY, key, first
        )


def test_a_new_code_replaces_the_old_one(client: ApiClient, db: Session, technician: User) -> None:
    with time_machine.travel(START, tick=False) as clock:
        old = new = ask_code(client, db, technician.phone)
        while new == old:  # the same six digits again (one in a million) would prove nothing
            clock.shift(timedelta(seconds=31))
            new = ask_code(client, db, technician.phone)

        stale = client.post("/v1/auth/session", json={"phone": technician.phone, "passcode": old})
        fresh = client.post("/v1/auth/session", json={"phone": technician.phone, "passcode": new})

    assert stale.status_code == 401
    assert fresh.status_code == 201
    record = passcode_record(db, technician.phone)
    assert record is not None and record.consumed_at is not None and record.code_hash is None


def test_the_hourly_cap_per_number_is_429_with_retry_after(
    client: ApiClient, db: Session, technician: User
) -> None:
    unknown = unique_phone()
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            for phone in (technician.phone, unknown):
                assert client.post("/v1/auth/passcode", json={"phone": phone}).status_code == 202
            clock.shift(timedelta(minutes=1))

        refused = [
            client.post("/v1/auth/passcode", json={"phone": p}) for p in (technician.phone, unknown)
        ]

        for answer in refused:
            assert answer.status_code == 429
            # The first request (START) leaves the window at START + 1 h; it is START + 5 min.
            assert answer.headers["Retry-After"] == str(55 * 60)
        assert refused[0].get_data() == refused[1].get_data()
        assert request_count(db, technician.phone) == request_count(db, unknown) == 5
        assert len(messages_to(db, technician.phone)) == 5

        clock.shift(timedelta(minutes=55))
        assert client.post("/v1/auth/passcode", json={"phone": technician.phone}).status_code == 202
        assert len(messages_to(db, technician.phone)) == 6


def test_past_the_global_text_budget_the_answer_is_the_same_but_nothing_is_sent(
    make_app: Callable[..., Flask],
    db: Session,
    make_user: Callable[..., User],
    org: Organization,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(PASSCODE_TEXTS_PER_HOUR=2)
    client = ApiClient(app.test_client())
    users = [make_user(org) for _ in range(3)]

    with time_machine.travel(START, tick=False) as clock, caplog.at_level(logging.WARNING):
        answers = [client.post("/v1/auth/passcode", json={"phone": u.phone}) for u in users]
        assert all(answer.get_data() == answers[0].get_data() for answer in answers)
        assert [a.status_code for a in answers] == [202, 202, 202]
        assert [len(messages_to(db, u.phone)) for u in users] == [1, 1, 0]
        assert "budget" in caplog.text
        assert users[2].phone not in caplog.text
        # The third number still got a (useless) code row and counts against its own cap.
        assert passcode_record(db, users[2].phone).code_hash is not None
        assert request_count(db, users[2].phone) == 1

        clock.shift(timedelta(hours=1, seconds=1))
        assert client.post("/v1/auth/passcode", json={"phone": users[2].phone}).status_code == 202
    assert len(messages_to(db, users[2].phone)) == 1


def test_development_with_the_console_transport_logs_the_passcode(
    make_app: Callable[..., Flask],
    db: Session,
    technician: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(FIELDAPI_ENV="development", SMS_TRANSPORT="console")
    client = ApiClient(app.test_client())

    with caplog.at_level(logging.INFO, logger="fieldapi"):
        code = ask_code(client, db, technician.phone)

    assert f"{technician.phone}: {code}" in caplog.text


@pytest.mark.parametrize(
    "overrides",
    [
        {"FIELDAPI_ENV": "test", "SMS_TRANSPORT": "console"},
        {"FIELDAPI_ENV": "development", "SMS_TRANSPORT": "twilio"},
    ],
)
def test_the_passcode_is_never_logged_otherwise(
    make_app: Callable[..., Flask],
    db: Session,
    technician: User,
    caplog: pytest.LogCaptureFixture,
    overrides: dict[str, str],
) -> None:
    app = make_app(**overrides)
    client = ApiClient(app.test_client())

    with caplog.at_level(logging.DEBUG, logger="fieldapi"):
        code = ask_code(client, db, technician.phone)
        client.post("/v1/auth/session", json={"phone": technician.phone, "passcode": "000000"})

    assert code not in caplog.text


def test_pruning_keeps_what_limits_and_locks_still_need(
    client: ApiClient, db: Session, technician: User
) -> None:
    from fieldapi.accounts.passcodes import prune_passcode_records

    quiet, locked = unique_phone(), unique_phone()
    with time_machine.travel(START, tick=False) as clock:
        for phone in (quiet, locked, technician.phone):
            assert client.post("/v1/auth/passcode", json={"phone": phone}).status_code == 202
        record = passcode_record(db, locked)
        assert record is not None
        record.locked_until = START + timedelta(days=40)
        db.commit()
        clock.shift(timedelta(days=31))
        assert client.post("/v1/auth/passcode", json={"phone": technician.phone}).status_code == 202

        deleted = prune_passcode_records(db, now=START + timedelta(days=31))

    assert deleted == 4  # three old requests and the quiet number's record
    assert passcode_record(db, quiet) is None
    assert passcode_record(db, locked) is not None
    assert passcode_record(db, technician.phone) is not None
    assert request_count(db, technician.phone) == 1


def test_the_development_passcode_shows_even_where_logging_is_not_configured() -> None:
    """`fieldapi serve` (gunicorn) configures only its own loggers; the line must still show."""
    script = (
        "import logging; logging.getLogger('fieldapi').setLevel(logging.INFO)\n"
        "from fieldapi.accounts.passcodes import log_development_passcode\n"
        "log_development_passcode('+13122000100', '123456', texted=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert "development login passcode for +13122000100: 123456" in done.stderr
