"""Writes outside the unit of work (`fieldapi.writes`): held writes go as one statement,
a read sees every write before it, an error drops them, an inserted row joins the session."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization
from fieldapi.jobs.models import Customer
from fieldapi.writes import insert_row, write_columns, writes_together


def stored(db: Session, customer_id: uuid.UUID) -> tuple[str, str | None] | None:
    """The customer's name and address as the database has them (a Core read, past the
    session's identity map)."""
    table = Customer.__table__
    row = db.execute(
        select(table.c.name, table.c.address).where(table.c.id == customer_id)
    ).one_or_none()
    return None if row is None else (row.name, row.address)


def new_customer(organization: Organization, name: str) -> Customer:
    return Customer(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name=name,
        phone="+13122000299",
        timezone="America/Chicago",
    )


@pytest.fixture
def org(make_org: Callable[..., Organization]) -> Organization:
    return make_org()


def test_the_writes_held_in_a_block_go_as_one_statement(
    db: Session,
    org: Organization,
    make_customer: Callable[..., Customer],
    count_queries: Callable[[], Any],
) -> None:
    first, second = make_customer(org, name="Ann"), make_customer(org, name="Bob")
    added = new_customer(org, "Cy")
    with count_queries() as statements, writes_together(db):
        write_columns(db, first, {"name": "Ann Lee"})
        write_columns(db, second, {"name": "Bob Roy", "address": "1 Elm St"})
        insert_row(db, added)
        assert statements == []  # held until the block ends
    assert len(statements) == 1
    assert statements[0].lstrip().startswith("WITH")
    assert stored(db, first.id) == ("Ann Lee", first.address)
    assert stored(db, second.id) == ("Bob Roy", "1 Elm St")
    assert stored(db, added.id) == ("Cy", None)
    assert (first.name, second.address) == ("Ann Lee", "1 Elm St")  # the rows show them


def test_a_read_inside_the_block_sees_every_write_before_it(
    db: Session,
    org: Organization,
    make_customer: Callable[..., Customer],
    count_queries: Callable[[], Any],
) -> None:
    customer = make_customer(org, name="Ann")
    with count_queries() as statements, writes_together(db):
        write_columns(db, customer, {"name": "Ann Lee"})
        assert stored(db, customer.id) == ("Ann Lee", customer.address)
        write_columns(db, customer, {"name": "Ann Lee-Roy"})
    assert len(statements) == 3  # the write, the read, the second write
    assert stored(db, customer.id) == ("Ann Lee-Roy", customer.address)


def test_a_row_changed_twice_in_a_block_is_written_once_with_both_changes(
    db: Session,
    org: Organization,
    make_customer: Callable[..., Customer],
    count_queries: Callable[[], Any],
) -> None:
    customer = make_customer(org, name="Ann")
    with count_queries() as statements, writes_together(db):
        write_columns(db, customer, {"name": "Ann Lee"})
        write_columns(db, customer, {"address": "2 Oak Ave"})
    assert len(statements) == 1
    assert stored(db, customer.id) == ("Ann Lee", "2 Oak Ave")


def test_an_error_inside_the_block_writes_nothing_it_held(
    db: Session,
    org: Organization,
    make_customer: Callable[..., Customer],
    count_queries: Callable[[], Any],
) -> None:
    customer = make_customer(org, name="Ann")
    added = new_customer(org, "Cy")
    with count_queries() as statements, pytest.raises(RuntimeError), writes_together(db):
        write_columns(db, customer, {"name": "Ann Lee"})
        insert_row(db, added)
        raise RuntimeError("the command failed")
    assert statements == []
    assert stored(db, customer.id) == ("Ann", customer.address)
    assert stored(db, added.id) is None


def test_an_unchanged_value_writes_nothing(
    db: Session,
    org: Organization,
    make_customer: Callable[..., Customer],
    count_queries: Callable[[], Any],
) -> None:
    customer = make_customer(org, name="Ann")
    with count_queries() as statements:
        write_columns(db, customer, {"name": "Ann"})
    assert statements == []


def test_an_inserted_row_with_its_key_joins_the_session_and_keeps_later_changes(
    db: Session, org: Organization
) -> None:
    added = new_customer(org, "Cy")
    insert_row(db, added)
    assert added in db
    assert added not in db.dirty and added not in db.new
    added.address = "3 Pine Rd"
    db.flush()
    assert stored(db, added.id) == ("Cy", "3 Pine Rd")


def test_a_commit_inside_the_block_writes_what_it_held(
    db: Session,
    org: Organization,
    make_customer: Callable[..., Customer],
    count_queries: Callable[[], Any],
) -> None:
    customer = make_customer(org, name="Ann")
    with writes_together(db):
        write_columns(db, customer, {"name": "Ann Lee"})
        with count_queries() as statements:
            db.commit()  # the session is clean: no flush would carry the write
        assert [s.split()[0] for s in statements] == ["UPDATE"]
    assert stored(db, customer.id) == ("Ann Lee", customer.address)
