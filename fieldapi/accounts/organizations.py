"""Organizations: creating one with its first dispatcher, changing its settings."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.accounts.policy import require_manager
from fieldapi.accounts.principal import Principal
from fieldapi.errors import Conflict, Unprocessable
from fieldapi.phones import InvalidPhone, to_e164


def check_timezone(name: str) -> str:
    """An IANA timezone name, as the apps send it (`America/Chicago`)."""
    if not isinstance(name, str) or name not in available_timezones():
        raise Unprocessable(
            f"Unknown timezone {name!r}; use an IANA name like America/Chicago.",
            errors={"timezone": ["Unknown timezone."]},
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise Unprocessable(f"Unknown timezone {name!r}.") from error
    return name


def create_organization_and_owner(
    db: Session,
    *,
    name: str,
    owner_name: str,
    owner_phone: str,
    timezone: str = "America/New_York",
    default_region: str = "US",
) -> tuple[Organization, User]:
    """A new organization and its first dispatcher (flushed, not committed). Use
    `fieldapi.onboarding.create_organization`, which adds the other capabilities' defaults."""
    if not name.strip() or not owner_name.strip():
        raise Unprocessable("The organization and its owner need a name.")
    try:
        phone = to_e164(owner_phone, default_region)
    except InvalidPhone as error:
        raise Unprocessable(f"Owner phone: {error}", errors={"phone": [str(error)]}) from error
    check_timezone(timezone)
    if db.scalar(select(User.id).where(User.phone == phone)) is not None:
        raise Conflict(f"The phone number {phone} already belongs to a user.")
    organization = Organization(id=uuid.uuid4(), name=name.strip(), timezone=timezone)
    owner = User(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name=owner_name.strip(),
        phone=phone,
        role="dispatcher",
    )
    db.add(organization)
    db.flush()
    db.add(owner)
    db.flush()
    return organization, owner


def update_organization(
    db: Session,
    principal: Principal,
    *,
    name: str | None = None,
    timezone: str | None = None,
    arrival_texts: bool | None = None,
) -> Organization:
    """Rename, move to another timezone, or turn the arrival text on or off (dispatchers)."""
    require_manager(principal, "change the organization's settings")
    organization = db.get_one(Organization, principal.organization_id)
    if name is not None:
        if not name.strip():
            raise Unprocessable("The organization needs a name.", errors={"name": ["Blank."]})
        organization.name = " ".join(name.split())
    if timezone is not None:
        organization.timezone = check_timezone(timezone)
    if arrival_texts is not None:
        organization.arrival_texts = arrival_texts
    db.commit()
    return organization
