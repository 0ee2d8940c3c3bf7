"""A GET reads in autocommit (no BEGIN/ROLLBACK round trips) and cannot write."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization
from fieldapi.db import session
from fieldapi.onboarding import create_organization
from tests.conftest import unique_phone
from tests.test_app import assert_error_shape


def with_probe(app: Flask) -> Flask:
    """Routes that report the request session's transaction state, or try to write."""

    @app.route("/probe", methods=["GET", "POST"])
    def probe() -> ResponseReturnValue:
        session().execute(text("SELECT 1"))
        driver: Any = session().connection().connection.driver_connection
        return jsonify(transaction=driver.info.transaction_status.name)

    @app.get("/rename-through-core")
    def rename_core() -> ResponseReturnValue:
        session().execute(update(Organization).values(name="Changed by a GET"))
        session().commit()
        return jsonify()

    @app.get("/rename-through-orm")
    def rename_orm() -> ResponseReturnValue:
        organization = session().scalars(select(Organization).limit(1)).one()
        organization.name = "Changed by a GET"
        session().commit()
        return jsonify()

    return app


def test_a_get_reads_outside_a_transaction_and_a_post_inside_one(
    app_with_own_engine: Any,
) -> None:
    client = with_probe(app_with_own_engine()).test_client()

    assert client.get("/probe").json == {"transaction": "IDLE"}
    assert client.post("/probe").json == {"transaction": "INTRANS"}
    # The pooled connection a GET used in autocommit opens transactions again for a POST.
    assert client.get("/probe").json == {"transaction": "IDLE"}
    assert client.post("/probe").json == {"transaction": "INTRANS"}


@pytest.mark.parametrize("path", ["/rename-through-core", "/rename-through-orm"])
def test_a_get_that_writes_is_refused_and_writes_nothing(
    app_with_own_engine: Any, committed: Session, path: str
) -> None:
    organization, _owner = create_organization(
        committed, name="Kept Name", owner_name="Ann Lee", owner_phone=unique_phone()
    )
    committed.commit()
    client = with_probe(app_with_own_engine()).test_client()

    response = client.get(path)

    assert response.status_code == 500
    assert_error_shape(response.json, 500)
    committed.expire_all()
    assert committed.get_one(Organization, organization.id).name == "Kept Name"
