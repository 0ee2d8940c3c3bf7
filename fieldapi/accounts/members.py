"""What other capabilities ask of the users table: is someone a member, their name in a
query, their on-duty flag."""

from __future__ import annotations

import uuid

from sqlalchemy import ScalarSelect, select, update
from sqlalchemy.orm import QueryableAttribute, Session

from fieldapi.accounts.models import User


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
