"""The enterprise's view of the jobs it offered: what its API answers and its webhooks carry
(dumped by `schemas.EnterpriseJobSchema` and `schemas.WebhookJobSchema`).

The provider's status (or `declined`), the provider organization, the customer and the
appointments' times and statuses; never a provider user's name, phone or position.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from fieldapi import lifecycle as lc
from fieldapi.accounts.directory import OrganizationRef, organization_names
from fieldapi.jobs.enterprise_access import OfferedAppointment, OfferedCustomer, OfferedJob

DECLINED = lc.OfferState.DECLINED.value
ENTERPRISE_STATUSES = (*(status.value for status in lc.JobStatus), DECLINED)


class JobRef(Protocol):
    """A job the jobs capability hands to the enterprise side (to an event, to an offer's
    texts): its id and who offered it."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def offered_by_id(self) -> uuid.UUID | None: ...


@dataclass(frozen=True)
class EnterpriseJob:
    id: uuid.UUID
    external_id: str | None
    title: str
    description: str | None
    status: str
    provider: OrganizationRef
    customer: OfferedCustomer
    appointment_windows: list[dict[str, str]]
    appointments: tuple[OfferedAppointment, ...]
    created_at: datetime
    updated_at: datetime


def enterprise_job(job: OfferedJob, provider_name: str) -> EnterpriseJob:
    return EnterpriseJob(
        id=job.id,
        external_id=job.external_id,
        title=job.title,
        description=job.description,
        status=DECLINED if job.declined else job.status,
        provider=OrganizationRef(job.provider_id, provider_name),
        customer=job.customer,
        appointment_windows=job.appointment_windows,
        appointments=() if job.declined else job.appointments,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


def enterprise_jobs(db: Session, jobs: list[OfferedJob]) -> list[EnterpriseJob]:
    """The enterprise's view of each job, with its provider's name."""
    names = organization_names(db, {job.provider_id for job in jobs})
    return [enterprise_job(job, names[job.provider_id]) for job in jobs]
