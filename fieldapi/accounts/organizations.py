"""Organizations: creating one with its first dispatcher, changing its settings, and
what other capabilities read of one (`organization_settings`, `lock_organization`)."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import QueryableAttribute, Session

from fieldapi.accounts.models import ORGANIZATION_KINDS, Organization, User
from fieldapi.accounts.policy import require_manager
from fieldapi.accounts.principal import Principal
from fieldapi.documents.money import check_currency, rate_bp
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
    kind: str = "provider",
) -> tuple[Organization, User]:
    """A new organization and its first user (flushed, not committed): a provider's first
    dispatcher and its connection code, or an enterprise's first manager. Use
    `fieldapi.onboarding.create_organization`, which adds the other capabilities' defaults."""
    if kind not in ORGANIZATION_KINDS:
        raise Unprocessable(
            "The kind is provider or enterprise.", errors={"kind": ["provider or enterprise"]}
        )
    if not name.strip() or not owner_name.strip():
        raise Unprocessable("The organization and its owner need a name.")
    try:
        phone = to_e164(owner_phone, default_region)
    except InvalidPhone as error:
        raise Unprocessable(f"Owner phone: {error}", errors={"phone": [str(error)]}) from error
    check_timezone(timezone)
    if db.scalar(select(User.id).where(User.phone == phone)) is not None:
        raise Conflict(f"The phone number {phone} already belongs to a user.")
    enterprise = kind == "enterprise"
    organization = Organization(
        id=uuid.uuid4(),
        name=name.strip(),
        timezone=timezone,
        kind=kind,
        connection_code=None if enterprise else new_connection_code(),
    )
    owner = User(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name=owner_name.strip(),
        phone=phone,
        role="manager" if enterprise else "dispatcher",
    )
    db.add(organization)
    db.flush()
    db.add(owner)
    db.flush()
    return organization, owner


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out on the phone


def new_connection_code() -> str:
    """12 characters from 32 (60 bits): a provider gives it to an enterprise to connect."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))


def regenerate_connection_code(db: Session, principal: Principal) -> Organization:
    """A new code for the provider (dispatchers); the old one stops connecting."""
    require_manager(principal, "change the connection code")
    organization = db.get_one(Organization, principal.organization_id)
    organization.connection_code = new_connection_code()
    db.commit()
    return organization


BOOKING_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,58}[a-z0-9]")


def _check_booking_slug(db: Session, organization: Organization, slug: str) -> str:
    if not BOOKING_SLUG.fullmatch(slug):
        raise Unprocessable(
            "A booking slug is 3 to 60 lowercase letters, digits and inner dashes.",
            errors={"booking_slug": ["Like done-right-chicago."]},
        )
    taken = db.scalar(
        select(Organization.id).where(
            Organization.booking_slug == slug, Organization.id != organization.id
        )
    )
    if taken is not None:
        raise Conflict("That booking slug is taken.", errors={"booking_slug": ["Taken."]})
    return slug


#: The organization's switches of the customer's schedule texts (and the reminder's lead).
CUSTOMER_TEXT_SETTINGS = frozenset(
    {"booked_texts", "reminder_texts", "reminder_hours", "canceled_texts"}
)


def update_organization(
    db: Session,
    principal: Principal,
    *,
    name: str | None = None,
    timezone: str | None = None,
    arrival_texts: bool | None = None,
    auto_start_on_arrival: bool | None = None,
    currency: str | None = None,
    tax_rate_pct: float | None = None,
    booking_enabled: bool | None = None,
    booking_slug: str | None = None,
    **customer_texts: bool | int,
) -> Organization:
    """Rename, move to another timezone, turn the arrival text or the start on arrival on or
    off (dispatchers)."""
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
    if auto_start_on_arrival is not None:
        organization.auto_start_on_arrival = auto_start_on_arrival
    if currency is not None:
        organization.currency = check_currency(currency)
    if tax_rate_pct is not None:
        organization.tax_rate_bp = rate_bp(tax_rate_pct)
    if booking_slug is not None:
        organization.booking_slug = _check_booking_slug(db, organization, booking_slug)
    if booking_enabled is not None:
        if booking_enabled and organization.booking_slug is None:
            raise Unprocessable(
                "Pick a booking_slug before turning booking on.",
                errors={"booking_slug": ["Needed for booking."]},
            )
        organization.booking_enabled = booking_enabled
    for name in CUSTOMER_TEXT_SETTINGS & customer_texts.keys():
        setattr(organization, name, customer_texts[name])
    db.commit()
    return organization


def organization_name(db: Session, organization_id: uuid.UUID) -> str | None:
    """The organization's name; None when there is no such organization."""
    return db.scalar(select(Organization.name).where(Organization.id == organization_id))


def organization_timezone(db: Session, organization_id: uuid.UUID) -> str:
    """The organization's IANA timezone name."""
    return str(db.scalar(select(Organization.timezone).where(Organization.id == organization_id)))


@dataclass(frozen=True)
class OrganizationSettings:
    """What another capability reads of an organization: its name and its switches."""

    name: str
    arrival_texts: bool
    auto_start_on_arrival: bool
    booked_texts: bool
    reminder_texts: bool
    canceled_texts: bool
    # Held so that the row stays in the session, whose identity map holds rows weakly: the
    # organization read again while these live (`organization_settings`) takes no statement.
    _row: Organization = field(repr=False, compare=False)


def with_organization(
    statement: Select[Any],
    organization_id: ColumnElement[uuid.UUID] | QueryableAttribute[uuid.UUID],
) -> Select[tuple[Any, ...]]:
    """`statement` joined to the organization `organization_id` names, its row beside each
    of theirs: `organization_settings` then reads it with no statement of its own (while
    the row, or settings made of it, are held)."""
    return statement.add_columns(Organization).join(
        Organization, Organization.id == organization_id
    )


def organization_settings(db: Session, organization_id: uuid.UUID) -> OrganizationSettings:
    """The organization's settings, read through the session: no statement when its row is
    there already (`with_organization`, or other settings of it still held)."""
    organization = db.get_one(Organization, organization_id)
    return OrganizationSettings(
        name=organization.name,
        arrival_texts=organization.arrival_texts,
        auto_start_on_arrival=organization.auto_start_on_arrival,
        booked_texts=organization.booked_texts,
        reminder_texts=organization.reminder_texts,
        canceled_texts=organization.canceled_texts,
        _row=organization,
    )


def lock_organization(db: Session, organization_id: uuid.UUID) -> None:
    """Hold the organization's row until the transaction ends, so that two writers of one
    of its lists take turns. NO KEY UPDATE: inserts referencing it (pings, jobs) go on."""
    db.execute(
        select(Organization.id)
        .where(Organization.id == organization_id)
        .with_for_update(key_share=True)
    )
