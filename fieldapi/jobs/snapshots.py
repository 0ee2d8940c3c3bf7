"""Rows to lifecycle snapshots and back: the only place a status is written to a row."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from fieldapi import lifecycle as lc
from fieldapi.jobs.models import Appointment, Job
from fieldapi.writes import write_columns


def appointment_snapshot(row: Appointment) -> lc.Appointment:
    return lc.Appointment(
        id=str(row.id),
        status=lc.AppointmentStatus(row.status),
        technician_id=None if row.technician_id is None else str(row.technician_id),
        reason_code=row.reason_code,
        outcome=None if row.outcome is None else lc.Outcome(row.outcome),
        ended_at=row.ended_at,
        canceled_by_job=row.canceled_by_job,
    )


def job_snapshot(job: Job, appointments: Sequence[Appointment]) -> lc.Job:
    return lc.Job(
        offer=lc.OfferState(job.offer_state),
        canceled=job.canceled,
        appointments=tuple(appointment_snapshot(row) for row in appointments),
        status=lc.JobStatus(job.status),
    )


def write_back(
    db: Session,
    job: Job,
    rows: Sequence[Appointment],
    decision: lc.Decision,
    *,
    at: datetime,
    new_rows: Mapping[str, Appointment] | None = None,
    pause_reason: str | None = None,
) -> None:
    """Carry the decision's snapshot into the rows: appointment facts, removed and added
    appointments, and the job's offer state, canceled flag and (derived) status; the job's
    `updated_at` becomes `at`. A stored row gets one UPDATE of what changed."""
    by_id = {str(row.id): row for row in rows}
    kept: set[str] = set()
    for snap in decision.job.appointments:
        row = by_id.get(snap.id) or (new_rows or {}).get(snap.id)
        if row is None:
            raise LookupError(f"the decision names an unknown appointment {snap.id}")
        if snap.id not in by_id:
            db.add(row)
        values: dict[str, object] = {
            "status": str(snap.status),
            "technician_id": None if snap.technician_id is None else uuid.UUID(snap.technician_id),
            "reason_code": snap.reason_code,
            "outcome": None if snap.outcome is None else str(snap.outcome),
            "ended_at": snap.ended_at,
            "canceled_by_job": snap.canceled_by_job,
        }
        if row.status != snap.status and snap.status == lc.AppointmentStatus.PAUSED:
            values["pause_reason"] = pause_reason
        if any(getattr(row, key) != value for key, value in values.items()):
            values["updated_at"] = at
        write_columns(db, row, values)
        kept.add(snap.id)
    for appointment_id, row in by_id.items():
        if appointment_id not in kept:
            db.delete(row)
    write_columns(
        db,
        job,
        {
            "offer_state": str(decision.job.offer),
            "canceled": decision.job.canceled,
            "status": str(decision.to_status),
            "updated_at": at,
        },
    )
