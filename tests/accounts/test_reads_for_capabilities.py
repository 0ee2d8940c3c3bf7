"""What other capabilities read of users and organizations: `accounts.members` and
`accounts.organizations` give them members, settings and the organization's lock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, Uuid, literal, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from fieldapi.accounts.members import Member, member, member_of, members_by_id, with_member
from fieldapi.accounts.models import Organization, User
from fieldapi.accounts.organizations import (
    lock_organization,
    organization_settings,
    with_organization,
)
from fieldapi.onboarding import create_organization
from tests.conftest import unique_phone


def test_members_by_id_are_the_users_named_in_one_statement(
    db: Session, dispatcher: User, technician: User, count_queries: Callable[[], Any]
) -> None:
    with count_queries() as statements:
        found = members_by_id(db, [technician.id, dispatcher.id, technician.id])
    assert len(statements) == 1
    assert found.keys() == {technician.id, dispatcher.id}
    sam = found[technician.id]
    assert (sam.name, sam.first_name, sam.active, sam.is_technician) == (
        "Sam Ortiz",
        "Sam",
        True,
        True,
    )
    assert found[dispatcher.id].is_technician is False


def test_no_ids_no_members_and_no_statement(db: Session, count_queries: Callable[[], Any]) -> None:
    with count_queries() as statements:
        assert members_by_id(db, []) == {}
    assert statements == []


def test_member_of_an_organization_is_none_for_another_organizations_user(
    db: Session,
    org: Organization,
    technician: User,
    make_org: Callable[..., Organization],
) -> None:
    other = make_org(name="Elsewhere Plumbing")
    assert member_of(db, other.id, technician.id) is None
    found = member_of(db, org.id, technician.id)
    assert found is not None and found.name == "Sam Ortiz"


def test_with_member_brings_the_user_so_member_needs_no_statement_of_its_own(
    db: Session, org: Organization, technician: User, count_queries: Callable[[], Any]
) -> None:
    db.expunge_all()
    with count_queries() as statements:
        assert member(db, technician.id) is not None
    assert len(statements) == 1  # not in the session yet: read

    db.expunge_all()

    def row_naming(user_id: uuid.UUID | None) -> Any:
        statement = select(Organization.id).where(Organization.id == org.id)
        return db.execute(with_member(statement, literal(user_id, Uuid))).one()

    assert row_naming(None)[1] is None
    held = Member.of(row_naming(technician.id)[1])
    with count_queries() as statements:
        found = member(db, technician.id)
    assert statements == []
    assert found == held and found.first_name == "Sam"


def test_organization_settings_with_the_organization_loaded_take_no_statement(
    db: Session, org: Organization, dispatcher: User, count_queries: Callable[[], Any]
) -> None:
    org.arrival_texts = False
    org.canceled_texts = False
    org.auto_start_on_arrival = True
    db.commit()
    db.expunge_all()
    row = db.execute(
        with_organization(select(User).where(User.id == dispatcher.id), User.organization_id)
    ).one()
    with count_queries() as statements:
        settings = organization_settings(db, org.id)
    assert statements == []
    assert row[1].id == org.id
    assert settings.name == "Done Right Home Services"
    assert (settings.arrival_texts, settings.canceled_texts, settings.booked_texts) == (
        False,
        False,
        True,
    )
    assert settings.auto_start_on_arrival is True


def test_settings_held_keep_the_organization_so_reading_it_again_takes_no_statement(
    db: Session, org: Organization, count_queries: Callable[[], Any]
) -> None:
    db.expunge_all()
    with count_queries() as statements:
        first = organization_settings(db, org.id)
        again = organization_settings(db, org.id)
    assert len(statements) == 1
    assert again == first


@pytest.fixture
def committed_org(committed: Session) -> uuid.UUID:
    organization, _owner = create_organization(
        committed, name="Lock Co", owner_name="Dana Reyes", owner_phone=unique_phone()
    )
    committed.commit()
    return organization.id


def test_lock_organization_makes_a_second_writer_wait_but_not_an_insert_referencing_it(
    engine: Engine, committed_org: uuid.UUID
) -> None:
    with Session(engine) as holder, Session(engine) as writer, Session(engine) as inserter:
        lock_organization(holder, committed_org)

        writer.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            lock_organization(writer, committed_org)
        writer.rollback()

        inserter.execute(text("SET LOCAL lock_timeout = '2s'"))
        inserter.add(
            User(organization_id=committed_org, name="Lee Chen", phone=unique_phone(), role="both")
        )
        inserter.flush()  # the foreign key's check shares the lock
        inserter.rollback()
        holder.rollback()
