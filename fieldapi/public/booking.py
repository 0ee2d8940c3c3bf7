"""Booking requests: the customer proves their number with an SMS code (the passcode
machinery with its own purpose and the same limits), then asks for a visit; the
organization gets an `offered` job with `source: booking` and its dispatchers a text.

Every answer is the same whether the number is already a customer or not.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.accounts.organizations import BOOKING_SLUG
from fieldapi.accounts.passcodes import (
    BOOKING,
    PasscodeRules,
    PasscodeSent,
    redeem_code,
    request_passcode,
)
from fieldapi.errors import NotFound, Unprocessable
from fieldapi.jobs import commands
from fieldapi.jobs.customers import site_point
from fieldapi.jobs.models import Customer
from fieldapi.messaging import templates
from fieldapi.messaging.outbox import queue_message

MAX_WINDOWS = 3
MAX_WINDOW = timedelta(hours=12)
MAX_AHEAD = timedelta(days=90)
NO_SUCH_PAGE = "No such booking page."


@dataclass(frozen=True)
class BookingRequest:
    name: str
    phone: str
    passcode: str
    address: str
    description: str
    lat: float | None = None
    lon: float | None = None
    email: str | None = None
    preferred_windows: tuple[tuple[datetime, datetime], ...] = ()


def booking_organization(db: Session, slug: str) -> Organization:
    """The organization whose booking page this is, if it is turned on; else NotFound."""
    found = None
    if BOOKING_SLUG.fullmatch(slug):
        found = db.scalar(
            select(Organization).where(
                Organization.booking_slug == slug, Organization.booking_enabled
            )
        )
    if found is None:
        raise NotFound(NO_SUCH_PAGE)
    return found


def request_booking_code(
    db: Session, slug: str, phone: str, *, secret_key: str, now: datetime, rules: PasscodeRules
) -> PasscodeSent:
    """Text a booking code to the number (any number: the customer proves they hold it)."""
    organization = booking_organization(db, slug)
    return request_passcode(
        db, phone, secret_key=secret_key, now=now, rules=rules, booking_for=organization
    )


def submit_booking(
    db: Session,
    slug: str,
    request: BookingRequest,
    *,
    secret_key: str,
    now: datetime,
    rules: PasscodeRules,
) -> uuid.UUID:
    """Check everything, then use up the code, then create (or find by phone) the customer
    and the offered job, and text the dispatchers; one commit. The job's id."""
    organization = booking_organization(db, slug)
    windows = _check_windows(request.preferred_windows, now)
    phone = redeem_code(
        db,
        request.phone,
        request.passcode,
        secret_key=secret_key,
        now=now,
        rules=rules,
        purpose=BOOKING,
    )
    customer = db.scalar(
        select(Customer)
        .where(Customer.organization_id == organization.id, Customer.phone == phone)
        .order_by(Customer.created_at)
        .limit(1)
    )
    if customer is None:
        customer = Customer(
            id=uuid.uuid4(),
            organization_id=organization.id,
            name=request.name,
            phone=phone,
            email=request.email,
            address=request.address,
            site=None
            if request.lat is None or request.lon is None
            else site_point(request.lat, request.lon),
            timezone=organization.timezone,
            created_at=now,
            updated_at=now,
        )
        db.add(customer)
        db.flush()
    job_id = commands.create_booking_request(
        db,
        organization_id=organization.id,
        customer_id=customer.id,
        title=_title(request.description),
        description=f"{request.description}\n\nAddress given: {request.address}",
        preferred_windows=windows,
        now=now,
    )
    for dispatcher in db.scalars(
        select(User).where(
            User.organization_id == organization.id,
            User.active,
            User.role.in_(("dispatcher", "both")),
        )
    ):
        queue_message(
            db,
            organization_id=organization.id,
            to=dispatcher.phone,
            body=templates.booking_request(request.name, request.description),
            purpose="booking_request",
            allowed_regions=rules.allowed_regions,
            job_id=job_id,
        )
    db.commit()
    return job_id


def _title(description: str) -> str:
    first_line = description.strip().splitlines()[0]
    return first_line if len(first_line) <= 80 else first_line[:77] + "..."


def _check_windows(
    windows: tuple[tuple[datetime, datetime], ...], now: datetime
) -> list[dict[str, Any]]:
    if len(windows) > MAX_WINDOWS:
        raise Unprocessable(
            f"At most {MAX_WINDOWS} preferred windows.",
            errors={"preferred_windows": [f"At most {MAX_WINDOWS}."]},
        )
    checked = []
    for index, (start, end) in enumerate(windows):
        problem = None
        if start <= now:
            problem = "Starts in the past."
        elif end <= start:
            problem = "Ends before it starts."
        elif end - start > MAX_WINDOW:
            problem = "At most 12 hours long."
        elif start > now + MAX_AHEAD:
            problem = "At most 90 days ahead."
        if problem:
            raise Unprocessable(
                f"Preferred window {index + 1}: {problem}",
                errors={"preferred_windows": {str(index): [problem]}},
            )
        checked.append({"start": start.isoformat(), "end": end.isoformat()})
    return checked
