"""Small builders shared by the lifecycle tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fieldapi.lifecycle import (
    ActionName,
    Actor,
    ActorKind,
    Appointment,
    AppointmentStatus,
    Command,
    Job,
    OfferState,
    Outcome,
    Role,
    make_job,
)

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

DISPATCHER = Actor(ActorKind.USER, "d1", Role.DISPATCHER)
BOTH = Actor(ActorKind.USER, "b1", Role.BOTH)
TECH = Actor(ActorKind.USER, "t1", Role.TECHNICIAN)
OTHER_TECH = Actor(ActorKind.USER, "t2", Role.TECHNICIAN)
ENTERPRISE = Actor(ActorKind.ENTERPRISE)
SYSTEM = Actor(ActorKind.SYSTEM)


def at(minutes: int = 0) -> datetime:
    return T0 + timedelta(minutes=minutes)


def appt(
    appointment_id: str = "a1",
    status: AppointmentStatus = AppointmentStatus.SCHEDULED,
    tech: str | None = "t1",
    **kwargs: object,
) -> Appointment:
    return Appointment(appointment_id, status, tech, **kwargs)  # type: ignore[arg-type]


def ended(
    appointment_id: str,
    status: AppointmentStatus,
    minutes: int,
    outcome: Outcome | None = None,
    tech: str | None = "t1",
) -> Appointment:
    """A paused appointment, or a completed one with the given outcome."""
    complete = status == AppointmentStatus.COMPLETE
    return Appointment(
        appointment_id,
        status,
        tech,
        reason_code=("repaired" if outcome == Outcome.COMPLETE else "parts") if complete else None,
        outcome=outcome if complete else None,
        ended_at=at(minutes),
    )


def job(
    *appointments: Appointment, offer: OfferState = OfferState.NONE, canceled: bool = False
) -> Job:
    return make_job(offer=offer, canceled=canceled, appointments=appointments)


def cmd(
    action: ActionName, appointment_id: str | None = None, *, minutes: int = 60, **kwargs: object
) -> Command:
    return Command(action, at(minutes), appointment_id, **kwargs)  # type: ignore[arg-type]


def complete_cmd(appointment_id: str, outcome: Outcome, minutes: int = 60) -> Command:
    code = "repaired" if outcome == Outcome.COMPLETE else "parts"
    return cmd(
        ActionName.COMPLETE, appointment_id, minutes=minutes, reason_code=code, outcome=outcome
    )
