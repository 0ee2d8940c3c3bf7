"""The transition table, as data, in one place.

Each row says from which job statuses an action is allowed, which appointments it touches
(and from which appointment statuses), what those appointments become, and which text it
sends. The job status that follows is never written here: the machine derives it from the
new facts (``derive_status``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from .effects import TextPurpose
from .model import (
    ACTIVE_APPOINTMENT_STATUSES,
    ActionName,
    AppointmentStatus,
    JobStatus,
    OfferState,
)


class Scope(StrEnum):
    """Which appointments a transition touches."""

    JOB = "job"  # none: only the job's facts (offer, canceled)
    TARGET = "target"  # the appointment named by command.appointment_id
    EVERY = "every"  # every appointment whose status is in appointment_from
    NEW = "new"  # the appointment supplied in command.new_appointment


@dataclass(frozen=True)
class Transition:
    action: ActionName
    job_from: frozenset[JobStatus]
    scope: Scope = Scope.JOB
    #: TARGET: the named appointment must be in one of these; EVERY: the ones that move.
    appointment_from: frozenset[AppointmentStatus] = frozenset()
    #: What the touched appointments become; None with TARGET means "removed".
    #: EVERY into CANCELED marks them canceled_by_job; EVERY out of CANCELED moves only
    #: those marked canceled_by_job, and clears the mark.
    appointment_to: AppointmentStatus | None = None
    offer_to: OfferState | None = None  # new offer state, None: unchanged
    canceled_to: bool | None = None  # new canceled flag, None: unchanged
    needs_reason: bool = False  # command must carry reason_code + outcome
    text: TextPurpose | None = None  # SendText for the touched appointment
    text_needs_notify_arrival: bool = False  # ... only if command.notify_arrival


_J = JobStatus
_A = AppointmentStatus

#: Job statuses in which appointments are worked on. Whatever the appointment's own status
#: allows, nothing is done to appointments of an offered or canceled job.
_WORKING = frozenset({_J.SCHEDULED, _J.IN_PROGRESS})

TRANSITIONS: tuple[Transition, ...] = (
    Transition(ActionName.ACCEPT, frozenset({_J.OFFERED}), offer_to=OfferState.ACCEPTED),
    Transition(ActionName.DECLINE, frozenset({_J.OFFERED}), offer_to=OfferState.DECLINED),
    # The chart allows cancel from scheduled and paused. We also allow it from unscheduled
    # (a customer can cancel before a visit is booked) and in_progress (a customer can
    # cancel while the technician drives there); a complete job cannot be canceled.
    Transition(
        ActionName.CANCEL,
        frozenset({_J.UNSCHEDULED, _J.SCHEDULED, _J.IN_PROGRESS, _J.PAUSED}),
        scope=Scope.EVERY,
        appointment_from=ACTIVE_APPOINTMENT_STATUSES,
        appointment_to=_A.CANCELED,
        canceled_to=True,
    ),
    # "change the status back to scheduled": the appointments canceled with the job are
    # scheduled again; the job status then follows from the facts.
    Transition(
        ActionName.REOPEN,
        frozenset({_J.CANCELED}),
        scope=Scope.EVERY,
        appointment_from=frozenset({_A.CANCELED}),
        appointment_to=_A.SCHEDULED,
        canceled_to=False,
    ),
    # Not while offered (accept first) nor canceled (reopen first).
    Transition(
        ActionName.ADD_APPOINTMENT,
        frozenset({_J.UNSCHEDULED, _J.SCHEDULED, _J.IN_PROGRESS, _J.PAUSED, _J.COMPLETE}),
        scope=Scope.NEW,
        appointment_to=_A.SCHEDULED,
    ),
    Transition(
        ActionName.DELETE_APPOINTMENT,
        _WORKING,
        scope=Scope.TARGET,
        appointment_from=frozenset({_A.SCHEDULED}),
        appointment_to=None,
    ),
    Transition(
        ActionName.ON_MY_WAY,
        _WORKING,
        scope=Scope.TARGET,
        appointment_from=frozenset({_A.SCHEDULED}),
        appointment_to=_A.ENROUTE,
        text="on_my_way",
    ),
    Transition(
        ActionName.START,
        _WORKING,
        scope=Scope.TARGET,
        appointment_from=frozenset({_A.SCHEDULED, _A.ENROUTE}),
        appointment_to=_A.STARTED,
        text="arrival",
        text_needs_notify_arrival=True,
    ),
    Transition(
        ActionName.PAUSE,
        _WORKING,
        scope=Scope.TARGET,
        appointment_from=frozenset({_A.ENROUTE, _A.STARTED}),
        appointment_to=_A.PAUSED,
    ),
    # Both outcomes end the visit, so both ask for the survey.
    Transition(
        ActionName.COMPLETE,
        _WORKING,
        scope=Scope.TARGET,
        appointment_from=frozenset({_A.SCHEDULED, _A.ENROUTE, _A.STARTED}),
        appointment_to=_A.COMPLETE,
        needs_reason=True,
        text="survey",
    ),
)

TABLE: Mapping[ActionName, Transition] = MappingProxyType({t.action: t for t in TRANSITIONS})

# Who may act (lifecycle.md, "Who may act"). Dispatchers, Both and the system may do
# everything; these are the limits of the others.
#: A technician may do these, and only on appointments assigned to them.
TECHNICIAN_ACTIONS: frozenset[ActionName] = frozenset(
    {ActionName.ON_MY_WAY, ActionName.START, ActionName.PAUSE, ActionName.COMPLETE}
)
#: An enterprise (the brand that offered the job) may only cancel it.
ENTERPRISE_ACTIONS: frozenset[ActionName] = frozenset({ActionName.CANCEL})
