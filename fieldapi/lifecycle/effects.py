"""What a decision asks the application to do, in the same transaction as the state change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .model import Actor, Job, JobStatus

TextPurpose = Literal["on_my_way", "arrival", "survey"]


@dataclass(frozen=True)
class Effect:
    """Base of the effects. The machine performs none of them."""


@dataclass(frozen=True)
class RecordActivity(Effect):
    """One activity-log entry: who (``actor``), what (``action``), when (``at``), from -> to.

    ``from_status`` is None for the creation of a job (action ``"create"``). ``details`` is
    JSON-ready (str, bool, None, list[str] values).
    """

    action: str
    from_status: JobStatus | None
    to_status: JobStatus | None
    appointment_id: str | None
    details: Mapping[str, object]
    actor: Actor | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class SendText(Effect):
    """Text the customer of the appointment (goes to the outbox)."""

    purpose: TextPurpose
    appointment_id: str


@dataclass(frozen=True)
class Decision:
    """The new snapshot and the effects to carry out.

    For ``new_job`` there is no previous status: ``from_status == to_status`` there, and the
    activity's ``from_status`` is None.
    """

    job: Job
    effects: tuple[Effect, ...]
    from_status: JobStatus
    to_status: JobStatus

    @property
    def activity(self) -> RecordActivity:
        """The decision's single activity entry."""
        return next(e for e in self.effects if isinstance(e, RecordActivity))

    @property
    def texts(self) -> tuple[SendText, ...]:
        return tuple(e for e in self.effects if isinstance(e, SendText))
