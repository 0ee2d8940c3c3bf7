"""The shared job/appointment state machine (design/lifecycle.md).

Pure: standard library only, no clock, no I/O. A snapshot and a command in, a Decision
(new snapshot + effects) out, or a LifecycleError.
"""

from .derive import derive_status, is_accessible, make_job, most_recently_ended
from .effects import Decision, Effect, RecordActivity, SendText, TextPurpose
from .errors import ActionRefused, InvalidCommand, LifecycleError, NotPermitted
from .machine import CREATE_ACTIVITY, allowed_actions, decide, new_job
from .model import (
    ACTIVE_APPOINTMENT_STATUSES,
    APPOINTMENT_ACTIONS,
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
from .table import ENTERPRISE_ACTIONS, TABLE, TECHNICIAN_ACTIONS, TRANSITIONS, Scope, Transition

__all__ = [
    "ACTIVE_APPOINTMENT_STATUSES",
    "APPOINTMENT_ACTIONS",
    "CREATE_ACTIVITY",
    "ENDED_APPOINTMENT_STATUSES",
    "ENTERPRISE_ACTIONS",
    "JOB_ACTIONS",
    "TABLE",
    "TECHNICIAN_ACTIONS",
    "TRANSITIONS",
    "ActionName",
    "ActionRefused",
    "Actor",
    "ActorKind",
    "Appointment",
    "AppointmentStatus",
    "Command",
    "Decision",
    "Effect",
    "InvalidCommand",
    "Job",
    "JobStatus",
    "LifecycleError",
    "NotPermitted",
    "OfferState",
    "Outcome",
    "RecordActivity",
    "Role",
    "Scope",
    "SendText",
    "TextPurpose",
    "Transition",
    "allowed_actions",
    "decide",
    "derive_status",
    "is_accessible",
    "make_job",
    "most_recently_ended",
    "new_job",
]
