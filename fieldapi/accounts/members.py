"""What other capabilities ask of the users table: is someone a member, who they are
(`Member`), their name in a query, their on-duty flag."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, select, update
from sqlalchemy.orm import QueryableAttribute, Session

from fieldapi.accounts.models import User


@dataclass(frozen=True)
class Member:
    """A user as another capability sees them."""

    id: uuid.UUID
    name: str
    first_name: str
    active: bool
    is_technician: bool
    # Held so that the row stays in the session, whose identity map holds rows weakly: the
    # user read again while this lives (`member`) takes no statement.
    _row: User = field(repr=False, compare=False)

    @classmethod
    def of(cls, user: User) -> Member:
        return cls(user.id, user.name, user.first_name, user.active, user.is_technician, user)


def members_by_id(db: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Member]:
    """The users with these ids (one statement; none without ids)."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {
        user.id: Member.of(user) for user in db.scalars(select(User).where(User.id.in_(wanted)))
    }


def member_of(db: Session, organization_id: uuid.UUID, user_id: uuid.UUID) -> Member | None:
    """The user, if they are in that organization (active or not)."""
    user = db.scalar(
        select(User).where(User.id == user_id, User.organization_id == organization_id)
    )
    return None if user is None else Member.of(user)


def member(db: Session, user_id: uuid.UUID) -> Member | None:
    """The user, read through the session: no statement when their row is there already
    (`with_member`'s rows or a `Member` of them still held)."""
    user = db.get(User, user_id)
    return None if user is None else Member.of(user)


def with_member(
    statement: Select[Any],
    user_id: ColumnElement[uuid.UUID | None] | QueryableAttribute[uuid.UUID | None],
) -> Select[tuple[Any, ...]]:
    """`statement` with the user `user_id` names beside each row (None where it names none),
    to make a `Member.of`: `member` then reads them with no statement of their own."""
    return statement.add_columns(User).outerjoin(User, User.id == user_id)


def is_member(db: Session, organization_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Whether the user exists in that organization (active or not)."""
    found = db.scalar(
        select(User.id).where(User.id == user_id, User.organization_id == organization_id)
    )
    return found is not None


def name_of(user_id: QueryableAttribute[uuid.UUID]) -> ScalarSelect[str]:
    """SQL for the name of the user `user_id` (a column) names, within the same statement."""
    return select(User.name).where(User.id == user_id).scalar_subquery()


def set_on_duty(db: Session, organization_id: uuid.UUID, user_id: uuid.UUID, on_duty: bool) -> None:
    """Start or stop the user's tracking; the caller commits."""
    db.execute(
        update(User)
        .where(User.id == user_id, User.organization_id == organization_id)
        .values(on_duty=on_duty)
    )
