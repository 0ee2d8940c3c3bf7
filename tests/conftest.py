"""Test fixtures: one real PostGIS per test session, one rolled-back transaction per test."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from fieldapi.accounts.models import Organization, Passcode, PasscodeRequest, User
from fieldapi.accounts.passcodes import phone_key
from fieldapi.app import create_app
from fieldapi.db import database, make_engine, normalize_database_url, utcnow
from fieldapi.jobs.customers import site_point
from fieldapi.jobs.models import Customer
from fieldapi.localdb import LocalCluster
from fieldapi.messaging.models import Message
from fieldapi.migrations import upgrade
from fieldapi.onboarding import create_organization

pytest_plugins = ["tests.messaging.twilio_server", "tests.enterprise.receiver"]

WRIGLEY = (41.9484, -87.6553)  # a customer's site
TEST_SECRET_KEY = "test-secret-key-not-for-production"
_phone_counter = itertools.count(100)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """TEST_DATABASE_URL when set, else a throwaway local PostGIS cluster."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        url = normalize_database_url(configured)
        upgrade(url)
        yield url
        return
    root = Path(tempfile.mkdtemp(prefix="fieldapi-test-"))
    root.chmod(0o755)  # the cluster's owner (postgres, when we are root) must enter it
    cluster = LocalCluster(root=root / "pg", port=55000 + os.getpid() % 5000, fast_and_unsafe=True)
    try:
        url = cluster.ensure("fieldapi_test")
        upgrade(url)
        yield url
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=10, max_overflow=20)
    yield engine
    engine.dispose()


TEST_CONFIG: dict[str, Any] = {
    "FIELDAPI_ENV": "test",
    "SECRET_KEY": TEST_SECRET_KEY,
    "SMS_TRANSPORT": "console",
    "PUBLIC_BASE_URL": "https://api.example.test",
    "RATELIMIT_ENABLED": False,
    "PASSCODE_ANSWER_FLOOR_MS": 0,  # tests/accounts/test_passcode_timing.py turns it on
}


@pytest.fixture(scope="session")
def app(engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    config = dict(
        TEST_CONFIG, DATABASE_URL=database_url, PHOTO_DIR=str(tmp_path_factory.mktemp("photos"))
    )
    return create_app(config, engine=engine)


@pytest.fixture
def connection(app: Flask, engine: Engine) -> Iterator[Any]:
    """One transaction per test, rolled back at the end; the app's sessions join it."""
    with engine.connect() as conn:
        transaction = conn.begin()
        with database(app).bound_to(conn):
            yield conn
        transaction.rollback()


@pytest.fixture
def db(connection: Any) -> Iterator[Session]:
    """A session on the test's transaction, for arranging data and checking the database."""
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield session
    session.close()


@pytest.fixture
def committed(app: Flask, engine: Engine) -> Iterator[Session]:
    """For tests that need real commits (threads, other processes): truncates afterwards."""
    session = Session(bind=engine, expire_on_commit=False)
    yield session
    session.close()
    with engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename NOT IN ('spatial_ref_sys', "
                "'alembic_version')"
            )
        ).scalar_one()
        conn.execute(text(f"TRUNCATE {tables} CASCADE"))


@pytest.fixture
def app_with_own_engine(app: Flask) -> Iterator[Any]:
    """An app built as `fieldapi serve` builds it, engine and server limits included."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        built.append(create_app(dict(app.config, **overrides)))
        return built[-1]

    yield build
    for each in built:
        database(each).engine.dispose()


def unique_phone() -> str:
    """A valid, unused US number (555-01xx numbers are fictional but not valid)."""
    n = next(_phone_counter)
    return f"+1415{2 + n // 10000 % 8}{n // 100 % 100:02d}{n % 10000:04d}"


@pytest.fixture
def make_org(db: Session) -> Callable[..., Organization]:
    def make(
        name: str = "Done Right Home Services",
        timezone: str = "America/Chicago",
        owner_name: str = "Dana Dispatcher",
        kind: str = "provider",
    ) -> Organization:
        organization, _owner = create_organization(
            db,
            name=name,
            owner_name=owner_name,
            owner_phone=unique_phone(),
            timezone=timezone,
            kind=kind,
        )
        db.commit()
        return organization

    return make


def enterprise_named(db: Session, name: str) -> Organization:
    """An enterprise organization (with its first manager) that can offer jobs."""
    enterprise, _manager = create_organization(
        db, name=name, owner_name="Erin Manager", owner_phone=unique_phone(), kind="enterprise"
    )
    db.commit()
    return enterprise


@pytest.fixture
def make_customer(db: Session) -> Callable[..., Customer]:
    def make(organization: Organization, **values: Any) -> Customer:
        lat, lon = values.pop("site", WRIGLEY)
        fields: dict[str, Any] = {
            "name": "Maria Lopez",
            "phone": "+13122000201",
            "address": "1060 W Addison St, Chicago, IL",
            "timezone": "America/Chicago",
            **values,
        }
        customer = Customer(
            id=uuid.uuid4(),
            organization_id=organization.id,
            site=None if lat is None else site_point(lat, lon),
            **fields,
        )
        db.add(customer)
        db.commit()
        return customer

    return make


@pytest.fixture
def make_user(db: Session) -> Callable[..., User]:
    def make(
        organization: Organization,
        role: str = "technician",
        name: str | None = None,
        phone: str | None = None,
        active: bool = True,
    ) -> User:
        user = User(
            id=uuid.uuid4(),
            organization_id=organization.id,
            name=name or f"{role.title()} {uuid.uuid4().hex[:4]}",
            phone=phone or unique_phone(),
            role=role,
            active=active,
        )
        db.add(user)
        db.commit()
        return user

    return make


class ApiClient:
    """A test client that sends the caller's bearer token, the way the apps do."""

    def __init__(self, client: FlaskClient, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        merged.update(headers or {})
        return merged

    def open(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> TestResponse:
        return self.client.open(path, method=method, headers=self._headers(headers), **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.open("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self.open("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return self.open("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.open("DELETE", path, **kwargs)


@pytest.fixture
def client(app: Flask, connection: Any) -> ApiClient:
    return ApiClient(app.test_client())


def passcode_from_outbox(db: Session, phone: str, *, seen: set[uuid.UUID] | None = None) -> str:
    """The code in the newest passcode text queued for `phone` (ignoring the ids in `seen`)."""
    rows = db.execute(
        select(Message.id, Message.body)
        .where(Message.to_phone == phone, Message.purpose == "passcode")
        .order_by(Message.queued_at)
    ).all()
    bodies = [body for message_id, body in rows if message_id not in (seen or set())]
    assert bodies, f"no passcode text was queued for {phone}"
    found = re.search(r"\b\d{6}\b", bodies[-1])
    assert found, bodies[-1]
    return found.group()


def forget_phone(db: Session, phone: str) -> None:
    """Drop a number's passcode and request records (its resend wait and hourly count)."""
    key = phone_key(TEST_SECRET_KEY, phone)
    db.execute(delete(Passcode).where(Passcode.phone_hash == key))
    db.execute(delete(PasscodeRequest).where(PasscodeRequest.phone_hash == key))
    db.commit()


@pytest.fixture
def login_as(app: Flask, db: Session, connection: Any) -> Callable[[User], ApiClient]:
    """A client logged in as the user the way the apps do it: ask for a passcode, read it
    from the text queued in the outbox, exchange it for tokens. The number's resend wait and
    hourly count are cleared first, so a test may log the same user in many times. An
    inactive user gets no text: their client carries a session opened directly, which the
    API refuses (401) like any token of an inactive user."""

    def login(user: User) -> ApiClient:
        client = app.test_client()
        if not db.scalar(select(User.active).where(User.id == user.id)):
            from fieldapi.accounts.sessions import open_session

            pair = open_session(db, user, secret_key=TEST_SECRET_KEY, now=utcnow())
            db.commit()
            return ApiClient(client, pair.access_token)
        forget_phone(db, user.phone)
        seen = set(
            db.scalars(
                select(Message.id).where(
                    Message.to_phone == user.phone, Message.purpose == "passcode"
                )
            )
        )
        asked = client.post("/v1/auth/passcode", json={"phone": user.phone})
        assert asked.status_code == 202, asked.json
        code = passcode_from_outbox(db, user.phone, seen=seen)
        answer = client.post("/v1/auth/session", json={"phone": user.phone, "passcode": code})
        assert answer.status_code == 201, answer.json
        return ApiClient(client, answer.json["access_token"])

    return login


SAVEPOINTS = ("SAVEPOINT", "RELEASE", "ROLLBACK TO")


@pytest.fixture
def count_queries(monkeypatch: pytest.MonkeyPatch) -> Callable[[], Any]:
    """Counts the SQL statements run inside a `with count_queries() as counter:` block, at
    the driver: those of SQLAlchemy and those run on the bare psycopg connection alike
    (savepoints, the test's stand-in for transactions, are left out)."""
    from contextlib import contextmanager

    import psycopg

    @contextmanager
    def counter() -> Iterator[list[str]]:
        statements: list[str] = []

        def recording(method: Callable[..., Any]) -> Callable[..., Any]:
            def record(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
                statement = query if isinstance(query, str) else repr(query)
                if not statement.lstrip().upper().startswith(SAVEPOINTS):
                    statements.append(statement)
                return method(cursor, query, *args, **kwargs)

            return record

        with monkeypatch.context() as patch:
            for name in ("execute", "executemany"):
                patch.setattr(psycopg.Cursor, name, recording(getattr(psycopg.Cursor, name)))
            yield statements

    return counter


def committed_client(app: Flask, db: Session, user: User) -> ApiClient:
    """A client logged in as `user` through a committed session, for requests in threads."""
    from fieldapi.accounts.sessions import open_session

    pair = open_session(db, user, secret_key=TEST_SECRET_KEY, now=utcnow())
    db.commit()
    return ApiClient(app.test_client(), pair.access_token)


def requests_waiting_on_locks(engine: Engine) -> int:
    """How many statements of the test database wait for a lock now."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


@pytest.fixture
def query_plans(db: Session) -> Callable[[], Any]:
    """The plans of the statements run on the test's connection inside a
    `with query_plans() as plans:` block (auto_explain, sent to the client as notices),
    planned as if sequential scans cost too much: an index that the statement can use is
    then used however few rows the test made, and a statement that no index serves still
    shows a sequential scan."""
    from contextlib import contextmanager

    @contextmanager
    def explained() -> Iterator[list[str]]:
        driver: Any = db.connection().connection.driver_connection
        plans: list[str] = []

        def keep(notice: Any) -> None:
            if "Query Text:" in (notice.message_primary or ""):
                plans.append(notice.message_primary)

        for setting in (
            "LOAD 'auto_explain'",
            "SET auto_explain.log_min_duration = 0",
            "SET auto_explain.log_level = notice",
            "SET auto_explain.log_nested_statements = on",
            "SET enable_seqscan = off",
        ):
            db.execute(text(setting))
        driver.add_notice_handler(keep)
        try:
            yield plans
            # A parameterized statement's plan can come after its result: one more
            # statement brings it.
            db.execute(text("SELECT 1"))
        finally:
            driver.remove_notice_handler(keep)
            for setting in ("auto_explain.log_min_duration", "enable_seqscan"):
                db.execute(text(f"RESET {setting}"))

    return explained


def plan_of(plans: list[str], *fragments: str) -> str:
    """The one plan whose text holds every fragment."""
    found = [plan for plan in plans if all(fragment in plan for fragment in fragments)]
    assert len(found) >= 1, (fragments, [plan[:300] for plan in plans])
    return found[0]
