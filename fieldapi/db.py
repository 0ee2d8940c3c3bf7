"""Engine, sessions and the declarative base."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    Insert,
    MetaData,
    Table,
    Update,
    bindparam,
    create_engine,
    event,
    insert,
    inspect,
    make_url,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Mapper,
    Session,
    make_transient_to_detached,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.orm.attributes import set_committed_value

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


def _table(mapper: Mapper[Any]) -> Table:
    return cast(Table, mapper.local_table)  # every model here maps one table


@cache
def _insert_into(table: Table) -> Insert:
    return insert(table)


@cache
def _update_by_key(table: Table) -> Update:
    """An UPDATE of one row by its primary key (`key_<column>` parameters); the SET clause
    follows the columns given when it runs. Built once per table."""
    return update(table).where(
        *(column == bindparam(f"key_{column.key}") for column in table.primary_key.columns)
    )


@cache
def _insert_together(shape: tuple[tuple[Table, tuple[str, ...], int], ...]) -> Insert:
    """One INSERT of the rows of several tables, each (table, columns, rows) of `shape` but
    the last in a data-modifying WITH, with parameters `r<table>_<row>_<column>`. Built
    once per shape (building it costs more than running it); a table's rows are a UNION ALL
    of one-row SELECTs, as a multi-row VALUES cannot be cached."""

    def parameter(t: int, i: int, table: Table, column: str) -> Any:
        return bindparam(f"r{t}_{i}_{column}", type_=table.c[column].type)

    statements = []
    for t, (table, columns, rows) in enumerate(shape):
        if rows == 1:
            statement = insert(table).values({c: parameter(t, 0, table, c) for c in columns})
        else:
            one_each = [
                select(*(parameter(t, i, table, c).label(c) for c in columns)) for i in range(rows)
            ]
            statement = insert(table).from_select(list(columns), union_all(*one_each))
        statements.append(statement)
    *first, last = statements
    return last.add_cte(*(statement.cte(f"rows_{n}") for n, statement in enumerate(first)))


def write_columns(db: Session, row: Base, values: Mapping[str, Any]) -> None:
    """Set `values` (attribute: value) on `row`. A stored row gets one UPDATE of those that
    differ, outside the unit of work as `insert_row` writes (the row shows them, clean);
    a new one takes them as attributes, for the flush that inserts it."""
    state = inspect(row)
    if not state.persistent:
        for key, value in values.items():
            setattr(row, key, value)
        return
    changed = {key: value for key, value in values.items() if getattr(row, key) != value}
    if not changed:
        return
    mapper = state.mapper
    values_by_column = {
        mapper.get_property(key).columns[0].key: value for key, value in changed.items()
    }
    identity = mapper.primary_key_from_instance(row)
    keys = {
        f"key_{column.key}": value
        for column, value in zip(mapper.primary_key, identity, strict=True)
    }
    db.execute(_update_by_key(_table(mapper)), {**values_by_column, **keys})
    for key, value in changed.items():
        set_committed_value(row, key, value)


def insert_row(db: Session, row: Base) -> None:
    """`insert_rows` of one row."""
    insert_rows(db, [row])


def insert_rows(db: Session, rows: Sequence[Base]) -> None:
    """Write new rows with the values set on them (the columns' defaults fill the rest),
    outside the unit of work: a flush costs several times the statement, and activity
    entries, queued texts and tracking links are written in every lifecycle command.
    Inside `rows_together` they wait for the end of its block.

    A row joins the session as persistent and clean (a later change to it is flushed as an
    UPDATE; a value a default filled is read on first use) when its primary key was set
    before the insert; one whose key the database assigns stays transient."""
    pending = db.info.get(_PENDING_ROWS)
    if pending is None:
        _write_rows(db, rows)
    else:
        pending.extend(rows)


_PENDING_ROWS = "fieldapi.db.pending_rows"


@contextmanager
def rows_together(db: Session) -> Iterator[None]:
    """The rows given to `insert_rows` inside the block are written when it ends, with the
    values they have then, in one statement (each table but the last in a data-modifying
    WITH) and each table's in the order given: for a command that writes several (its
    activity entry, a text, the text's entry, a tracking link), which nothing inside reads.
    Nested blocks join the outer one."""
    if _PENDING_ROWS in db.info:
        yield
        return
    pending: list[Base] = []
    db.info[_PENDING_ROWS] = pending
    try:
        yield
    finally:
        del db.info[_PENDING_ROWS]
    _write_rows(db, pending)


def _write_rows(db: Session, rows: Sequence[Base]) -> None:
    if not rows:
        return
    if db.new:
        db.flush()  # rows added to the session first: the new ones may refer to them
    batches: dict[tuple[Table, frozenset[str]], list[dict[str, Any]]] = {}
    for row in rows:
        state = inspect(row)
        values = {
            column.key: state.dict[attribute.key]
            for attribute in state.mapper.column_attrs
            if attribute.key in state.dict
            for column in attribute.columns[:1]
        }
        batches.setdefault((_table(state.mapper), frozenset(values)), []).append(values)
    if len(batches) == 1:
        [((table, _columns), values_of_rows)] = batches.items()
        db.execute(_insert_into(table), values_of_rows)
    else:
        shape = tuple(
            (table, tuple(sorted(columns)), len(values_of_rows))
            for (table, columns), values_of_rows in batches.items()
        )
        db.execute(
            _insert_together(shape),
            {
                f"r{t}_{i}_{column}": value
                for t, values_of_rows in enumerate(batches.values())
                for i, values in enumerate(values_of_rows)
                for column, value in values.items()
            },
        )
    for row in rows:
        if None not in inspect(row).mapper.primary_key_from_instance(row):
            make_transient_to_detached(row)
            db.add(row)


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
