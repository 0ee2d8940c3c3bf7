"""A new organization, ready to work: accounts' organization and first dispatcher, plus
the defaults each capability keeps for it (today: jobs' complete reasons)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.accounts.organizations import create_organization_and_owner
from fieldapi.jobs.reasons import add_default_reasons


def create_organization(
    db: Session,
    *,
    name: str,
    owner_name: str,
    owner_phone: str,
    timezone: str = "America/New_York",
    default_region: str = "US",
) -> tuple[Organization, User]:
    """A new organization, its first dispatcher and its default complete reasons (flushed,
    not committed)."""
    organization, owner = create_organization_and_owner(
        db,
        name=name,
        owner_name=owner_name,
        owner_phone=owner_phone,
        timezone=timezone,
        default_region=default_region,
    )
    add_default_reasons(db, organization.id)
    return organization, owner
