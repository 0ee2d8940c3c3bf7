"""Offers: an enterprise sends a job to a provider it is connected to.

One transaction: the provider's customer (matched by phone within the provider), the
`offered` job (through the lifecycle, in `jobs.commands.create_offer`) and the texts to the
provider's dispatchers. `external_id` is unique per enterprise: a retry answers the job
made the first time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fieldapi.accounts.directory import lock_organization
from fieldapi.accounts.principal import Principal
from fieldapi.enterprise.access import require_enterprise_manager
from fieldapi.enterprise.connections import active_connection
from fieldapi.enterprise.job_view import JobRef
from fieldapi.enterprise.texts import TextRules, offer_text, text_dispatchers
from fieldapi.errors import NotFound, Unprocessable
from fieldapi.jobs.commands import create_offer
from fieldapi.jobs.customers import find_or_add_customer
from fieldapi.jobs.enterprise_access import offered_job_id

MAX_WINDOWS = 20


@dataclass(frozen=True)
class OfferInput:
    provider_id: uuid.UUID
    title: str
    customer: dict[str, Any]
    description: str | None = None
    external_id: str | None = None
    appointment_windows: list[dict[str, datetime]] = field(default_factory=list)


@dataclass(frozen=True)
class Offered:
    job_id: uuid.UUID
    created: bool


def check_windows(windows: list[dict[str, datetime]], *, now: datetime) -> list[dict[str, str]]:
    """Each window has an offset, ends after it starts and has not ended yet."""
    if len(windows) > MAX_WINDOWS:
        raise Unprocessable(
            f"At most {MAX_WINDOWS} appointment windows.",
            errors={"appointment_windows": [f"At most {MAX_WINDOWS}."]},
        )
    checked = []
    for index, window in enumerate(windows):
        start, end = window["start"], window["end"]
        problem = None
        if start.utcoffset() is None or end.utcoffset() is None:
            problem = "give times with an offset"
        elif end <= start:
            problem = "the window ends before it starts"
        elif end <= now:
            problem = "the window lies in the past"
        if problem:
            raise Unprocessable(
                f"Appointment window {index + 1}: {problem}.",
                errors={"appointment_windows": {str(index): [problem]}},
            )
        checked.append({"start": start.isoformat(), "end": end.isoformat()})
    return checked


def make_offer(
    db: Session, principal: Principal, offer: OfferInput, *, now: datetime, rules: TextRules
) -> Offered:
    """404 unless the provider is connected (active); 422 for bad input, nothing written."""
    require_enterprise_manager(principal)
    enterprise_id = principal.organization_id
    windows = check_windows(offer.appointment_windows, now=now)
    # Offers of one enterprise take turns: a retry racing the first try finds its job.
    enterprise_name = lock_organization(db, enterprise_id)
    assert enterprise_name is not None
    if offer.external_id is not None:
        found = offered_job_id(db, enterprise_id, offer.external_id)
        if found is not None:
            return Offered(found, created=False)
    if active_connection(db, enterprise_id, offer.provider_id) is None:
        raise NotFound(
            "No connected provider with this id.", errors={"provider_id": ["Not connected."]}
        )
    try:
        customer = find_or_add_customer(
            db, offer.provider_id, now=now, phone_region=rules.phone_region, **offer.customer
        )
    except Unprocessable as error:  # name the field where the caller put it
        raise Unprocessable(
            f"Customer: {error.message}", errors={"customer": error.errors}
        ) from error
    body = offer_text(enterprise_name, offer.title.strip())

    def text_the_dispatchers(job: JobRef) -> None:
        text_dispatchers(
            db, offer.provider_id, body=body, purpose="job_offer", job_id=job.id, rules=rules
        )

    job_id = create_offer(
        db,
        organization_id=offer.provider_id,
        offered_by_id=enterprise_id,
        customer_id=customer.id,
        title=offer.title,
        description=offer.description,
        external_id=offer.external_id,
        appointment_windows=windows,
        acting_name=principal.name,
        now=now,
        before_commit=text_the_dispatchers,
    )
    return Offered(job_id, created=True)
