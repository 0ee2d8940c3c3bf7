"""Imports every model so that metadata and Alembic see the whole schema."""

from fieldapi.accounts.models import (
    AuthSession,
    Organization,
    Passcode,
    PasscodeRequest,
    PasscodeSource,
    UsedRefreshToken,
    User,
)
from fieldapi.db import Base
from fieldapi.idempotency import IdempotencyKey  # noqa: F401
from fieldapi.jobs.models import (  # noqa: F401
    ActivityEvent,
    Appointment,
    CompleteReason,
    Customer,
    Job,
    JobNote,
    JobPhoto,
)
from fieldapi.locations.models import LatestLocation, LocationPing  # noqa: F401
from fieldapi.messaging.models import InboundMessage, Message, OptOut, StatusCallback  # noqa: F401
from fieldapi.rate_limit_storage import RateLimitCounter

__all__ = [
    "ActivityEvent",
    "Appointment",
    "AuthSession",
    "Base",
    "CompleteReason",
    "Customer",
    "Job",
    "Message",
    "Organization",
    "Passcode",
    "PasscodeRequest",
    "PasscodeSource",
    "RateLimitCounter",
    "UsedRefreshToken",
    "User",
]
