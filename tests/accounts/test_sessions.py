"""Tokens: short-lived access, rotating refresh, logout, and deactivation cutting sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from fieldapi.accounts.models import AuthSession, UsedRefreshToken, User
from fieldapi.accounts.tokens import hash_token
from tests.accounts.conftest import ask_code
from tests.conftest import TEST_SECRET_KEY, ApiClient

START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def log_in(client: ApiClient, db: Session, user: User) -> dict[str, Any]:
    code = ask_code(client, db, user.phone)
    response = client.post("/v1/auth/session", json={"phone": user.phone, "passcode": code})
    assert response.status_code == 201
    body: dict[str, Any] = response.json
    return body


def refresh(client: ApiClient, refresh_token: str) -> TestResponse:
    return client.post("/v1/auth/refresh", json={"refresh_token": refresh_token})


def session_of(db: Session, token: str) -> AuthSession:
    """The session holding this access or refresh token."""
    db.expire_all()
    digest = hash_token(TEST_SECRET_KEY, token)
    return db.scalars(
        select(AuthSession).where(
            (AuthSession.access_token_hash == digest) | (AuthSession.refresh_token_hash == digest)
        )
    ).one()


def sessions_of(db: Session, user: User) -> list[AuthSession]:
    db.expire_all()
    return list(db.scalars(select(AuthSession).where(AuthSession.user_id == user.id)))


def me(client: ApiClient, access_token: str) -> int:
    return ApiClient(client.client, access_token).get("/v1/me").status_code


def test_refresh_gives_a_new_pair_and_the_old_one_stops_working(
    client: ApiClient, db: Session, technician: User
) -> None:
    first = log_in(client, db, technician)
    record = session_of(db, first["refresh_token"])

    response = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})

    assert response.status_code == 200
    second = response.json
    assert second["token_type"] == "Bearer" and second["user"]["id"] == str(technician.id)
    assert {second["access_token"], second["refresh_token"]}.isdisjoint(
        {first["access_token"], first["refresh_token"]}
    )
    assert me(client, first["access_token"]) == 401
    assert me(client, second["access_token"]) == 200
    rotated = session_of(db, second["refresh_token"])
    assert rotated.id == record.id and rotated.refreshed_at is not None
    assert rotated.revoked_at is None
    used = db.scalars(select(UsedRefreshToken)).one()
    assert used.session_id == record.id
    assert used.token_hash == hash_token(TEST_SECRET_KEY, first["refresh_token"])
    assert used.organization_id == technician.organization_id


def test_a_refresh_token_used_again_after_a_newer_one_ends_the_whole_session(
    client: ApiClient, db: Session, technician: User
) -> None:
    first = log_in(client, db, technician)
    second = refresh(client, first["refresh_token"]).json
    third = refresh(client, second["refresh_token"]).json

    reuse = refresh(client, first["refresh_token"])

    assert reuse.status_code == 401
    [record] = sessions_of(db, technician)
    assert record.revoked_at is not None and record.revoked_reason == "refresh token reused"
    # Whoever holds the newer pair (the thief or the phone) is out too.
    assert me(client, third["access_token"]) == 401
    assert refresh(client, third["refresh_token"]).status_code == 401


def test_a_refresh_token_used_again_after_the_retry_grace_ends_the_whole_session(
    client: ApiClient, db: Session, technician: User
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        first = log_in(client, db, technician)
        second = refresh(client, first["refresh_token"]).json
        clock.shift(timedelta(seconds=31))

        reuse = refresh(client, first["refresh_token"])

        assert reuse.status_code == 401
        [record] = sessions_of(db, technician)
        assert record.revoked_reason == "refresh token reused"
        assert me(client, second["access_token"]) == 401


def test_a_refresh_retried_after_a_lost_answer_gets_a_new_pair(
    client: ApiClient, db: Session, technician: User
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        first = log_in(client, db, technician)
        lost = refresh(client, first["refresh_token"]).json  # the phone never got this
        clock.shift(timedelta(seconds=10))

        retried = refresh(client, first["refresh_token"])
        clock.shift(timedelta(seconds=10))
        retried_again = refresh(client, first["refresh_token"])

        assert (retried.status_code, retried_again.status_code) == (200, 200)
        final = retried_again.json
        assert len({lost["access_token"], retried.json["access_token"], final["access_token"]}) == 3
        # Only the newest pair works.
        assert me(client, lost["access_token"]) == 401
        assert me(client, retried.json["access_token"]) == 401
        assert me(client, final["access_token"]) == 200
        [record] = sessions_of(db, technician)
        assert record.revoked_at is None

        # The replaced pairs' refresh tokens count as used: after the grace of the first
        # use, one of them coming back (a thief's copy) ends the session.
        clock.shift(timedelta(seconds=11))
        assert refresh(client, lost["refresh_token"]).status_code == 401
        [record] = sessions_of(db, technician)
        assert record.revoked_reason == "refresh token reused"
        assert me(client, final["access_token"]) == 401


def test_after_a_newer_refresh_token_is_used_a_retry_is_a_leak(
    client: ApiClient, db: Session, technician: User
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        first = log_in(client, db, technician)
        refresh(client, first["refresh_token"])  # lost
        clock.shift(timedelta(seconds=5))
        retried = refresh(client, first["refresh_token"]).json
        clock.shift(timedelta(seconds=5))
        newest = refresh(client, retried["refresh_token"]).json  # the phone goes on

        assert refresh(client, first["refresh_token"]).status_code == 401
        assert me(client, newest["access_token"]) == 401


def test_without_a_retry_grace_any_second_use_ends_the_session(
    app: Flask,
    client: ApiClient,
    db: Session,
    technician: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "REFRESH_RETRY_SECONDS", 0)
    first = log_in(client, db, technician)
    second = refresh(client, first["refresh_token"]).json

    assert refresh(client, first["refresh_token"]).status_code == 401
    assert me(client, second["access_token"]) == 401


def test_an_unknown_refresh_token_is_401_and_revokes_nothing(
    client: ApiClient, db: Session, technician: User
) -> None:
    tokens = log_in(client, db, technician)

    response = client.post("/v1/auth/refresh", json={"refresh_token": "made-up"})

    assert response.status_code == 401
    assert [s.revoked_at for s in sessions_of(db, technician)] == [None]
    assert me(client, tokens["access_token"]) == 200


def test_access_tokens_expire_and_refresh_tokens_outlive_them(
    client: ApiClient, db: Session, technician: User
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        tokens = log_in(client, db, technician)
        clock.shift(timedelta(minutes=15, seconds=1))
        assert me(client, tokens["access_token"]) == 401

        response = client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})

        assert response.status_code == 200
        assert me(client, response.json["access_token"]) == 200
        record = session_of(db, response.json["refresh_token"])
        assert record.refresh_expires_at == START + timedelta(minutes=15, seconds=1, days=30)


def test_an_expired_refresh_token_is_401(client: ApiClient, db: Session, technician: User) -> None:
    with time_machine.travel(START, tick=False) as clock:
        tokens = log_in(client, db, technician)
        clock.shift(timedelta(days=30, seconds=1))

        response = client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 401
    record = session_of(db, tokens["refresh_token"])
    assert record.refreshed_at is None
    assert db.scalars(select(UsedRefreshToken)).all() == []


def test_logout_ends_this_session_only(client: ApiClient, db: Session, technician: User) -> None:
    phone = log_in(client, db, technician)
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=1), tick=False):
        tablet = log_in(client, db, technician)

    response = ApiClient(client.client, phone["access_token"]).delete("/v1/auth/session")

    assert response.status_code == 204
    assert me(client, phone["access_token"]) == 401
    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert refreshed.status_code == 401
    assert me(client, tablet["access_token"]) == 200
    assert session_of(db, phone["access_token"]).revoked_reason == "logged out"
    assert session_of(db, tablet["access_token"]).revoked_at is None


def test_logout_without_a_token_is_401(client: ApiClient) -> None:
    assert client.delete("/v1/auth/session").status_code == 401


def test_deactivation_cuts_a_live_session_and_reactivation_needs_a_new_login(
    client: ApiClient,
    db: Session,
    login_as: Any,
    dispatcher: User,
    technician: User,
) -> None:
    manager = login_as(dispatcher)
    tech = log_in(client, db, technician)
    assert me(client, tech["access_token"]) == 200

    off = manager.patch(f"/v1/team/{technician.id}", json={"active": False})

    assert off.status_code == 200 and off.json["active"] is False
    assert me(client, tech["access_token"]) == 401
    again = client.post("/v1/auth/refresh", json={"refresh_token": tech["refresh_token"]})
    assert again.status_code == 401
    [record] = sessions_of(db, technician)
    assert record.revoked_at is not None and record.revoked_reason == "deactivated"
    db.expire_all()
    assert db.get(User, technician.id).active is False

    on = manager.patch(f"/v1/team/{technician.id}", json={"active": True})

    assert on.status_code == 200 and on.json["active"] is True
    assert me(client, tech["access_token"]) == 401
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=1), tick=False):
        fresh = log_in(client, db, technician)
        assert me(client, fresh["access_token"]) == 200
    assert len(sessions_of(db, technician)) == 2


def test_the_login_as_fixture_logs_in_through_the_api(
    db: Session, login_as: Any, technician: User
) -> None:
    first = login_as(technician)
    second = login_as(technician)  # the same user twice in one test works too

    assert first.get("/v1/me").json["id"] == str(technician.id)
    assert second.get("/v1/me").status_code == 200
    assert len(sessions_of(db, technician)) == 2


def test_pruning_forgets_used_tokens_of_dead_sessions_only(
    client: ApiClient, db: Session, technician: User
) -> None:
    from fieldapi.accounts.sessions import prune_used_refresh_tokens

    live = log_in(client, db, technician)
    client.post("/v1/auth/refresh", json={"refresh_token": live["refresh_token"]})
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=1), tick=False):
        dead = log_in(client, db, technician)
    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": dead["refresh_token"]})
    ApiClient(client.client, refreshed.json["access_token"]).delete("/v1/auth/session")

    assert prune_used_refresh_tokens(db, now=datetime.now(UTC)) == 1

    [kept] = db.scalars(select(UsedRefreshToken)).all()
    assert kept.token_hash == hash_token(TEST_SECRET_KEY, live["refresh_token"])
