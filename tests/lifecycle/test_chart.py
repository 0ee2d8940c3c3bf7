"""The transition chart of design/lifecycle.md, row by row, plus our own decisions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from fieldapi.lifecycle import (
    TABLE,
    ActionName,
    Actor,
    AppointmentStatus,
    Decision,
    InvalidCommand,
    Job,
    JobStatus,
    NotPermitted,
    OfferState,
    Outcome,
    RecordActivity,
    SendText,
    allowed_actions,
    decide,
    derive_status,
    is_accessible,
    new_job,
)

from .builders import (
    BOTH,
    DISPATCHER,
    ENTERPRISE,
    OTHER_TECH,
    SYSTEM,
    TECH,
    appt,
    at,
    cmd,
    complete_cmd,
    ended,
    job,
)

A = AppointmentStatus
J = JobStatus


# Start states, built the way the machine builds them.
def offered() -> Job:
    return new_job(offered=True, appointment=None, actor=ENTERPRISE, at=at()).job


def unscheduled() -> Job:
    return job()


def scheduled() -> Job:
    return job(appt("a1"))


def in_progress() -> Job:
    return job(appt("a1", A.STARTED))


def paused() -> Job:
    return job(ended("a1", A.PAUSED, 0))


def complete() -> Job:
    return job(ended("a1", A.COMPLETE, 0, Outcome.COMPLETE))


def canceled() -> Job:
    return decide(scheduled(), cmd(ActionName.CANCEL), DISPATCHER).job


def canceled_without_appointments() -> Job:
    return decide(unscheduled(), cmd(ActionName.CANCEL), DISPATCHER).job


@dataclass(frozen=True)
class Row:
    start: Callable[[], Job] | None  # None: job creation
    start_status: J | None
    run: Callable[[Job], Decision]
    end_status: J
    action: ActionName | None = None  # the table row that must allow it (None: creation)


def _do(
    action: ActionName, appointment_id: str | None = None, **kw: Any
) -> Callable[[Job], Decision]:
    return lambda j: decide(j, cmd(action, appointment_id, **kw), DISPATCHER)


def _complete(outcome: Outcome) -> Callable[[Job], Decision]:
    return lambda j: decide(j, complete_cmd("a1", outcome), DISPATCHER)


def _add() -> Callable[[Job], Decision]:
    return _do(ActionName.ADD_APPOINTMENT, new_appointment=appt("a2"))


CHART: dict[str, Row] = {
    "create-without-date-is-unscheduled": Row(
        None,
        None,
        lambda _: new_job(offered=False, appointment=None, actor=DISPATCHER, at=at()),
        J.UNSCHEDULED,
    ),
    "create-with-date-is-scheduled": Row(
        None,
        None,
        lambda _: new_job(offered=False, appointment=appt(), actor=DISPATCHER, at=at()),
        J.SCHEDULED,
    ),
    "offered-accept-unscheduled": Row(
        offered, J.OFFERED, _do(ActionName.ACCEPT), J.UNSCHEDULED, ActionName.ACCEPT
    ),
    "offered-decline-no-access": Row(
        offered, J.OFFERED, _do(ActionName.DECLINE), J.CANCELED, ActionName.DECLINE
    ),
    "unscheduled-add-appointment-scheduled": Row(
        unscheduled, J.UNSCHEDULED, _add(), J.SCHEDULED, ActionName.ADD_APPOINTMENT
    ),
    "scheduled-delete-appointment-unscheduled": Row(
        scheduled,
        J.SCHEDULED,
        _do(ActionName.DELETE_APPOINTMENT, "a1"),
        J.UNSCHEDULED,
        ActionName.DELETE_APPOINTMENT,
    ),
    "scheduled-on-my-way-in_progress": Row(
        scheduled, J.SCHEDULED, _do(ActionName.ON_MY_WAY, "a1"), J.IN_PROGRESS, ActionName.ON_MY_WAY
    ),
    "scheduled-start-in_progress": Row(
        scheduled, J.SCHEDULED, _do(ActionName.START, "a1"), J.IN_PROGRESS, ActionName.START
    ),
    "scheduled-complete-complete": Row(
        scheduled, J.SCHEDULED, _complete(Outcome.COMPLETE), J.COMPLETE, ActionName.COMPLETE
    ),
    "scheduled-complete-with-pause-reason-paused": Row(
        scheduled, J.SCHEDULED, _complete(Outcome.PAUSE), J.PAUSED, ActionName.COMPLETE
    ),
    "scheduled-cancel-canceled": Row(
        scheduled, J.SCHEDULED, _do(ActionName.CANCEL), J.CANCELED, ActionName.CANCEL
    ),
    "in_progress-complete-complete": Row(
        in_progress, J.IN_PROGRESS, _complete(Outcome.COMPLETE), J.COMPLETE, ActionName.COMPLETE
    ),
    "in_progress-complete-with-pause-reason-paused": Row(
        in_progress, J.IN_PROGRESS, _complete(Outcome.PAUSE), J.PAUSED, ActionName.COMPLETE
    ),
    "in_progress-pause-paused": Row(
        in_progress,
        J.IN_PROGRESS,
        _do(ActionName.PAUSE, "a1", reason="emergency call"),
        J.PAUSED,
        ActionName.PAUSE,
    ),
    "paused-new-appointment-scheduled": Row(
        paused, J.PAUSED, _add(), J.SCHEDULED, ActionName.ADD_APPOINTMENT
    ),
    "paused-cancel-canceled": Row(
        paused, J.PAUSED, _do(ActionName.CANCEL), J.CANCELED, ActionName.CANCEL
    ),
    "complete-new-appointment-scheduled": Row(
        complete, J.COMPLETE, _add(), J.SCHEDULED, ActionName.ADD_APPOINTMENT
    ),
    "canceled-reopen-scheduled": Row(
        canceled, J.CANCELED, _do(ActionName.REOPEN), J.SCHEDULED, ActionName.REOPEN
    ),
    "canceled-reopen-without-appointments-unscheduled": Row(
        canceled_without_appointments,
        J.CANCELED,
        _do(ActionName.REOPEN),
        J.UNSCHEDULED,
        ActionName.REOPEN,
    ),
}


@pytest.mark.parametrize("row", list(CHART.values()), ids=list(CHART))
def test_chart_row(row: Row) -> None:
    start = job() if row.start is None else row.start()
    if row.start is not None:
        assert start.status == row.start_status
    decision = row.run(start)
    assert decision.to_status == row.end_status
    assert decision.job.status == row.end_status
    assert decision.job.status == derive_status(
        decision.job.offer, decision.job.canceled, decision.job.appointments
    )
    if row.start is not None:
        assert decision.from_status == row.start_status
        assert row.action is not None
        assert row.start_status in TABLE[row.action].job_from
        # allowed_actions shows it for the appointment (or the job) the row acts on
        target = "a1" if TABLE[row.action].scope == "target" else None
        assert row.action in allowed_actions(start, DISPATCHER, target)
    activities = [e for e in decision.effects if isinstance(e, RecordActivity)]
    assert len(activities) == 1
    assert activities[0].to_status == row.end_status


def test_every_action_is_in_the_table() -> None:
    assert set(TABLE) == set(ActionName)


def test_table_pins_the_job_statuses_each_action_is_allowed_from() -> None:
    working = {J.SCHEDULED, J.IN_PROGRESS}
    assert {a: set(t.job_from) for a, t in TABLE.items()} == {
        ActionName.ACCEPT: {J.OFFERED},
        ActionName.DECLINE: {J.OFFERED},
        ActionName.CANCEL: {J.UNSCHEDULED, J.SCHEDULED, J.IN_PROGRESS, J.PAUSED},
        ActionName.REOPEN: {J.CANCELED},
        ActionName.ADD_APPOINTMENT: {
            J.UNSCHEDULED,
            J.SCHEDULED,
            J.IN_PROGRESS,
            J.PAUSED,
            J.COMPLETE,
        },
        ActionName.DELETE_APPOINTMENT: working,
        ActionName.ON_MY_WAY: working,
        ActionName.START: working,
        ActionName.PAUSE: working,
        ActionName.COMPLETE: working,
    }


# -- the chart rows' details ----------------------------------------------------------------


def test_decline_leaves_no_access() -> None:
    decision = decide(offered(), cmd(ActionName.DECLINE), DISPATCHER)
    assert decision.job.offer == OfferState.DECLINED
    assert not is_accessible(decision.job)
    assert allowed_actions(decision.job, SYSTEM) == []


def test_accept_records_the_offer() -> None:
    decision = decide(offered(), cmd(ActionName.ACCEPT), BOTH)
    assert decision.job.offer == OfferState.ACCEPTED
    assert decision.activity.details["offer"] == "accepted"
    assert is_accessible(decision.job)


def test_pending_offer_allows_only_accept_and_decline() -> None:
    assert allowed_actions(offered(), DISPATCHER) == ["accept", "decline"]
    assert allowed_actions(offered(), BOTH) == ["accept", "decline"]


def test_offered_job_cannot_be_created_with_an_appointment() -> None:
    with pytest.raises(InvalidCommand):
        new_job(offered=True, appointment=appt(), actor=ENTERPRISE, at=at())


def test_creation_activity() -> None:
    decision = new_job(offered=False, appointment=appt("a9", tech="t2"), actor=DISPATCHER, at=at(5))
    assert decision.effects == (
        RecordActivity(
            "create",
            None,
            J.SCHEDULED,
            "a9",
            {"offered": False, "technician_id": "t2"},
            DISPATCHER,
            at(5),
        ),
    )
    assert decision.from_status == decision.to_status == J.SCHEDULED


@pytest.mark.parametrize(
    ("actor", "offered_", "allowed"),
    [
        (ENTERPRISE, True, True),
        (ENTERPRISE, False, False),
        (SYSTEM, True, True),
        (DISPATCHER, False, True),
        (BOTH, False, True),
        (TECH, False, False),
        (TECH, True, False),
    ],
    ids=[
        "enterprise-offer",
        "enterprise-plain",
        "system-offer",
        "dispatcher",
        "both",
        "tech",
        "tech-offer",
    ],
)
def test_who_may_create(actor: Actor, offered_: bool, allowed: bool) -> None:
    if allowed:
        assert new_job(offered=offered_, appointment=None, actor=actor, at=at()).job.status == (
            J.OFFERED if offered_ else J.UNSCHEDULED
        )
    else:
        with pytest.raises(NotPermitted):
            new_job(offered=offered_, appointment=None, actor=actor, at=at())


# -- our decisions beyond the chart -----------------------------------------------------------


def test_cancel_from_unscheduled() -> None:
    decision = decide(unscheduled(), cmd(ActionName.CANCEL, reason="customer called"), ENTERPRISE)
    assert decision.to_status == J.CANCELED
    assert decision.activity.details == {
        "canceled_appointment_ids": [],
        "reason": "customer called",
    }


def test_cancel_from_in_progress_cancels_every_active_appointment_and_reopen_restores_them() -> (
    None
):
    done = ended("a0", A.COMPLETE, 0, Outcome.PAUSE)
    start = job(
        done, appt("a1", A.ENROUTE), appt("a2", A.SCHEDULED, "t2"), appt("a3", A.STARTED, None)
    )
    assert start.status == J.IN_PROGRESS
    cancel = decide(start, cmd(ActionName.CANCEL), DISPATCHER)
    assert cancel.to_status == J.CANCELED
    assert cancel.job.appointments[0] == done
    assert [(a.id, a.status, a.canceled_by_job) for a in cancel.job.appointments[1:]] == [
        ("a1", A.CANCELED, True),
        ("a2", A.CANCELED, True),
        ("a3", A.CANCELED, True),
    ]
    assert cancel.activity.details["canceled_appointment_ids"] == ["a1", "a2", "a3"]
    assert cancel.texts == ()

    reopen = decide(cancel.job, cmd(ActionName.REOPEN, minutes=90), DISPATCHER)
    assert reopen.to_status == J.SCHEDULED
    assert reopen.job.appointments == (
        done,
        appt("a1"),
        appt("a2", tech="t2"),
        appt("a3", tech=None),
    )
    assert reopen.activity.details["restored_appointment_ids"] == ["a1", "a2", "a3"]


def test_reopen_without_canceled_appointments_follows_the_ended_ones() -> None:
    # paused -> cancel -> reopen: nothing was active, the paused visit decides again
    reopened = decide(
        decide(paused(), cmd(ActionName.CANCEL), SYSTEM).job, cmd(ActionName.REOPEN), BOTH
    )
    assert reopened.to_status == J.PAUSED
    assert reopened.job.appointments == paused().appointments
    assert reopened.activity.details == {"restored_appointment_ids": []}


def test_reopen_restores_only_appointments_canceled_by_the_job() -> None:
    # an appointment canceled on its own (not by the job) stays canceled
    start = job(appt("a1", A.CANCELED), appt("a2", A.CANCELED, canceled_by_job=True), canceled=True)
    reopened = decide(start, cmd(ActionName.REOPEN), DISPATCHER).job
    assert [(a.id, a.status, a.canceled_by_job) for a in reopened.appointments] == [
        ("a1", A.CANCELED, False),
        ("a2", A.SCHEDULED, False),
    ]
    assert reopened.status == J.SCHEDULED


def test_complete_job_cannot_be_canceled() -> None:
    assert "cancel" not in allowed_actions(complete(), DISPATCHER)


def test_delete_appointment_with_another_active_one_stays_scheduled() -> None:
    start = job(appt("a1"), appt("a2"))
    decision = decide(start, cmd(ActionName.DELETE_APPOINTMENT, "a1"), DISPATCHER)
    assert decision.to_status == J.SCHEDULED
    assert [a.id for a in decision.job.appointments] == ["a2"]


def test_delete_appointment_while_another_is_in_progress() -> None:
    start = job(appt("a1", A.ENROUTE), appt("a2"))
    decision = decide(start, cmd(ActionName.DELETE_APPOINTMENT, "a2"), DISPATCHER)
    assert decision.to_status == J.IN_PROGRESS
    assert "delete_appointment" not in allowed_actions(start, DISPATCHER, "a1")


def test_delete_last_active_appointment_falls_back_to_the_ended_ones() -> None:
    start = job(ended("a1", A.PAUSED, 0), appt("a2"))
    assert decide(start, cmd(ActionName.DELETE_APPOINTMENT, "a2"), DISPATCHER).to_status == J.PAUSED


def test_pause_with_another_appointment_under_way_stays_in_progress() -> None:
    start = job(appt("a1", A.STARTED), appt("a2", A.ENROUTE, "t2"))
    assert decide(start, cmd(ActionName.PAUSE, "a1"), TECH).to_status == J.IN_PROGRESS


def test_complete_outcome_after_an_earlier_paused_visit_completes_the_job() -> None:
    start = job(ended("a1", A.COMPLETE, 0, Outcome.PAUSE), appt("a2", A.STARTED))
    assert start.status == J.IN_PROGRESS
    decision = decide(start, complete_cmd("a2", Outcome.COMPLETE, 120), TECH)
    assert decision.to_status == J.COMPLETE
    ended_appt = decision.job.appointments[1]
    assert (ended_appt.status, ended_appt.reason_code, ended_appt.outcome, ended_appt.ended_at) == (
        A.COMPLETE,
        "repaired",
        Outcome.COMPLETE,
        at(120),
    )


@pytest.mark.parametrize(
    ("appointments", "expected"),
    [
        ((ended("a1", A.COMPLETE, 10, Outcome.COMPLETE), ended("a2", A.PAUSED, 5)), J.COMPLETE),
        ((ended("a1", A.PAUSED, 10), ended("a2", A.COMPLETE, 5, Outcome.COMPLETE)), J.PAUSED),
        ((ended("a1", A.PAUSED, 5), ended("a2", A.COMPLETE, 5, Outcome.COMPLETE)), J.COMPLETE),
        ((ended("a1", A.COMPLETE, 5, Outcome.COMPLETE), ended("a2", A.PAUSED, 5)), J.PAUSED),
        ((ended("a1", A.COMPLETE, 5, Outcome.COMPLETE), appt("a2", A.CANCELED)), J.COMPLETE),
        ((appt("a1", A.CANCELED),), J.UNSCHEDULED),
    ],
    ids=[
        "latest-complete-wins",
        "latest-paused-wins",
        "tie-later-position-complete",
        "tie-later-position-paused",
        "canceled-appointments-ignored",
        "only-canceled-is-unscheduled",
    ],
)
def test_rule_5_most_recently_ended_decides(appointments: tuple[object, ...], expected: J) -> None:
    assert derive_status(OfferState.NONE, False, appointments) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("offer", "canceled_", "appointments", "expected"),
    [
        (OfferState.PENDING, True, (appt("a1", A.STARTED),), J.OFFERED),
        (OfferState.DECLINED, False, (appt("a1"),), J.CANCELED),
        (OfferState.ACCEPTED, True, (appt("a1", A.STARTED),), J.CANCELED),
        (OfferState.NONE, False, (appt("a1"), appt("a2", A.ENROUTE)), J.IN_PROGRESS),
        (
            OfferState.NONE,
            False,
            (ended("a1", A.COMPLETE, 9, Outcome.COMPLETE), appt("a2")),
            J.SCHEDULED,
        ),
        (OfferState.ACCEPTED, False, (), J.UNSCHEDULED),
    ],
    ids=[
        "1-pending-first",
        "declined-is-canceled",
        "2-canceled",
        "3-in-progress",
        "4-scheduled",
        "6-unscheduled",
    ],
)
def test_derive_rules_in_order(
    offer: OfferState, canceled_: bool, appointments: tuple[object, ...], expected: J
) -> None:
    assert derive_status(offer, canceled_, appointments) == expected  # type: ignore[arg-type]


# -- effects ----------------------------------------------------------------------------------


def test_on_my_way_texts_the_customer() -> None:
    decision = decide(scheduled(), cmd(ActionName.ON_MY_WAY, "a1"), TECH)
    assert decision.effects == (
        RecordActivity(
            "on-my-way", J.SCHEDULED, J.IN_PROGRESS, "a1", {"technician_id": "t1"}, TECH, at(60)
        ),
        SendText("on_my_way", "a1"),
    )


@pytest.mark.parametrize("notify", [True, False], ids=["notify", "silent"])
def test_start_texts_arrival_only_when_the_organization_wants_it(notify: bool) -> None:
    decision = decide(
        job(appt("a1", A.ENROUTE)), cmd(ActionName.START, "a1", notify_arrival=notify), TECH
    )
    assert decision.texts == ((SendText("arrival", "a1"),) if notify else ())
    assert decision.job.appointments[0].status == A.STARTED


@pytest.mark.parametrize("outcome", list(Outcome), ids=[o.value for o in Outcome])
def test_complete_asks_for_the_survey_whatever_the_outcome(outcome: Outcome) -> None:
    decision = decide(in_progress(), complete_cmd("a1", outcome), TECH)
    assert decision.texts == (SendText("survey", "a1"),)
    assert decision.activity.details == {
        "technician_id": "t1",
        "reason_code": "repaired" if outcome == Outcome.COMPLETE else "parts",
        "outcome": outcome.value,
    }


def test_pause_ends_the_visit_without_text() -> None:
    decision = decide(
        in_progress(), cmd(ActionName.PAUSE, "a1", minutes=75, reason="no show"), TECH
    )
    assert decision.texts == ()
    paused_appt = decision.job.appointments[0]
    assert (paused_appt.status, paused_appt.ended_at, paused_appt.outcome) == (
        A.PAUSED,
        at(75),
        None,
    )
    assert decision.activity.details == {"technician_id": "t1", "reason": "no show"}


# -- technicians --------------------------------------------------------------------------------


def test_technician_works_their_own_appointment() -> None:
    start = job(appt("a1", tech="t1"), appt("a2", tech="t2"))
    assert allowed_actions(start, TECH, "a1") == ["complete", "on-my-way", "start"]
    assert allowed_actions(start, TECH, "a2") == []
    assert allowed_actions(start, TECH) == []
    assert (
        decide(start, cmd(ActionName.ON_MY_WAY, "a1"), TECH).job.appointments[1]
        == start.appointments[1]
    )


@pytest.mark.parametrize(
    "action",
    [ActionName.ON_MY_WAY, ActionName.START, ActionName.COMPLETE],
    ids=lambda a: str(a),
)
def test_technician_refused_on_someone_elses_appointment(action: ActionName) -> None:
    start = job(appt("a1", tech="t1"))
    with pytest.raises(NotPermitted):
        decide(start, cmd(action, "a1", reason_code="r", outcome=Outcome.COMPLETE), OTHER_TECH)


@pytest.mark.parametrize(
    "action",
    [ActionName.CANCEL, ActionName.DELETE_APPOINTMENT, ActionName.ADD_APPOINTMENT],
    ids=lambda a: str(a),
)
def test_technician_refused_job_actions_even_on_their_job(action: ActionName) -> None:
    appointment_id = "a1" if action == ActionName.DELETE_APPOINTMENT else None
    new = appt("a2") if action == ActionName.ADD_APPOINTMENT else None
    with pytest.raises(NotPermitted):
        decide(scheduled(), cmd(action, appointment_id, new_appointment=new), TECH)


def test_dispatcher_can_status_any_appointment_as_a_backup() -> None:
    start = job(appt("a1", tech=None))
    assert decide(start, cmd(ActionName.START, "a1"), DISPATCHER).to_status == J.IN_PROGRESS
    assert decide(start, cmd(ActionName.START, "a1"), BOTH).to_status == J.IN_PROGRESS


def test_enterprise_may_only_cancel() -> None:
    assert allowed_actions(scheduled(), ENTERPRISE) == ["cancel"]
    assert allowed_actions(scheduled(), ENTERPRISE, "a1") == []
    assert allowed_actions(offered(), ENTERPRISE) == []
