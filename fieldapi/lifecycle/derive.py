"""The job status as a function of the job's facts (lifecycle.md, "Deriving the job status")."""

from __future__ import annotations

from collections.abc import Sequence

from .model import (
    ENDED_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentStatus,
    Job,
    JobStatus,
    OfferState,
    Outcome,
)


def derive_status(
    offer: OfferState, canceled: bool, appointments: Sequence[Appointment]
) -> JobStatus:
    """The six rules of lifecycle.md, in order.

    A declined offer is not a status the provider sees (they lose access, see
    ``is_accessible``); for it we return ``CANCELED`` so a stored row still has a valid status.
    """
    # 1. a pending offer -> offered
    if offer == OfferState.PENDING:
        return JobStatus.OFFERED
    # 2. the job is canceled -> canceled (and our choice for a declined offer)
    if offer == OfferState.DECLINED or canceled:
        return JobStatus.CANCELED
    statuses = {a.status for a in appointments}
    # 3. any appointment enroute or started -> in_progress
    if AppointmentStatus.ENROUTE in statuses or AppointmentStatus.STARTED in statuses:
        return JobStatus.IN_PROGRESS
    # 4. any appointment scheduled -> scheduled
    if AppointmentStatus.SCHEDULED in statuses:
        return JobStatus.SCHEDULED
    # 5. the most recently ended appointment decides
    last = most_recently_ended(appointments)
    if last is not None:
        if last.status == AppointmentStatus.COMPLETE and last.outcome != Outcome.PAUSE:
            # A complete appointment without an outcome (legacy data) counts as complete.
            return JobStatus.COMPLETE
        return JobStatus.PAUSED
    # 6. no (live or ended) appointment at all -> unscheduled
    return JobStatus.UNSCHEDULED


def most_recently_ended(appointments: Sequence[Appointment]) -> Appointment | None:
    """The paused/complete appointment with the latest ``ended_at``.

    Ties go to the later position in the sequence; an appointment without ``ended_at`` counts
    as older than any dated one.
    """
    ended = [(i, a) for i, a in enumerate(appointments) if a.status in ENDED_APPOINTMENT_STATUSES]
    if not ended:
        return None
    dated = [(a.ended_at, i, a) for i, a in ended if a.ended_at is not None]
    if dated:
        return max(dated, key=lambda item: (item[0], item[1]))[2]
    return ended[-1][1]


def is_accessible(job: Job) -> bool:
    """False once the provider declined the offer: they no longer have access to the job."""
    return job.offer != OfferState.DECLINED


def make_job(
    *,
    offer: OfferState = OfferState.NONE,
    canceled: bool = False,
    appointments: Sequence[Appointment] = (),
) -> Job:
    """Build a snapshot whose ``status`` is derived from its facts."""
    appts = tuple(appointments)
    return Job(
        offer=offer,
        canceled=canceled,
        appointments=appts,
        status=derive_status(offer, canceled, appts),
    )
