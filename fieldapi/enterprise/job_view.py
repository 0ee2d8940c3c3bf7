"""The enterprise's view of the jobs it offered: what its API answers and its webhooks carry.

The provider's status (or `declined`), the provider organization, the customer and the
appointments' times and statuses; never a provider user's name, phone or position.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization
from fieldapi.jobs.models import Job

DECLINED = "declined"


def enterprise_status(job: Job) -> str:
    return DECLINED if job.offer_state == DECLINED else job.status


def provider_names(db: Session, jobs: Iterable[Job]) -> dict[uuid.UUID, str]:
    ids = {job.organization_id for job in jobs}
    if not ids:
        return {}
    rows = db.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids)))
    return {org_id: name for org_id, name in rows}


def job_view(job: Job, provider_name: str) -> dict[str, Any]:
    customer = job.customer
    lat_lon = customer.lat_lon
    declined = job.offer_state == DECLINED
    return {
        "id": job.id,
        "external_id": job.external_id,
        "title": job.title,
        "description": job.description,
        "status": enterprise_status(job),
        "provider": {"id": job.organization_id, "name": provider_name},
        "customer": {
            "name": customer.name,
            "phone": customer.phone,
            "email": customer.email,
            "address": customer.address,
            "lat": None if lat_lon is None else lat_lon[0],
            "lon": None if lat_lon is None else lat_lon[1],
            "timezone": customer.timezone,
        },
        "appointment_windows": job.appointment_windows,
        "appointments": []
        if declined
        else [
            {
                "id": row.id,
                "starts_at": row.starts_at,
                "duration_min": row.duration_min,
                "status": row.status,
            }
            for row in job.appointments
        ],
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    }


def job_view_of(db: Session, job: Job) -> dict[str, Any]:
    return job_view(job, provider_names(db, [job])[job.organization_id])
