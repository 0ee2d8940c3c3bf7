"""What the job and appointment schemas dump: a job or an appointment as one caller sees it.

Each answer holds its row (the schemas read the row's own fields through `row`) and works
out what depends on the caller: the actions the lifecycle allows them now, and the
appointments they may see (a technician: their own).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from fieldapi import lifecycle as lc
from fieldapi.accounts.principal import Principal
from fieldapi.jobs.models import Appointment, CompleteReason, Job
from fieldapi.jobs.snapshots import job_snapshot
from fieldapi.jobs.visibility import shown_appointments


class Person(Protocol):
    """A technician as `PersonSchema` dumps them (an `accounts.members.Member`)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def name(self) -> str: ...


class AppointmentAnswer:
    """An appointment for `AppointmentSchema` (with its job and customer for
    `CalendarAppointmentSchema`); `snapshot` is its job's, since what may be done to one
    visit follows from all of them."""

    def __init__(
        self,
        row: Appointment,
        technicians: Mapping[uuid.UUID, Person],
        snapshot: lc.Job,
        actor: lc.Actor,
    ) -> None:
        self.row = row
        self.technician = None if row.technician_id is None else technicians.get(row.technician_id)
        self.snapshot = snapshot
        self.actor = actor

    @classmethod
    def in_calendar(
        cls, row: Appointment, technicians: Mapping[uuid.UUID, Person], actor: lc.Actor
    ) -> AppointmentAnswer:
        """One read with its job (`row.job`, and that job's appointments)."""
        return cls(row, technicians, job_snapshot(row.job, row.job.appointments), actor)

    @property
    def ends_at(self) -> datetime:
        return self.row.starts_at + timedelta(minutes=self.row.duration_min)

    @property
    def allowed_actions(self) -> list[str]:
        return lc.allowed_actions(self.snapshot, self.actor, str(self.row.id))


class JobAnswer:
    """A job for `JobSchema` (a list's item): its status and actions follow from all its
    appointments, but `appointments` are only those the caller may see."""

    def __init__(
        self, row: Job, technicians: Mapping[uuid.UUID, Person], principal: Principal
    ) -> None:
        self.row = row
        self.snapshot = job_snapshot(row, row.appointments)
        self.actor = principal.actor()
        self.appointments = [
            AppointmentAnswer(appointment, technicians, self.snapshot, self.actor)
            for appointment in shown_appointments(principal, row.appointments)
        ]

    @property
    def preferred_windows(self) -> list[dict[str, str]]:
        return self.row.preferred_windows or []

    @property
    def allowed_actions(self) -> list[str]:
        return lc.allowed_actions(self.snapshot, self.actor)


class JobDetail(JobAnswer):
    """One job's answer (its GET, its actions and its visits'): with the reasons that
    complete its visits."""

    def __init__(
        self,
        row: Job,
        technicians: Mapping[uuid.UUID, Person],
        principal: Principal,
        complete_reasons: Sequence[CompleteReason | Mapping[str, str]],
    ) -> None:
        super().__init__(row, technicians, principal)
        self.complete_reasons = complete_reasons


class JobWithEta(JobDetail):
    """On-my-way's answer when it estimated the arrival (`JobWithEtaSchema`)."""

    def __init__(
        self,
        row: Job,
        technicians: Mapping[uuid.UUID, Person],
        principal: Principal,
        complete_reasons: Sequence[CompleteReason | Mapping[str, str]],
        eta: Mapping[str, Any],
    ) -> None:
        super().__init__(row, technicians, principal, complete_reasons)
        self.eta = eta
