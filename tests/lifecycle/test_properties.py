"""Random action sequences by random actors over one job (hypothesis stateful testing)."""

from __future__ import annotations

import copy
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from fieldapi.lifecycle import (
    ACTIVE_APPOINTMENT_STATUSES,
    JOB_ACTIONS,
    TABLE,
    ActionName,
    ActionRefused,
    Actor,
    ActorKind,
    Appointment,
    AppointmentStatus,
    Command,
    Decision,
    InvalidCommand,
    Job,
    JobStatus,
    LifecycleError,
    Outcome,
    RecordActivity,
    Role,
    Scope,
    SendText,
    allowed_actions,
    decide,
    derive_status,
    new_job,
)

from .builders import BOTH, DISPATCHER, ENTERPRISE, OTHER_TECH, SYSTEM, T0, TECH

A = AppointmentStatus
ACTORS = [
    DISPATCHER,
    BOTH,
    TECH,
    OTHER_TECH,
    ENTERPRISE,
    SYSTEM,
    Actor(ActorKind.USER, None, Role.TECHNICIAN),
    Actor(ActorKind.USER, "t1", None),
]
TECH_IDS = st.sampled_from(["t1", "t2", None])
MISSING = "missing"


def _is_technician(actor: Actor) -> bool:
    return actor.kind == ActorKind.USER and actor.role == Role.TECHNICIAN


def _succeeds(job: Job, command: Command, actor: Actor) -> bool:
    try:
        decide(job, command, actor)
    except LifecycleError:
        return False
    return True


class JobLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.job: Job | None = None
        self.minutes = 0
        self.serial = 0
        self.canceled_ids: list[str] | None = None  # appointments ended by the last cancel

    # -- helpers ----------------------------------------------------------------------------

    @property
    def current(self) -> Job:
        assert self.job is not None
        return self.job

    def tick(self) -> Command:
        self.minutes += 7
        return Command(ActionName.ACCEPT, T0 + timedelta(minutes=self.minutes))

    def command(
        self,
        action: ActionName,
        appointment_id: str | None,
        tech: str | None,
        outcome: Outcome,
        notify: bool,
    ) -> Command:
        """A valid command for ``action`` (valid payload; the state may still refuse it)."""
        self.serial += 1
        base = self.tick()
        return Command(
            action,
            base.at,
            appointment_id,
            new_appointment=(
                Appointment(f"n{self.serial}", A.SCHEDULED, tech)
                if action == ActionName.ADD_APPOINTMENT
                else None
            ),
            reason_code="repaired" if outcome == Outcome.COMPLETE else "parts",
            outcome=outcome,
            reason="because",
            notify_arrival=notify,
        )

    # -- rules ------------------------------------------------------------------------------

    @initialize(offered=st.booleans(), with_appointment=st.booleans(), tech=TECH_IDS)
    def create(self, offered: bool, with_appointment: bool, tech: str | None) -> None:
        appointment = (
            Appointment("n0", A.SCHEDULED, tech) if with_appointment and not offered else None
        )
        decision = new_job(offered=offered, appointment=appointment, actor=SYSTEM, at=T0)
        self.check_decision_shape(decision)
        self.job = decision.job

    @rule(
        action=st.sampled_from(sorted(ActionName)),
        actor=st.sampled_from(ACTORS),
        pick=st.integers(0, 7),
        tech=TECH_IDS,
        outcome=st.sampled_from(sorted(Outcome)),
        notify=st.booleans(),
    )
    def act(
        self,
        action: ActionName,
        actor: Actor,
        pick: int,
        tech: str | None,
        outcome: Outcome,
        notify: bool,
    ) -> None:
        before = self.current
        snapshot = copy.deepcopy(before)
        appointment_id: str | None = None
        if TABLE[action].scope is Scope.TARGET:
            ids = [a.id for a in before.appointments]
            appointment_id = ids[pick % len(ids)] if ids and pick < 7 else MISSING

        if appointment_id == MISSING:
            listed = False
            try:
                allowed_actions(before, actor, appointment_id)
            except InvalidCommand:
                pass
            else:
                raise AssertionError("allowed_actions accepted an unknown appointment")
        else:
            listed = action in allowed_actions(before, actor, appointment_id)

        command = self.command(action, appointment_id, tech, outcome, notify)
        try:
            decision = decide(before, command, actor)
        except LifecycleError as err:
            assert before == snapshot, "a refused action changed its input"
            assert not listed, f"{action} was listed but refused: {err}"
            if isinstance(err, ActionRefused):
                assert err.current_status == before.status
                assert err.allowed_actions == allowed_actions(before, actor, appointment_id)
                assert str(before.status) in str(err)
            return

        assert listed, f"{action} succeeded but was not listed"
        assert before == snapshot, "decide mutated its input"
        self.check_decision_shape(decision)
        after = decision.job
        assert decision.from_status == before.status

        if _is_technician(actor):
            self.check_technician_touched_only_theirs(before, after, actor, appointment_id)
        if action == ActionName.CANCEL:
            self.check_cancel(before, decision)
        elif action == ActionName.REOPEN:
            self.check_reopen(before, decision)
        elif action == ActionName.COMPLETE:
            self.check_complete(after, appointment_id, outcome)
        self.check_texts(decision, action, appointment_id, notify)
        self.job = after

    # -- checks -----------------------------------------------------------------------------

    @staticmethod
    def check_decision_shape(decision: Decision) -> None:
        job = decision.job
        assert job.status == derive_status(job.offer, job.canceled, job.appointments)
        assert decision.to_status == job.status
        activities = [e for e in decision.effects if isinstance(e, RecordActivity)]
        assert len(activities) == 1
        assert activities[0].to_status == decision.to_status
        ids = [a.id for a in job.appointments]
        assert len(ids) == len(set(ids)), "appointment ids must stay unique"

    @staticmethod
    def check_technician_touched_only_theirs(
        before: Job, after: Job, actor: Actor, appointment_id: str | None
    ) -> None:
        assert actor.user_id
        assert (after.offer, after.canceled) == (before.offer, before.canceled)
        assert [a.id for a in after.appointments] == [a.id for a in before.appointments]
        for old, new in zip(before.appointments, after.appointments, strict=True):
            if old != new:
                assert old.id == appointment_id
                assert old.technician_id == actor.user_id == new.technician_id

    def check_cancel(self, before: Job, decision: Decision) -> None:
        active = [a.id for a in before.appointments if a.status in ACTIVE_APPOINTMENT_STATUSES]
        assert decision.activity.details["canceled_appointment_ids"] == active
        for old, new in zip(before.appointments, decision.job.appointments, strict=True):
            if old.id in active:
                assert (new.status, new.canceled_by_job) == (A.CANCELED, True)
            else:
                assert new == old
        assert decision.job.status == JobStatus.CANCELED
        self.canceled_ids = active

    def check_reopen(self, before: Job, decision: Decision) -> None:
        assert self.canceled_ids is not None, "reopened a job that was never canceled"
        restored = decision.activity.details["restored_appointment_ids"]
        assert restored == self.canceled_ids
        for old, new in zip(before.appointments, decision.job.appointments, strict=True):
            if old.id in self.canceled_ids:
                assert (new.status, new.canceled_by_job) == (A.SCHEDULED, False)
                assert new.technician_id == old.technician_id
            else:
                assert new == old
        expected = JobStatus.SCHEDULED if self.canceled_ids else decision.job.status
        assert decision.job.status == expected
        assert not decision.job.canceled
        self.canceled_ids = None

    @staticmethod
    def check_complete(after: Job, appointment_id: str | None, outcome: Outcome) -> None:
        done = after.find_appointment(appointment_id or "")
        assert done is not None and done.status == A.COMPLETE and done.outcome == outcome
        if not any(a.status in ACTIVE_APPOINTMENT_STATUSES for a in after.appointments):
            # times only move forward here, so the visit that just ended decides
            expected = JobStatus.COMPLETE if outcome == Outcome.COMPLETE else JobStatus.PAUSED
            assert after.status == expected

    @staticmethod
    def check_texts(
        decision: Decision, action: ActionName, appointment_id: str | None, notify: bool
    ) -> None:
        texts = [e for e in decision.effects if isinstance(e, SendText)]
        expected = {
            ActionName.ON_MY_WAY: [SendText("on_my_way", appointment_id or "")],
            ActionName.START: [SendText("arrival", appointment_id or "")] if notify else [],
            ActionName.COMPLETE: [SendText("survey", appointment_id or "")],
        }.get(action, [])
        assert texts == expected

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def status_is_derived(self) -> None:
        if self.job is not None:
            job = self.job
            assert job.status == derive_status(job.offer, job.canceled, job.appointments)

    @invariant()
    def allowed_actions_agree_with_decide_for_every_actor(self) -> None:
        if self.job is None:
            return
        job = self.job
        probe = self.minutes + 1
        for actor in ACTORS:
            job_level = set(allowed_actions(job, actor))
            assert job_level <= {str(a) for a in JOB_ACTIONS}
            per_appointment = {
                a.id: set(allowed_actions(job, actor, a.id)) for a in job.appointments
            }
            deletable = any("delete_appointment" in s for s in per_appointment.values())
            assert ("delete_appointment" in job_level) == deletable
            for action in ActionName:
                t = TABLE[action]
                targets = list(per_appointment) if t.scope is Scope.TARGET else [None]
                for target in targets:
                    command = Command(
                        action,
                        T0 + timedelta(minutes=probe),
                        target,
                        new_appointment=(
                            Appointment("probe", A.SCHEDULED, "t1")
                            if action == ActionName.ADD_APPOINTMENT
                            else None
                        ),
                        reason_code="repaired",
                        outcome=Outcome.COMPLETE,
                    )
                    listed = str(action) in (
                        job_level if target is None else per_appointment[target]
                    )
                    assert _succeeds(job, command, actor) == listed, (action, target, actor)


JobLifecycle.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestJobLifecycle = JobLifecycle.TestCase
