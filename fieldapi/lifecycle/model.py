"""Value types of the lifecycle: statuses, actors, job snapshots and commands.

Everything here is plain immutable data. The machine (``machine.py``) takes these in and
hands new ones back; it never mutates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class JobStatus(StrEnum):
    OFFERED = "offered"
    UNSCHEDULED = "unscheduled"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    COMPLETE = "complete"
    CANCELED = "canceled"


class AppointmentStatus(StrEnum):
    SCHEDULED = "scheduled"
    ENROUTE = "enroute"
    STARTED = "started"
    PAUSED = "paused"
    COMPLETE = "complete"
    CANCELED = "canceled"


class OfferState(StrEnum):
    NONE = "none"  # the job was not offered (created by the provider itself)
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Outcome(StrEnum):
    """Outcome of an organization's complete reason."""

    COMPLETE = "complete"
    PAUSE = "pause"


class Role(StrEnum):
    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    BOTH = "both"


class ActorKind(StrEnum):
    USER = "user"
    ENTERPRISE = "enterprise"
    SYSTEM = "system"


class ActionName(StrEnum):
    """Wire names of the actions."""

    # job actions
    ACCEPT = "accept"
    DECLINE = "decline"
    CANCEL = "cancel"
    REOPEN = "reopen"
    ADD_APPOINTMENT = "add_appointment"
    DELETE_APPOINTMENT = "delete_appointment"
    # appointment actions
    ON_MY_WAY = "on-my-way"
    START = "start"
    PAUSE = "pause"
    COMPLETE = "complete"


JOB_ACTIONS: frozenset[ActionName] = frozenset(
    {
        ActionName.ACCEPT,
        ActionName.DECLINE,
        ActionName.CANCEL,
        ActionName.REOPEN,
        ActionName.ADD_APPOINTMENT,
        ActionName.DELETE_APPOINTMENT,
    }
)
APPOINTMENT_ACTIONS: frozenset[ActionName] = frozenset(
    {ActionName.ON_MY_WAY, ActionName.START, ActionName.PAUSE, ActionName.COMPLETE}
)

#: Appointments that still lead to a visit; a job cancel cancels exactly these.
ACTIVE_APPOINTMENT_STATUSES: frozenset[AppointmentStatus] = frozenset(
    {AppointmentStatus.SCHEDULED, AppointmentStatus.ENROUTE, AppointmentStatus.STARTED}
)
#: Appointments whose visit ended; the most recent of them decides rule 5 of the derivation.
ENDED_APPOINTMENT_STATUSES: frozenset[AppointmentStatus] = frozenset(
    {AppointmentStatus.PAUSED, AppointmentStatus.COMPLETE}
)


@dataclass(frozen=True)
class Actor:
    """Who asks. ``user_id``/``role`` matter only for ``ActorKind.USER``."""

    kind: ActorKind
    user_id: str | None = None
    role: Role | None = None


@dataclass(frozen=True)
class Appointment:
    id: str
    status: AppointmentStatus
    technician_id: str | None = None
    reason_code: str | None = None  # set when completed
    outcome: Outcome | None = None  # set when completed
    ended_at: datetime | None = None  # when it was paused/completed (caller's clock)
    canceled_by_job: bool = False  # canceled by a job cancel, so reopen restores it


@dataclass(frozen=True)
class Job:
    """A snapshot of a job's lifecycle facts.

    ``status`` is the stored status. Snapshots returned by the machine always have
    ``status == derive_status(offer, canceled, appointments)``; the machine itself decides
    from the facts, never from ``status``. Build snapshots with ``make_job`` to get it right.
    """

    offer: OfferState
    canceled: bool
    appointments: tuple[Appointment, ...]
    status: JobStatus

    def __post_init__(self) -> None:
        # A list passed by mistake would make the "immutable" snapshot mutable.
        if not isinstance(self.appointments, tuple):
            object.__setattr__(self, "appointments", tuple(self.appointments))

    def find_appointment(self, appointment_id: str) -> Appointment | None:
        for appointment in self.appointments:
            if appointment.id == appointment_id:
                return appointment
        return None


@dataclass(frozen=True)
class Command:
    action: ActionName
    at: datetime  # caller's clock, timezone-aware
    appointment_id: str | None = None  # for appointment actions and delete_appointment
    new_appointment: Appointment | None = None  # for add_appointment; status must be scheduled
    reason_code: str | None = None  # complete: the org's complete reason ...
    outcome: Outcome | None = None  # ... and its outcome, looked up by the caller
    reason: str | None = None  # free text (pause; recorded in the activity for any action)
    notify_arrival: bool = True  # organization setting for the arrival text
