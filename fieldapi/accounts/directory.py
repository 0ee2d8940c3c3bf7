"""What other capabilities look up of organizations and their users without their models:
names, a provider by its connection code, an organization's row lock, the numbers of a
provider's dispatchers."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User


@dataclass(frozen=True)
class OrganizationRef:
    id: uuid.UUID
    name: str


def organization_names(db: Session, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The names of the organizations `ids` names (those that exist)."""
    if not ids:
        return {}
    rows = db.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids)))
    return {organization_id: name for organization_id, name in rows}


def organizations_among(db: Session, ids: Select[uuid.UUID]) -> list[OrganizationRef]:
    """The organizations whose ids the caller's query `ids` selects, by name: one
    statement, the caller's table stays the caller's."""
    rows = db.execute(
        select(Organization.id, Organization.name)
        .where(Organization.id.in_(ids))
        .order_by(Organization.name, Organization.id)
    )
    return [OrganizationRef(organization_id, name) for organization_id, name in rows]


def provider_with_code(db: Session, connection_code: str) -> uuid.UUID | None:
    """The provider whose connection code this is (as stored: upper case)."""
    return db.scalar(
        select(Organization.id).where(
            Organization.connection_code == connection_code, Organization.kind == "provider"
        )
    )


def lock_organization(db: Session, organization_id: uuid.UUID) -> str | None:
    """The organization's name, its row locked FOR NO KEY UPDATE to the commit: callers
    that lock the same organization take turns (rows that only point at it do not wait)."""
    return db.scalar(
        select(Organization.name)
        .where(Organization.id == organization_id)
        .with_for_update(key_share=True)
    )


def dispatcher_phones(db: Session, organization_id: uuid.UUID) -> list[str]:
    """The numbers of the organization's active dispatchers (roles dispatcher and both)."""
    phones = db.scalars(
        select(User.phone).where(
            User.organization_id == organization_id,
            User.active.is_(True),
            User.role.in_(("dispatcher", "both")),
        )
    )
    return list(phones)
