"""Imports every model so that metadata and Alembic see the whole schema."""

from fieldapi.accounts.models import AuthSession, Organization, User
from fieldapi.db import Base
from fieldapi.jobs.models import ActivityEvent, Appointment, CompleteReason, Customer, Job
from fieldapi.messaging.models import Message

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
    "User",
]
