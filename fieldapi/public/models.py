"""The customer's view of one visit: its tracking token (as a hash), the arrival it was
promised, the ETA that follows the drive, the running-late texts sent and the arrival."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldapi.db import Base


class VisitTracking(Base):
    """One row per appointment that went on its way (issued by the on-my-way command)."""

    __tablename__ = "visit_tracking"

    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    # What the customer was told (the on-my-way text, then each running-late text).
    promised_arrive_by: Mapped[datetime | None]
    eta_arrive_by: Mapped[datetime | None]
    eta_distance_m: Mapped[float | None]
    eta_updated_at: Mapped[datetime | None]
    late_texts: Mapped[int] = mapped_column(default=0)
    arrived_at: Mapped[datetime | None]
