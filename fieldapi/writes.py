"""Writes outside SQLAlchemy's unit of work, for the rows every lifecycle command writes:
new rows (activity entries, queued texts, tracking links) and the changed columns of a job
and its appointments. A flush of those six rows cost ~5 ms of CPU, several times the
statements themselves.

Inside `writes_together(db)` the writes wait and go to PostgreSQL as one statement (each
but the last in a data-modifying WITH) just before the next statement the session runs or
flushes or commits, or when the block ends: consecutive writes take one round trip, and a
read always sees every write before it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    ColumnDefault,
    Table,
    bindparam,
    event,
    insert,
    inspect,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Mapper, ORMExecuteState, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import Insert, Update, UpdateBase

from fieldapi.db import Base

_PENDING = "fieldapi.writes.pending"


@dataclass
class _Pending:
    inserts: list[Base] = field(default_factory=list)
    # (table, primary key) -> {column: value}: a row changed twice is written once (one
    # statement may not update a row twice).
    updates: dict[tuple[Table, tuple[Any, ...]], dict[str, Any]] = field(default_factory=dict)


def insert_row(db: Session, row: Base) -> None:
    """`insert_rows` of one row."""
    insert_rows(db, [row])


def insert_rows(db: Session, rows: Sequence[Base]) -> None:
    """Write new rows with the values set on them (the columns' defaults fill the rest).

    A row joins the session as persistent and clean (a later change to it is flushed as an
    UPDATE; a value a default filled is read on first use) when its primary key was set
    before the insert; one whose key the database assigns stays transient."""
    pending = db.info.get(_PENDING)
    if pending is None:
        _execute(db, _Pending(inserts=list(rows)))
    else:
        pending.inserts.extend(rows)


def write_columns(db: Session, row: Base, values: Mapping[str, Any]) -> None:
    """Set `values` (attribute: value) on `row`. A stored row gets an UPDATE of those that
    differ, with the values of its columns' `onupdate` defaults (an `updated_at`) unless
    given, and shows them at once, clean; a new one takes them as attributes, for the flush
    that inserts it."""
    state = inspect(row)
    if not state.persistent:
        for key, value in values.items():
            setattr(row, key, value)
        return
    changed = {key: value for key, value in values.items() if getattr(row, key) != value}
    if not changed:
        return
    mapper = state.mapper
    for key, onupdate in _python_defaults(mapper, "onupdate"):
        if key not in changed:
            # Written here, not left to the statement: the row shows it, and two UPDATEs of
            # one table in one statement may not both have SQLAlchemy fill it.
            changed[key] = _default_value(onupdate)
    for key, value in changed.items():
        set_committed_value(row, key, value)
    column_of = _column_keys(mapper)
    columns = {column_of[key]: value for key, value in changed.items()}
    identity = (_table(mapper), tuple(mapper.primary_key_from_instance(row)))
    pending = db.info.get(_PENDING)
    if pending is None:
        _execute(db, _Pending(updates={identity: columns}))
    else:
        pending.updates.setdefault(identity, {}).update(columns)


@contextmanager
def writes_together(db: Session) -> Iterator[None]:
    """Hold the writes made inside the block until the session's next statement, its next
    flush or the end of the block (see the module's docstring). Nested blocks join the
    outer one; after an error inside, the held writes are dropped with the transaction."""
    if _PENDING in db.info:
        yield
        return
    db.info[_PENDING] = _Pending()
    try:
        yield
        write_pending(db)
    finally:
        del db.info[_PENDING]


def write_pending(db: Session) -> None:
    """Write what `writes_together` holds now."""
    pending = db.info.get(_PENDING)
    if pending is not None and (pending.inserts or pending.updates):
        db.info[_PENDING] = _Pending()
        _execute(db, pending)


@event.listens_for(Session, "do_orm_execute")
def _before_a_statement(state: ORMExecuteState) -> None:
    write_pending(state.session)


@event.listens_for(Session, "before_flush")
def _before_a_flush(session: Session, _context: Any, _instances: Any) -> None:
    write_pending(session)


@event.listens_for(Session, "before_commit")
def _before_a_commit(session: Session) -> None:
    write_pending(session)  # a commit of a clean session flushes nothing


def _execute(db: Session, pending: _Pending) -> None:
    if pending.inserts and db.new:
        db.flush()  # rows added to the session first: the new ones may refer to them
    shape: list[tuple[str, Table, tuple[str, ...], int]] = []
    parameters: dict[str, Any] = {}
    for (table, key), changed in pending.updates.items():
        n = len(shape)
        shape.append(("update", table, tuple(sorted(changed)), 1))
        parameters.update({f"s{n}_{column}": value for column, value in changed.items()})
        keys = zip(table.primary_key.columns, key, strict=True)
        parameters.update({f"s{n}_key_{column.key}": value for column, value in keys})
    batches: dict[tuple[Table, frozenset[str]], list[dict[str, Any]]] = {}
    for row in pending.inserts:
        state = inspect(row)
        _fill_defaults(row, state.mapper)
        values = {
            column: state.dict[key]
            for key, column in _column_keys(state.mapper).items()
            if key in state.dict
        }
        batches.setdefault((_table(state.mapper), frozenset(values)), []).append(values)
    for (table, names), rows in batches.items():
        n = len(shape)
        shape.append(("insert", table, tuple(sorted(names)), len(rows)))
        for i, values_of_row in enumerate(rows):
            parameters.update({f"s{n}_{i}_{c}": value for c, value in values_of_row.items()})
    if shape:
        db.execute(_together(tuple(shape)), parameters)
    for row in pending.inserts:
        if None not in inspect(row).mapper.primary_key_from_instance(row):
            make_transient_to_detached(row)
            db.add(row)


@cache
def _together(shape: tuple[tuple[str, Table, tuple[str, ...], int], ...]) -> UpdateBase:
    """One statement of the writes `shape` lists: ("update", table, columns, 1) by primary
    key, ("insert", table, columns, rows); each but the last in a data-modifying WITH.
    Parameters `s<n>_<column>` and `s<n>_key_<column>` for an update, `s<n>_<row>_<column>`
    for an insert. Built once per shape (building it costs more than running it); an
    insert's rows are a UNION ALL of one-row SELECTs, as a multi-row VALUES is not cached.
    """
    statements: list[Insert | Update] = []
    for n, (kind, table, columns, rows) in enumerate(shape):
        if kind == "update":
            keys = table.primary_key.columns
            statements.append(
                update(table)
                .where(*(c == _parameter(n, f"key_{c.key}", table, c.key) for c in keys))
                .values({c: _parameter(n, c, table, c) for c in columns})
            )
        elif rows == 1:
            values = {c: _parameter(n, f"0_{c}", table, c) for c in columns}
            statements.append(insert(table).values(values))
        else:
            one_each = [
                select(*(_parameter(n, f"{i}_{c}", table, c).label(c) for c in columns))
                for i in range(rows)
            ]
            statements.append(insert(table).from_select(list(columns), union_all(*one_each)))
    *first, last = statements
    if not first:
        return last
    return last.add_cte(*(statement.cte(f"write_{n}") for n, statement in enumerate(first)))


@cache
def _python_defaults(mapper: Mapper[Any], kind: str) -> tuple[tuple[str, ColumnDefault], ...]:
    """(attribute, default) of the columns with a Python-side `default` or `onupdate`
    (`kind`), a constant or a function: SQLAlchemy does not fill them in a WITH."""
    found = []
    for column in _table(mapper).columns:
        default = getattr(column, kind)
        if isinstance(default, ColumnDefault) and not default.is_clause_element:
            found.append((mapper.get_property_by_column(column).key, default))
    return tuple(found)


@cache
def _column_keys(mapper: Mapper[Any]) -> dict[str, str]:
    """Attribute -> column name, of the mapped columns."""
    return {attribute.key: attribute.columns[0].key for attribute in mapper.column_attrs}


def _default_value(default: ColumnDefault) -> Any:
    return default.arg(None) if default.is_callable else default.arg


def _fill_defaults(row: Base, mapper: Mapper[Any]) -> None:
    """Set on a new row the Python-side defaults of the columns it was not given."""
    given = inspect(row).dict
    for key, default in _python_defaults(mapper, "default"):
        if key not in given:
            setattr(row, key, _default_value(default))


def _parameter(n: int, name: str, table: Table, column: str) -> Any:
    return bindparam(f"s{n}_{name}", type_=table.c[column].type)


def _table(mapper: Mapper[Any]) -> Table:
    return cast(Table, mapper.local_table)  # every model here maps one table
