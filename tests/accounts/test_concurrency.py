"""Races that row locks must settle: real commits, requests in parallel threads."""

from __future__ import annotations

import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from fieldapi.accounts.models import AuthSession, User
from fieldapi.accounts.principal import Principal
from fieldapi.accounts.sessions import TokenPair, open_session, revoke_user_sessions
from fieldapi.accounts.team import lock_team
from fieldapi.db import utcnow
from fieldapi.messaging.models import Message
from fieldapi.onboarding import create_organization
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

    dana_code, lee_code = at_once(
        [
            lambda: as_dana.patch(f"/v1/team/{lee.id}", json={"role": "technician"}),
            lambda: as_lee.patch(f"/v1/team/{dana.id}", json={"active": False}),
        ]
    )

    # Whoever commits first wins. The other is refused, whether its request authenticated
    # before that commit (and is checked again under the lock) or after it.
    committed.expire_all()
    if dana_code == 200:
        assert lee_code == 403
        assert (committed.get_one(User, lee.id).role, committed.get_one(User, dana.id).active) == (
            "technician",
            True,
        )
    else:
        assert (dana_code, lee_code) == (401, 200)
        assert (committed.get_one(User, lee.id).role, committed.get_one(User, dana.id).active) == (
            "both",
            False,
        )
    dispatching = committed.scalar(
        select(func.count())
        .select_from(User)
        .where(User.active.is_(True), User.role.in_(("dispatcher", "both")))
    )
    assert dispatching == 1


def wait_until_a_request_waits_for_a_lock(engine: Engine, request: threading.Thread) -> None:
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    # Generous: on a loaded machine the request thread can take seconds to reach the lock.
    deadline = time.monotonic() + 60
    with engine.connect() as conn:
        while conn.execute(waiting).scalar_one() == 0:
            if not request.is_alive():
                return  # it never waited: the assertions on its answer say how it ended
            if time.monotonic() > deadline:
                activity = conn.execute(
                    text(
                        "SELECT state, wait_event_type, wait_event, left(query, 80) "
                        "FROM pg_stat_activity WHERE datname = current_database()"
                    )
                ).all()
                frame = sys._current_frames().get(request.ident or 0)
                stack = "".join(traceback.format_stack(frame)) if frame else "no frame"
                raise AssertionError(
                    f"the request never waited for the team lock: {activity}\n"
                    f"pool: {engine.pool.status()}\n{stack}"
                )
            time.sleep(0.01)


@pytest.mark.parametrize(
    ("change_to_caller", "expected"),
    [
        ("demoted", 403),
        ("deactivated", 401),
        ("deactivated and reactivated", 401),  # their session stays ended
    ],
)
@pytest.mark.parametrize("team_change", ["rename", "add"])
def test_a_dispatcher_changed_while_their_team_change_waits_is_refused(
    app: Flask, committed: Session, change_to_caller: str, expected: int, team_change: str
) -> None:
    engine = committed.get_bind()
    assert isinstance(engine, Engine)
    # Fresh connections: under coverage, a pooled connection that an earlier test's
    # one-ping upload used (bound to that test's transaction) can hang the request's first
    # statement, with no backend of this database serving it.
    engine.dispose()
    dana, lee = team_of_two(committed)
    as_lee = ApiClient(app.test_client(), session_for(committed, lee).access_token)
    codes: list[int] = []

    def change() -> int:
        if team_change == "rename":
            return as_lee.patch(f"/v1/team/{dana.id}", json={"name": "Dana R."}).status_code
        member = {"name": "Lee's other phone", "phone": unique_phone(), "role": "dispatcher"}
        return as_lee.post("/v1/team", json=member).status_code

    with engine.connect() as holder:
        # Hold the organization's team lock, as a concurrent team change would.
        holder.execute(
            text("SELECT id FROM organizations WHERE id = :id FOR UPDATE"),
            {"id": dana.organization_id},
        )
        waiting = threading.Thread(target=lambda: codes.append(change()))
        waiting.start()
        wait_until_a_request_waits_for_a_lock(engine, waiting)
        # Lee authenticated before this commit; it lands while his request waits.
        if change_to_caller == "demoted":
            holder.execute(update(User).where(User.id == lee.id).values(role="technician"))
        else:
            holder.execute(update(User).where(User.id == lee.id).values(active=False))
            revoke_user_sessions(holder_session(holder), lee.id, now=utcnow(), reason="test")
            if change_to_caller == "deactivated and reactivated":
                holder.execute(update(User).where(User.id == lee.id).values(active=True))
        holder.commit()
        waiting.join(timeout=30)

    assert codes == [expected]
    committed.expire_all()
    assert committed.get_one(User, dana.id).name == "Dana Reyes"
    assert committed.scalar(select(func.count()).select_from(User)) == 2


def holder_session(connection: Any) -> Session:
    return Session(bind=connection, join_transaction_mode="create_savepoint")


def test_a_refresh_token_raced_by_two_clients_leaves_one_working_pair(
    app: Flask, committed: Session
) -> None:
    dana, _lee = team_of_two(committed)
    pair = session_for(committed, dana)
    body = {"refresh_token": pair.refresh_token}
    answers: list[Any] = [None, None]

    def refresh(index: int) -> TestResponse:
        answers[index] = app.test_client().post("/v1/auth/refresh", json=body)
        return answers[index]

    # Within the retry grace, the second is taken as a retry of the first, after it: the row
    # lock orders them, and the second's pair replaces the first's.
    codes = at_once([lambda: refresh(0), lambda: refresh(1)])

    assert codes == [200, 200]
    working = [
        ApiClient(app.test_client(), answer.json["access_token"]).get("/v1/me").status_code
        for answer in answers
    ]
    assert sorted(working) == [200, 401]
    committed.expire_all()
    assert committed.get_one(AuthSession, pair.session_id).revoked_at is None


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


def test_the_team_lock_does_not_hold_up_inserts_that_reference_the_organization(
    committed: Session,
) -> None:
    dana, _lee = team_of_two(committed)
    pair = session_for(committed, dana)
    principal = Principal(dana.id, dana.organization_id, pair.session_id, dana.name, dana.role)
    engine = committed.get_bind()
    assert isinstance(engine, Engine)

    with engine.connect() as holder, engine.connect() as other:
        lock_team(holder_session(holder), principal)  # a team change in progress
        other.execute(text("SET lock_timeout = '2s'"))
        # Its foreign key takes FOR KEY SHARE on the organization's row.
        other.execute(
            text(
                "INSERT INTO customers (id, organization_id, name, timezone, created_at, "
                "updated_at) VALUES (gen_random_uuid(), :org, 'Walk-in', 'UTC', now(), now())"
            ),
            {"org": dana.organization_id},
        )
        other.rollback()
        holder.rollback()
