"""Fixtures of the accounts tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, Passcode, User
from fieldapi.accounts.passcodes import phone_key
from fieldapi.app import create_app
from fieldapi.db import database
from tests.conftest import TEST_CONFIG, TEST_SECRET_KEY, ApiClient, passcode_from_outbox


@pytest.fixture
def org(make_org: Callable[..., Organization]) -> Organization:
    return make_org()


@pytest.fixture
def dispatcher(db: Session, org: Organization) -> User:
    """The organization's owner, its only dispatcher."""
    return db.scalars(select(User).where(User.organization_id == org.id)).one()


@pytest.fixture
def technician(make_user: Callable[..., User], org: Organization) -> User:
    return make_user(org, role="technician", name="Sam Ortiz")


@pytest.fixture
def make_app(engine: Engine, database_url: str, connection: Any) -> Iterator[Callable[..., Flask]]:
    """Another app on this test's transaction, with some settings changed."""
    with ExitStack() as stack:

        def make(**overrides: Any) -> Flask:
            config = dict(TEST_CONFIG, DATABASE_URL=database_url, **overrides)
            built = create_app(config, engine=engine)
            stack.enter_context(database(built).bound_to(connection))
            return built

        yield make


def passcode_record(db: Session, phone: str) -> Passcode | None:
    db.expire_all()
    return db.get(Passcode, phone_key(TEST_SECRET_KEY, phone))


def ask_code(client: ApiClient, db: Session, phone: str) -> str:
    """Ask for a passcode and read it from the outbox, as the login_as fixture does."""
    from fieldapi.messaging.models import Message

    seen = set(db.scalars(select(Message.id).where(Message.to_phone == phone)))
    response = client.post("/v1/auth/passcode", json={"phone": phone})
    assert response.status_code == 202, response.json
    return passcode_from_outbox(db, phone, seen=seen)
