"""decide / new_job / allowed_actions: data in, decision out.

Checks run in this order, so callers can map errors to responses predictably:

1. the actor's kind/role allows the action at all            -> NotPermitted
2. the command names an appointment iff the action needs one,
   and that appointment exists                               -> InvalidCommand
3. a technician acts only on an appointment assigned to them -> NotPermitted
4. the job is accessible and the table allows the action
   from the job status (and the appointment status)          -> ActionRefused
5. the payload (complete reason, new appointment) is valid   -> InvalidCommand

``allowed_actions`` runs steps 1-4 for every candidate, so an action it lists succeeds with
a valid payload and an action it omits raises.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from .derive import derive_status, is_accessible, make_job
from .effects import Decision, Effect, RecordActivity, SendText
from .errors import ActionRefused, InvalidCommand, NotPermitted
from .model import (
    ENDED_APPOINTMENT_STATUSES,
    JOB_ACTIONS,
    ActionName,
    Actor,
    ActorKind,
    Appointment,
    AppointmentStatus,
    Command,
    Job,
    JobStatus,
    OfferState,
    Outcome,
    Role,
)
from .table import ENTERPRISE_ACTIONS, TABLE, TECHNICIAN_ACTIONS, Scope, Transition

CREATE_ACTIVITY = "create"


def new_job(
    *, offered: bool, appointment: Appointment | None, actor: Actor, at: datetime
) -> Decision:
    """Create a job: offered, unscheduled (no appointment) or scheduled (one appointment).

    An offer carries no appointment (the chart: accepting an offer leads to unscheduled).
    Dispatchers, Both and the system may create any job; an enterprise only offers.
    """
    _require_aware(at)
    if not _may_create(actor, offered=offered):
        raise NotPermitted(
            f"{_describe(actor)} may not create {'an offered' if offered else 'a'} job"
        )
    if offered and appointment is not None:
        raise InvalidCommand("an offered job cannot come with an appointment")
    if appointment is not None:
        _check_new_appointment(appointment, (), AppointmentStatus.SCHEDULED)
    job = make_job(
        offer=OfferState.PENDING if offered else OfferState.NONE,
        canceled=False,
        appointments=() if appointment is None else (appointment,),
    )
    activity = RecordActivity(
        action=CREATE_ACTIVITY,
        from_status=None,
        to_status=job.status,
        appointment_id=None if appointment is None else appointment.id,
        details={
            "offered": offered,
            "technician_id": None if appointment is None else appointment.technician_id,
        },
        actor=actor,
        at=at,
    )
    return Decision(job=job, effects=(activity,), from_status=job.status, to_status=job.status)


def decide(job: Job, command: Command, actor: Actor) -> Decision:
    """Apply ``command`` to ``job`` for ``actor``; raise a LifecycleError if it may not."""
    transition = TABLE.get(command.action)
    if transition is None:
        raise InvalidCommand(f"unknown action {command.action!r}")
    _require_aware(command.at)
    current = derive_status(job.offer, job.canceled, job.appointments)
    target = _authorize(job, transition, actor, command.appointment_id)
    if not _state_allows(job, current, transition, target):
        raise _refusal(job, current, transition, actor, target)
    _check_payload(job, transition, command)
    new = _apply(job, transition, command, target)
    effects: list[Effect] = [_activity(job, new, current, transition, command, actor, target)]
    if transition.text is not None and (
        command.notify_arrival or not transition.text_needs_notify_arrival
    ):
        assert target is not None  # texts belong to TARGET transitions
        effects.append(SendText(purpose=transition.text, appointment_id=target.id))
    return Decision(job=new, effects=tuple(effects), from_status=current, to_status=new.status)


def allowed_actions(job: Job, actor: Actor, appointment_id: str | None = None) -> list[str]:
    """Wire names of the actions ``actor`` may take now, sorted.

    Without ``appointment_id``: the job actions (delete_appointment is listed when some
    appointment can be deleted). With it: that appointment's actions, i.e. the appointment
    actions plus delete_appointment. An unknown ``appointment_id`` raises InvalidCommand.
    """
    current = derive_status(job.offer, job.canceled, job.appointments)
    if appointment_id is not None:
        if job.find_appointment(appointment_id) is None:
            raise InvalidCommand(f"unknown appointment {appointment_id!r}")
        found = {
            t.action
            for t in TABLE.values()
            if t.scope is Scope.TARGET and _possible(job, current, t, actor, appointment_id)
        }
    else:
        found = set()
        for action in JOB_ACTIONS:
            t = TABLE[action]
            if t.scope is Scope.TARGET:
                if any(_possible(job, current, t, actor, a.id) for a in job.appointments):
                    found.add(action)
            elif _possible(job, current, t, actor, None):
                found.add(action)
    return sorted(a.value for a in found)


# -- checks ---------------------------------------------------------------------------------


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidCommand("'at' must be a timezone-aware datetime")


def _describe(actor: Actor) -> str:
    if actor.kind == ActorKind.USER:
        return f"user {actor.user_id!r} ({actor.role or 'no role'})"
    return str(actor.kind)


def _is_technician(actor: Actor) -> bool:
    return actor.kind == ActorKind.USER and actor.role == Role.TECHNICIAN


def _may_create(actor: Actor, *, offered: bool) -> bool:
    if actor.kind == ActorKind.SYSTEM:
        return True
    if actor.kind == ActorKind.ENTERPRISE:
        return offered
    return actor.kind == ActorKind.USER and actor.role in (Role.DISPATCHER, Role.BOTH)


def _may_do(actor: Actor, action: ActionName) -> bool:
    if actor.kind == ActorKind.SYSTEM:
        return True
    if actor.kind == ActorKind.ENTERPRISE:
        return action in ENTERPRISE_ACTIONS
    if actor.kind != ActorKind.USER:
        return False
    if actor.role in (Role.DISPATCHER, Role.BOTH):
        return True
    return actor.role == Role.TECHNICIAN and bool(actor.user_id) and action in TECHNICIAN_ACTIONS


def _authorize(
    job: Job, transition: Transition, actor: Actor, appointment_id: str | None
) -> Appointment | None:
    """Steps 1-3; returns the target appointment of a TARGET transition."""
    action = transition.action
    if not _may_do(actor, action):
        raise NotPermitted(f"{_describe(actor)} may not {action}", action=action)
    if transition.scope is not Scope.TARGET:
        if appointment_id is not None:
            raise InvalidCommand(f"{action} does not take an appointment_id")
        return None
    if appointment_id is None:
        raise InvalidCommand(f"{action} needs an appointment_id")
    target = job.find_appointment(appointment_id)
    if target is None:
        raise InvalidCommand(f"unknown appointment {appointment_id!r}")
    if _is_technician(actor) and target.technician_id != actor.user_id:
        raise NotPermitted(
            f"{_describe(actor)} may not {action}: the appointment is not assigned to them",
            action=action,
        )
    return target


def _state_allows(
    job: Job, current: JobStatus, transition: Transition, target: Appointment | None
) -> bool:
    """Step 4, straight from the table."""
    if not is_accessible(job) or current not in transition.job_from:
        return False
    return target is None or target.status in transition.appointment_from


def _possible(
    job: Job, current: JobStatus, transition: Transition, actor: Actor, appointment_id: str | None
) -> bool:
    try:
        target = _authorize(job, transition, actor, appointment_id)
    except (NotPermitted, InvalidCommand):
        return False
    return _state_allows(job, current, transition, target)


def _refusal(
    job: Job,
    current: JobStatus,
    transition: Transition,
    actor: Actor,
    target: Appointment | None,
) -> ActionRefused:
    return ActionRefused(
        action=transition.action,
        current_status=current,
        allowed_actions=allowed_actions(job, actor, None if target is None else target.id),
        appointment_id=None if target is None else target.id,
        appointment_status=None if target is None else target.status,
        accessible=is_accessible(job),
    )


def _check_payload(job: Job, transition: Transition, command: Command) -> None:
    """Step 5."""
    if transition.needs_reason:
        if not command.reason_code:
            raise InvalidCommand(f"{transition.action} needs a reason_code")
        if command.outcome is None:
            raise InvalidCommand(f"{transition.action} needs the outcome of its reason_code")
        try:
            Outcome(command.outcome)
        except ValueError:
            raise InvalidCommand(f"unknown outcome {command.outcome!r}") from None
    if transition.scope is Scope.NEW:
        if command.new_appointment is None:
            raise InvalidCommand(f"{transition.action} needs new_appointment")
        assert transition.appointment_to is not None
        _check_new_appointment(command.new_appointment, job.appointments, transition.appointment_to)


def _check_new_appointment(
    appointment: Appointment, existing: tuple[Appointment, ...], status: AppointmentStatus
) -> None:
    if appointment.status != status:
        raise InvalidCommand(f"a new appointment must be {status}, not {appointment.status}")
    if (
        appointment.reason_code is not None
        or appointment.outcome is not None
        or appointment.ended_at is not None
        or appointment.canceled_by_job
    ):
        raise InvalidCommand("a new appointment cannot carry an ending or a cancellation")
    if any(a.id == appointment.id for a in existing):
        raise InvalidCommand(f"appointment {appointment.id!r} already exists")


# -- applying -------------------------------------------------------------------------------


def _apply(job: Job, transition: Transition, command: Command, target: Appointment | None) -> Job:
    appointments = list(job.appointments)
    to = transition.appointment_to
    if transition.scope is Scope.TARGET:
        assert target is not None
        index = next(i for i, a in enumerate(appointments) if a.id == target.id)
        if to is None:
            del appointments[index]
        elif to in ENDED_APPOINTMENT_STATUSES:
            ending = to == AppointmentStatus.COMPLETE
            appointments[index] = replace(
                target,
                status=to,
                ended_at=command.at,
                reason_code=command.reason_code if ending else None,
                outcome=Outcome(command.outcome) if ending and command.outcome else None,
            )
        else:
            appointments[index] = replace(target, status=to)
    elif transition.scope is Scope.EVERY:
        assert to is not None
        appointments = [_move(a, transition.appointment_from, to) for a in appointments]
    elif transition.scope is Scope.NEW:
        assert command.new_appointment is not None
        appointments.append(command.new_appointment)
    return make_job(
        offer=job.offer if transition.offer_to is None else transition.offer_to,
        canceled=job.canceled if transition.canceled_to is None else transition.canceled_to,
        appointments=appointments,
    )


def _move(
    appointment: Appointment, source: frozenset[AppointmentStatus], to: AppointmentStatus
) -> Appointment:
    """One appointment of an EVERY transition (job cancel / reopen)."""
    if appointment.status not in source:
        return appointment
    if to == AppointmentStatus.CANCELED:
        return replace(appointment, status=to, canceled_by_job=True)
    if appointment.canceled_by_job:
        return replace(appointment, status=to, canceled_by_job=False)
    return appointment


def _activity(
    before: Job,
    after: Job,
    current: JobStatus,
    transition: Transition,
    command: Command,
    actor: Actor,
    target: Appointment | None,
) -> RecordActivity:
    details: dict[str, object] = {}
    appointment_id: str | None = None
    if transition.scope is Scope.TARGET:
        assert target is not None
        appointment_id = target.id
        details["technician_id"] = target.technician_id
        if transition.needs_reason:
            details["reason_code"] = command.reason_code
            details["outcome"] = None if command.outcome is None else str(command.outcome)
    elif transition.scope is Scope.NEW:
        assert command.new_appointment is not None
        appointment_id = command.new_appointment.id
        details["technician_id"] = command.new_appointment.technician_id
    elif transition.scope is Scope.EVERY:
        moved = [
            a.id for a, b in zip(before.appointments, after.appointments, strict=True) if a != b
        ]
        key = (
            "canceled_appointment_ids"
            if transition.appointment_to == AppointmentStatus.CANCELED
            else "restored_appointment_ids"
        )
        details[key] = moved
    if transition.offer_to is not None:
        details["offer"] = str(transition.offer_to)
    if command.reason is not None:
        details["reason"] = command.reason
    return RecordActivity(
        action=str(transition.action),
        from_status=current,
        to_status=after.status,
        appointment_id=appointment_id,
        details=details,
        actor=actor,
        at=command.at,
    )
