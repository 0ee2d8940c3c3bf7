"""Engine, sessions and the declarative base."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    MetaData,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    sessionmaker,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def normalize_database_url(url: str) -> str:
    """Accept the plain URLs hosting platforms hand out and select the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def resolve_database_url(configured: str | None) -> str:
    if configured:
        return normalize_database_url(configured)
    from fieldapi.localdb import default_cluster

    return default_cluster().url()


# Connections are not pinged on every checkout (pool_pre_ping): that is a round trip per
# request, an eighth of a cheap one's. Only a connection that sat idle in the pool for
# IDLE_PING_AFTER seconds is pinged first (what a database restart, a failover or a
# proxy's idle timeout leaves behind shows up after a quiet spell); a dead one is replaced
# before the request sees it. A connection that dies while in busy use fails its request
# and SQLAlchemy then discards every pooled connection older than it. POOL_RECYCLE
# replaces connections before typical server-side idle limits.
IDLE_PING_AFTER = 5.0
POOL_RECYCLE = 1800


def make_engine(url: str, **options: Any) -> Engine:
    options.setdefault("pool_recycle", POOL_RECYCLE)
    engine = create_engine(normalize_database_url(url), **options)
    if not options.get("pool_pre_ping"):
        ping_when_idle(engine, IDLE_PING_AFTER)
    return engine


def server_limits(url: str, statement_timeout_ms: int) -> dict[str, Any]:
    """`connect_args` giving every connection of a pool its server-side statement timeout,
    added to the `options` the URL may carry (connect_args would replace them).

    Each API statement is limited below gunicorn's 30 s worker timeout, so a runaway query
    or a long lock wait is ended by PostgreSQL with an answer (503), not by gunicorn
    killing the worker while the query runs on in the database."""
    if statement_timeout_ms <= 0:
        return {}
    given = make_url(normalize_database_url(url)).query.get("options", "")
    given = " ".join(given) if isinstance(given, tuple) else given
    return {"options": f"{given} -c statement_timeout={statement_timeout_ms}".strip()}


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection before use only when it has been idle for `idle_seconds`."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["fieldapi_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("fieldapi_idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The pool drops this connection and checks out another (a new one).
                raise DisconnectionError(str(error)) from error
            raise


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriteInReadOnlyRequest(RuntimeError):
    """A bug: a GET tried to change the database."""


def read_only(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions that refuse to write: a flush, or an insert(), update() or delete() run
    through them. A textual statement, or one run on `session.connection()`, is not
    inspected (a read-only transaction would cost the round trip autocommit saves)."""

    @event.listens_for(sessions, "before_flush")
    def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
        if session.new or session.dirty or session.deleted:
            raise WriteInReadOnlyRequest("a read-only request tried to write rows")

    @event.listens_for(sessions, "do_orm_execute")
    def _refuse_dml(state: Any) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            raise WriteInReadOnlyRequest("a read-only request tried to write rows")

    return sessions


class Database:
    """The app's engine and session factories; tests rebind them to one connection.

    A GET's session runs in autocommit: each read is its own transaction, which is what
    READ COMMITTED gives each statement anyway, without the BEGIN and ROLLBACK round trips
    (about a third of a small GET's time). Its sessions refuse to write."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self.read_sessions = read_only(
            sessionmaker(
                bind=engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False,
            )
        )
        self._bound: Connection | None = None

    @contextmanager
    def bound_to(self, connection: Connection) -> Iterator[None]:
        original = self.sessions, self.read_sessions
        self.sessions = sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        self.read_sessions = read_only(
            sessionmaker(
                bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
        )
        self._bound = connection
        try:
            yield
        finally:
            self.sessions, self.read_sessions = original
            self._bound = None

    @contextmanager
    def autocommit(self) -> Iterator[Any]:
        """A psycopg connection on which each statement commits as it completes, for a
        request that is one self-contained statement: it saves the BEGIN and COMMIT round
        trips, and the driver is used bare because SQLAlchemy's Connection costs more
        than the statement itself. Bound to a test's connection, a savepoint on it stands
        in; either way a statement that fails leaves nothing behind."""
        if self._bound is not None:
            with self._bound.begin_nested():
                yield self._bound.connection.driver_connection
            return
        pooled = self.engine.raw_connection()
        try:
            driver: Any = pooled.driver_connection
            driver.autocommit = True
            try:
                yield driver
            finally:
                driver.autocommit = False  # it goes back to the pool for sessions
        except self.engine.dialect.loaded_dbapi.OperationalError as error:
            if self.engine.dialect.is_disconnect(error, driver, None):
                # As SQLAlchemy does on a disconnect: this connection is dropped, and so is
                # every pooled one (a restarted server leaves them all dead).
                pooled.invalidate(error)
                self.engine.dispose()
            raise
        finally:
            pooled.close()

    def init_app(self, app: Flask) -> None:
        app.extensions["fieldapi.db"] = self
        app.teardown_appcontext(_close_session)


def database(app: Flask | None = None) -> Database:
    db: Database = (app or current_app).extensions["fieldapi.db"]
    return db


def session() -> Session:
    """The request's session, opened on first use and closed when the request ends;
    read-only, in autocommit, for a GET."""
    if "db_session" not in g:
        reading = (
            has_request_context()
            and request.method in READ_ONLY_METHODS
            and not g.get("db_writes", False)
        )
        g.db_session = (database().read_sessions if reading else database().sessions)()
    result: Session = g.db_session
    return result


def writing_request() -> None:
    """This request writes whatever its method (Traccar Client may upload by GET): its
    session is a writing one. Call it before the request's first `session()`."""
    g.db_writes = True


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
