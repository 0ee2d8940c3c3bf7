"""Races that row locks must settle: real commits, requests in parallel threads."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from fieldapi.accounts.models import AuthSession, User
from fieldapi.accounts.organizations import create_organization
from fieldapi.accounts.sessions import TokenPair, open_session
from fieldapi.db import utcnow
from fieldapi.messaging.models import Message
from tests.conftest import TEST_SECRET_KEY, ApiClient, unique_phone


def at_once(calls: list[Callable[[], TestResponse]]) -> list[int]:
    """Run the calls in parallel threads, released together; their status codes in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]().status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def team_of_two(committed: Session) -> tuple[User, User]:
    organization, dana = create_organization(
        committed, name="Race Co", owner_name="Dana Reyes", owner_phone=unique_phone()
    )
    lee = User(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name="Lee Chen",
        phone=unique_phone(),
        role="both",
    )
    committed.add(lee)
    committed.commit()
    return dana, lee


def session_for(committed: Session, user: User) -> TokenPair:
    pair = open_session(committed, user, secret_key=TEST_SECRET_KEY, now=utcnow())
    committed.commit()
    return pair


def test_two_dispatchers_demoting_each_other_at_once_leave_one(
    app: Flask, committed: Session
) -> None:
    dana, lee = team_of_two(committed)
    as_dana = ApiClient(app.test_client(), session_for(committed, dana).access_token)
    as_lee = ApiClient(app.test_client(), session_for(committed, lee).access_token)

    codes = at_once(
        [
            lambda: as_dana.patch(f"/v1/team/{lee.id}", json={"role": "technician"}),
            lambda: as_lee.patch(f"/v1/team/{dana.id}", json={"active": False}),
        ]
    )

    assert sorted(codes) == [200, 409]
    committed.expire_all()
    dispatching = committed.scalar(
        select(func.count())
        .select_from(User)
        .where(User.active.is_(True), User.role.in_(("dispatcher", "both")))
    )
    assert dispatching == 1


def test_a_refresh_token_raced_by_two_clients_ends_the_session(
    app: Flask, committed: Session
) -> None:
    dana, _lee = team_of_two(committed)
    pair = session_for(committed, dana)
    body = {"refresh_token": pair.refresh_token}

    codes = at_once([lambda: app.test_client().post("/v1/auth/refresh", json=body)] * 2)

    assert sorted(codes) == [200, 401]
    committed.expire_all()
    record = committed.get_one(AuthSession, pair.session_id)
    assert record.revoked_reason == "refresh token reused"


def test_parallel_passcode_requests_for_one_number_send_one_text(
    app: Flask, committed: Session
) -> None:
    dana, _lee = team_of_two(committed)
    body = {"phone": dana.phone}

    codes = at_once([lambda: app.test_client().post("/v1/auth/passcode", json=body)] * 4)

    assert sorted(codes) == [202, 429, 429, 429]
    texts = committed.scalar(
        select(func.count()).select_from(Message).where(Message.to_phone == dana.phone)
    )
    assert texts == 1
