"""POST /v1/auth/session: codes are single use, short-lived, and cannot be guessed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import AuthSession, Organization, User
from fieldapi.accounts.tokens import hash_token
from tests.accounts.conftest import ask_code, passcode_record
from tests.conftest import TEST_SECRET_KEY, ApiClient, unique_phone

START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def sessions_of(db: Session, user: User) -> list[AuthSession]:
    db.expire_all()
    return list(db.scalars(select(AuthSession).where(AuthSession.user_id == user.id)))


def log_in(client: ApiClient, phone: str, code: str, **extra: object) -> object:
    return client.post("/v1/auth/session", json={"phone": phone, "passcode": code, **extra})


def a_wrong_code(right: str, n: int) -> str:
    wrong = f"{n % 10**6:06d}"
    return wrong if wrong != right else f"{(n + 1) % 10**6:06d}"


def test_a_passcode_logs_in_and_records_the_device(
    client: ApiClient, db: Session, org: Organization, technician: User
) -> None:
    code = ask_code(client, db, technician.phone)
    device = {"platform": "android", "app": "field", "app_version": "2.3.1", "model": "Pixel 8"}

    response = log_in(client, technician.phone, code, device=device)

    assert response.status_code == 201
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["user"] == {
        "id": str(technician.id),
        "name": "Sam Ortiz",
        "phone": technician.phone,
        "role": "technician",
        "active": True,
        "on_duty": True,
        "organization": {"id": str(org.id), "name": org.name},
    }
    [record] = sessions_of(db, technician)
    assert record.access_token_hash == hash_token(TEST_SECRET_KEY, body["access_token"])
    assert record.refresh_token_hash == hash_token(TEST_SECRET_KEY, body["refresh_token"])
    assert (record.device_platform, record.device_app, record.device_app_version) == (
        "android",
        "field",
        "2.3.1",
    )
    assert record.organization_id == org.id and record.revoked_at is None
    passcode = passcode_record(db, technician.phone)
    assert passcode is not None and passcode.consumed_at is not None
    me = ApiClient(client.client, body["access_token"]).get("/v1/me")
    assert me.status_code == 200 and me.json["id"] == str(technician.id)


def test_spaces_and_dashes_in_the_code_are_forgiven(
    client: ApiClient, db: Session, technician: User
) -> None:
    code = ask_code(client, db, technician.phone)

    response = log_in(client, technician.phone, f" {code[:3]}-{code[3:]} ")

    assert response.status_code == 201
    assert len(sessions_of(db, technician)) == 1


def test_a_used_code_cannot_be_replayed(client: ApiClient, db: Session, technician: User) -> None:
    code = ask_code(client, db, technician.phone)
    assert log_in(client, technician.phone, code).status_code == 201

    replay = log_in(client, technician.phone, code)

    assert replay.status_code == 401
    assert replay.json["code"] == 401
    assert len(sessions_of(db, technician)) == 1
    record = passcode_record(db, technician.phone)
    assert record is not None and record.code_hash is None and record.failures == 1


def test_a_code_expires_after_ten_minutes(
    client: ApiClient,
    db: Session,
    org: Organization,
    technician: User,
    make_user: Callable[..., User],
) -> None:
    other = make_user(org)
    with time_machine.travel(START, tick=False) as clock:
        late = ask_code(client, db, technician.phone)
        in_time = ask_code(client, db, other.phone)
        clock.shift(timedelta(minutes=9, seconds=59))
        assert log_in(client, other.phone, in_time).status_code == 201
        clock.shift(timedelta(seconds=2))

        expired = log_in(client, technician.phone, late)

    assert expired.status_code == 401
    assert sessions_of(db, technician) == []
    record = passcode_record(db, technician.phone)
    assert record is not None and record.consumed_at is None and record.failures == 1


def test_five_wrong_tries_end_a_code(client: ApiClient, db: Session, technician: User) -> None:
    code = ask_code(client, db, technician.phone)
    for n in range(5):
        assert log_in(client, technician.phone, a_wrong_code(code, n)).status_code == 401

    right_but_too_late = log_in(client, technician.phone, code)

    assert right_but_too_late.status_code == 401
    assert sessions_of(db, technician) == []
    record = passcode_record(db, technician.phone)
    assert record is not None and record.attempts == 6 and record.failures == 6


def test_wrong_codes_for_unknown_and_registered_numbers_look_the_same(
    client: ApiClient, db: Session, technician: User
) -> None:
    unknown = unique_phone()
    code = ask_code(client, db, technician.phone)
    assert client.post("/v1/auth/passcode", json={"phone": unknown}).status_code == 202

    answers = [
        log_in(client, phone, a_wrong_code(code, 7)) for phone in (technician.phone, unknown)
    ]

    assert answers[0].status_code == answers[1].status_code == 401
    assert answers[0].get_data() == answers[1].get_data()
    for phone in (technician.phone, unknown):
        record = passcode_record(db, phone)
        assert record is not None and record.failures == 1


def test_a_number_that_never_asked_gets_401(client: ApiClient, db: Session) -> None:
    response = log_in(client, unique_phone(), "123456")

    assert response.status_code == 401
    assert db.scalar(select(func.count()).select_from(AuthSession)) == 0


def test_a_user_deactivated_after_the_text_cannot_log_in(
    client: ApiClient, db: Session, technician: User
) -> None:
    code = ask_code(client, db, technician.phone)
    technician.active = False
    db.commit()

    response = log_in(client, technician.phone, code)

    assert response.status_code == 401
    assert sessions_of(db, technician) == []


@pytest.mark.parametrize(
    "passcode",
    ["12345", "1234567", "abcdef", "", "\uff11\uff12\uff13\uff14\uff15\uff16", None, 123456],
)
def test_malformed_passcodes_are_422_and_count_nothing(
    client: ApiClient, db: Session, technician: User, passcode: object
) -> None:
    ask_code(client, db, technician.phone)

    response = client.post(
        "/v1/auth/session", json={"phone": technician.phone, "passcode": passcode}
    )

    assert response.status_code == 422
    assert "passcode" in response.json["errors"]
    record = passcode_record(db, technician.phone)
    assert record is not None and record.failures == 0 and record.attempts == 0


def test_a_malformed_phone_at_login_is_422(client: ApiClient, db: Session) -> None:
    response = client.post("/v1/auth/session", json={"phone": "call me", "passcode": "123456"})

    assert response.status_code == 422
    assert "phone" in response.json["errors"]
    assert db.scalar(select(func.count()).select_from(AuthSession)) == 0
