"""A database that is down or too slow is a 503 the apps can retry, never a 500."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from fieldapi.accounts.models import User
from fieldapi.db import database
from tests.accounts.test_concurrency import session_for, team_of_two
from tests.conftest import ApiClient
from tests.test_app import assert_error_shape


def test_a_statement_past_the_timeout_is_a_503_and_changes_nothing(
    app_with_own_engine: Any, committed: Session
) -> None:
    timed = app_with_own_engine(DATABASE_STATEMENT_TIMEOUT_MS=300)
    dana, lee = team_of_two(committed)
    as_dana = ApiClient(timed.test_client(), session_for(committed, dana).access_token)
    engine = committed.get_bind()
    assert isinstance(engine, Engine)

    answers: list[TestResponse] = []
    with engine.connect() as holder:  # a long team change holds the organization's lock
        holder.execute(
            text("SELECT id FROM organizations WHERE id = :id FOR UPDATE"),
            {"id": dana.organization_id},
        )
        rename = threading.Thread(
            target=lambda: answers.append(
                as_dana.patch(f"/v1/team/{lee.id}", json={"name": "Lee C."})
            )
        )
        rename.start()
        rename.join(timeout=10)
        waited_on = rename.is_alive()
        holder.rollback()
        rename.join(timeout=30)

    assert not waited_on, "the request waited for the lock past its statement timeout"
    [response] = answers
    assert response.status_code == 503
    assert_error_shape(response.json, 503)
    assert response.json["message"] == "The database is busy; try again shortly."
    assert response.headers["Retry-After"] == "5"
    committed.expire_all()
    assert committed.get_one(User, lee.id).name == "Lee Chen"
    # The connection that was canceled serves the next request.
    assert as_dana.patch(f"/v1/team/{lee.id}", json={"name": "Lee C."}).status_code == 200


def test_the_timeout_is_set_on_the_api_pool_s_connections(
    app_with_own_engine: Any, database_url: str
) -> None:
    untimed = app_with_own_engine(DATABASE_STATEMENT_TIMEOUT_MS=0)
    with database(untimed).engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "0"
    # Options the URL carries are kept beside it.
    separator = "&" if "?" in database_url else "?"
    with_options = f"{database_url}{separator}options=-c%20work_mem%3D5MB"
    timed = app_with_own_engine(DATABASE_STATEMENT_TIMEOUT_MS=1500, DATABASE_URL=with_options)
    with database(timed).engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "1500ms"
        assert connection.execute(text("SHOW work_mem")).scalar_one() == "5MB"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/v1/me", None),
        ("post", "/v1/locations", {"pings": [{"lat": 41.9, "lon": -87.6}]}),
        ("post", "/v1/auth/passcode", {"phone": "+14155552671"}),
    ],
)
def test_an_unreachable_database_is_a_503(
    app_with_own_engine: Any, method: str, path: str, body: dict[str, Any] | None
) -> None:
    # Port 1 refuses at once: the database is down or failing over.
    down = app_with_own_engine(DATABASE_URL="postgresql://fieldapi@127.0.0.1:1/fieldapi")
    client = ApiClient(down.test_client(), "some-token")

    response = getattr(client, method)(path, json=body)

    assert response.status_code == 503
    assert_error_shape(response.json, 503)
    assert response.json["message"] == "The database is not reachable; try again shortly."
    assert response.headers["Retry-After"] == "5"
