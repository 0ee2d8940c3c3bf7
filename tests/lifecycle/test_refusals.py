"""Refusals: what the errors carry and which error each misuse raises."""

from __future__ import annotations

import copy
from datetime import datetime

import pytest

from fieldapi.lifecycle import (
    JOB_ACTIONS,
    ActionName,
    ActionRefused,
    Actor,
    ActorKind,
    AppointmentStatus,
    Command,
    InvalidCommand,
    JobStatus,
    LifecycleError,
    NotPermitted,
    OfferState,
    Outcome,
    Role,
    allowed_actions,
    decide,
)

from .builders import (
    DISPATCHER,
    ENTERPRISE,
    OTHER_TECH,
    SYSTEM,
    TECH,
    appt,
    cmd,
    ended,
    job,
)

A = AppointmentStatus


def test_start_on_a_complete_job_names_the_status() -> None:
    start = job(ended("a1", A.COMPLETE, 0, Outcome.COMPLETE))
    with pytest.raises(ActionRefused) as info:
        decide(start, cmd(ActionName.START, "a1"), DISPATCHER)
    err = info.value
    assert err.current_status == JobStatus.COMPLETE
    assert err.action == "start"
    assert err.appointment_status == A.COMPLETE
    assert err.appointment_id == "a1"
    assert err.allowed_actions == []
    assert str(err) == (
        "cannot start: the job is complete and the appointment is complete (allowed: none)"
    )


def test_job_action_refusal_lists_the_job_actions() -> None:
    start = job(appt("a1"))
    with pytest.raises(ActionRefused) as info:
        decide(start, cmd(ActionName.ACCEPT), DISPATCHER)
    err = info.value
    assert err.current_status == JobStatus.SCHEDULED
    assert err.appointment_status is None
    assert err.allowed_actions == ["add_appointment", "cancel", "delete_appointment"]
    assert err.allowed_actions == allowed_actions(start, DISPATCHER)
    assert str(err) == (
        "cannot accept: the job is scheduled (allowed: add_appointment, cancel, delete_appointment)"
    )
    assert isinstance(err, LifecycleError)


def test_appointment_action_refusal_lists_that_appointments_actions() -> None:
    start = job(appt("a1", A.ENROUTE), appt("a2"))
    with pytest.raises(ActionRefused) as info:
        decide(start, cmd(ActionName.ON_MY_WAY, "a1"), TECH)
    err = info.value
    assert err.current_status == JobStatus.IN_PROGRESS
    assert err.appointment_status == A.ENROUTE
    assert err.allowed_actions == ["complete", "pause", "start"]
    assert "in_progress" in str(err) and "enroute" in str(err)


def test_cancel_on_a_complete_job() -> None:
    start = job(ended("a1", A.COMPLETE, 0, Outcome.COMPLETE))
    with pytest.raises(ActionRefused) as info:
        decide(start, cmd(ActionName.CANCEL), ENTERPRISE)
    assert info.value.current_status == JobStatus.COMPLETE
    # what the enterprise may do instead: nothing
    assert info.value.allowed_actions == []


def test_appointment_actions_refused_on_a_canceled_job_even_with_live_appointments() -> None:
    # an inconsistent snapshot (canceled, yet a scheduled appointment): the job status wins
    start = job(appt("a1"), canceled=True)
    with pytest.raises(ActionRefused) as info:
        decide(start, cmd(ActionName.START, "a1"), DISPATCHER)
    assert info.value.current_status == JobStatus.CANCELED
    assert allowed_actions(start, DISPATCHER) == ["reopen"]


def test_declined_offer_refuses_everything() -> None:
    start = job(offer=OfferState.DECLINED)
    with pytest.raises(ActionRefused) as info:
        decide(start, cmd(ActionName.REOPEN), SYSTEM)
    assert info.value.allowed_actions == []
    assert "declined" in str(info.value)


def test_add_appointment_refused_while_offered() -> None:
    start = job(offer=OfferState.PENDING)
    with pytest.raises(ActionRefused, match="the job is offered"):
        decide(start, cmd(ActionName.ADD_APPOINTMENT, new_appointment=appt()), DISPATCHER)


def test_a_refusal_leaves_the_input_untouched() -> None:
    start = job(appt("a1", A.STARTED), ended("a0", A.PAUSED, 0))
    before = copy.deepcopy(start)
    with pytest.raises(ActionRefused):
        decide(start, cmd(ActionName.ON_MY_WAY, "a1"), DISPATCHER)
    assert start == before


# -- not permitted ----------------------------------------------------------------------------


@pytest.mark.parametrize("action", sorted(JOB_ACTIONS), ids=str)
def test_technician_may_not_take_job_actions(action: ActionName) -> None:
    offer = OfferState.PENDING if action in {"accept", "decline"} else OfferState.NONE
    start = job(appt("a1"), offer=offer)
    appointment_id = "a1" if action == ActionName.DELETE_APPOINTMENT else None
    with pytest.raises(NotPermitted) as info:
        decide(start, cmd(action, appointment_id, new_appointment=appt("a2")), TECH)
    assert info.value.action == action


def test_not_permitted_comes_before_the_state_check() -> None:
    # t2 asks about t1's complete appointment: "not yours", not "it's complete"
    start = job(ended("a1", A.COMPLETE, 0, Outcome.COMPLETE))
    with pytest.raises(NotPermitted):
        decide(start, cmd(ActionName.START, "a1"), OTHER_TECH)


@pytest.mark.parametrize(
    "actor",
    [
        Actor(ActorKind.USER, None, Role.TECHNICIAN),
        Actor(ActorKind.USER, "", Role.TECHNICIAN),
    ],
    ids=["no-user-id", "empty-user-id"],
)
def test_technician_without_id_cannot_claim_an_unassigned_appointment(actor: Actor) -> None:
    start = job(appt("a1", tech=None), appt("a2", tech=""))
    for appointment_id in ("a1", "a2"):
        with pytest.raises(NotPermitted):
            decide(start, cmd(ActionName.START, appointment_id), actor)


def test_technician_cannot_act_on_an_unassigned_appointment() -> None:
    with pytest.raises(NotPermitted):
        decide(job(appt("a1", tech=None)), cmd(ActionName.START, "a1"), TECH)


def test_user_without_role_may_do_nothing() -> None:
    nobody = Actor(ActorKind.USER, "u1", None)
    start = job(appt("a1", tech="u1"))
    with pytest.raises(NotPermitted):
        decide(start, cmd(ActionName.START, "a1"), nobody)
    assert allowed_actions(start, nobody) == []
    assert allowed_actions(start, nobody, "a1") == []


@pytest.mark.parametrize("action", [ActionName.START, ActionName.DELETE_APPOINTMENT], ids=str)
def test_enterprise_may_not_touch_appointments(action: ActionName) -> None:
    with pytest.raises(NotPermitted):
        decide(job(appt("a1")), cmd(action, "a1"), ENTERPRISE)


# -- malformed commands -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (cmd(ActionName.START), "needs an appointment_id"),
        (cmd(ActionName.START, "nope"), "unknown appointment"),
        (cmd(ActionName.CANCEL, "a1"), "does not take an appointment_id"),
        (cmd(ActionName.COMPLETE, "a1", outcome=Outcome.COMPLETE), "reason_code"),
        (cmd(ActionName.COMPLETE, "a1", reason_code="repaired"), "outcome"),
        (cmd(ActionName.COMPLETE, "a1", reason_code="x", outcome="done"), "unknown outcome"),
        (cmd(ActionName.ADD_APPOINTMENT), "needs new_appointment"),
        (
            cmd(ActionName.ADD_APPOINTMENT, new_appointment=appt("a2", A.STARTED)),
            "must be scheduled",
        ),
        (cmd(ActionName.ADD_APPOINTMENT, new_appointment=appt("a1")), "already exists"),
        (
            cmd(ActionName.ADD_APPOINTMENT, new_appointment=appt("a2", canceled_by_job=True)),
            "cannot carry",
        ),
        (cmd("teleport"), "unknown action"),  # type: ignore[arg-type]
    ],
    ids=[
        "missing-appointment-id",
        "unknown-appointment",
        "stray-appointment-id",
        "complete-without-reason",
        "complete-without-outcome",
        "complete-bad-outcome",
        "add-without-appointment",
        "add-not-scheduled",
        "add-duplicate-id",
        "add-canceled-by-job",
        "unknown-action",
    ],
)
def test_invalid_commands(command: object, message: str) -> None:
    start = job(appt("a1"))
    before = copy.deepcopy(start)
    with pytest.raises(InvalidCommand, match=message):
        decide(start, command, DISPATCHER)  # type: ignore[arg-type]
    assert start == before


def test_naive_datetimes_are_refused() -> None:
    naive = Command(ActionName.START, datetime(2024, 5, 1, 9), "a1")
    with pytest.raises(InvalidCommand, match="timezone-aware"):
        decide(job(appt("a1")), naive, DISPATCHER)


def test_allowed_actions_of_an_unknown_appointment() -> None:
    with pytest.raises(InvalidCommand):
        allowed_actions(job(appt("a1")), DISPATCHER, "nope")
