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
from fieldapi.documents.models import Document, DocumentCounter, DocumentLine  # noqa: F401
from fieldapi.enterprise.models import (  # noqa: F401
    Connection,
    EnterpriseWebhook,
    WebhookDelivery,
)
from fieldapi.eta.models import EtaCalibration  # noqa: F401
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
from fieldapi.locations.models import (  # noqa: F401
    LatestLocation,
    LocationPing,
    TrackerDevice,
    TrackView,
    WorkingHours,
)
from fieldapi.messaging.models import (  # noqa: F401
    InboundMessage,
    Message,
    OptOut,
    PendingStatusCallback,
    StatusCallback,
)
from fieldapi.public.models import VisitTracking  # noqa: F401
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
