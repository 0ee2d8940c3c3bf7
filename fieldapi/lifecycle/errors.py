"""Errors raised by the lifecycle. A raised error means nothing changed."""

from __future__ import annotations

from collections.abc import Sequence

from .model import AppointmentStatus, JobStatus


class LifecycleError(Exception):
    """Base of every lifecycle error."""


class ActionRefused(LifecycleError):
    """The action is not allowed from the current state (the service answers 409).

    ``allowed_actions`` lists what the same actor may do instead: the job actions for a job
    action, that appointment's actions for an appointment action or delete_appointment.
    """

    def __init__(
        self,
        *,
        action: str,
        current_status: JobStatus,
        allowed_actions: Sequence[str],
        appointment_id: str | None = None,
        appointment_status: AppointmentStatus | None = None,
        accessible: bool = True,
    ) -> None:
        self.action = str(action)
        self.current_status = current_status
        self.allowed_actions = list(allowed_actions)
        self.appointment_id = appointment_id
        self.appointment_status = appointment_status
        self.accessible = accessible
        super().__init__(self._message())

    def _message(self) -> str:
        if not self.accessible:
            state = f"the job is {self.current_status} (the offer was declined)"
        else:
            state = f"the job is {self.current_status}"
        if self.appointment_status is not None:
            state += f" and the appointment is {self.appointment_status}"
        allowed = ", ".join(self.allowed_actions) or "none"
        return f"cannot {self.action}: {state} (allowed: {allowed})"


class NotPermitted(LifecycleError):
    """The actor may not do this at all (the service answers 403, or 404 to hide the job)."""

    def __init__(self, message: str, *, action: str | None = None) -> None:
        self.action = None if action is None else str(action)
        super().__init__(message)


class InvalidCommand(LifecycleError):
    """The command is malformed (the service answers 400/422)."""
