"""Authentication is one plain statement per request, and still checks everything each time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from fieldapi.accounts.models import AuthSession, User
from fieldapi.db import utcnow
from tests.conftest import ApiClient


def one_ping(minutes_ago: int) -> dict[str, Any]:
    at = (utcnow() - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")
    return {"pings": [{"recorded_at": at, "lat": 41.88, "lon": -87.63}]}


def pings_of(db: Session, user: User) -> int:
    return int(
        db.execute(
            text("SELECT count(*) FROM location_pings WHERE user_id = :user"), {"user": user.id}
        ).scalar_one()
    )


def test_deactivating_a_user_refuses_their_very_next_request(
    login_as: Callable[[User], ApiClient], make_org: Callable[..., Any], make_user: Any, db: Session
) -> None:
    user = make_user(make_org())
    client = login_as(user)
    assert client.post("/v1/locations", json=one_ping(3)).status_code == 200

    # Straight in the database, without revoking the session: the user check alone cuts it.
    db.execute(update(User).where(User.id == user.id).values(active=False))
    db.commit()

    assert client.post("/v1/locations", json=one_ping(2)).status_code == 401
    assert client.get("/v1/me").status_code == 401
    assert pings_of(db, user) == 1


def test_a_revoked_or_expired_session_is_refused_on_the_very_next_request(
    login_as: Callable[[User], ApiClient], make_org: Callable[..., Any], make_user: Any, db: Session
) -> None:
    org = make_org()
    revoked, expired = make_user(org), make_user(org)
    revoked_client, expired_client = login_as(revoked), login_as(expired)
    assert revoked_client.post("/v1/locations", json=one_ping(3)).status_code == 200
    assert expired_client.post("/v1/locations", json=one_ping(3)).status_code == 200

    now = utcnow()
    db.execute(update(AuthSession).where(AuthSession.user_id == revoked.id).values(revoked_at=now))
    db.execute(
        update(AuthSession)
        .where(AuthSession.user_id == expired.id)
        .values(access_expires_at=now - timedelta(seconds=1))
    )
    db.commit()

    assert revoked_client.post("/v1/locations", json=one_ping(2)).status_code == 401
    assert expired_client.post("/v1/locations", json=one_ping(2)).status_code == 401
    assert pings_of(db, revoked) == pings_of(db, expired) == 1
    assert db.scalar(select(func.count()).select_from(AuthSession)) == 2  # nothing else changed


def test_authenticating_a_request_is_one_statement(
    login_as: Callable[[User], ApiClient],
    make_org: Callable[..., Any],
    make_user: Any,
    count_queries: Callable[[], Any],
) -> None:
    client = login_as(make_user(make_org()))
    with count_queries() as statements:
        # Authenticated, then refused for its body: only the authentication ran.
        response = client.post("/v1/locations", json={"pings": []})
    assert response.status_code == 422
    assert len(statements) == 1 and "auth_sessions" in statements[0]


def test_me_is_the_authentication_and_one_read(
    login_as: Callable[[User], ApiClient],
    make_org: Callable[..., Any],
    make_user: Any,
    count_queries: Callable[[], Any],
) -> None:
    organization = make_org(name="Joined Plumbing")
    user = make_user(organization, name="Jo Join")
    client = login_as(user)
    with count_queries() as statements:
        body = client.get("/v1/me").json
    assert body["name"] == "Jo Join" and body["organization"]["name"] == "Joined Plumbing"
    assert len(statements) == 2
