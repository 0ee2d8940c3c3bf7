"""The speeds fitted from each organization's trips, kept so that an ETA reads one row."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from fieldapi.db import Base


class EtaCalibration(Base):
    """One organization's latest fit (`fieldapi.eta.fits`): refitted when older than
    `ETA_CALIBRATION_MAX_AGE` or fitted against other default speeds (`model_key`)."""

    __tablename__ = "eta_calibrations"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id"), primary_key=True
    )
    model_key: Mapped[str] = mapped_column(Text)  # the default model it was fitted to
    trips: Mapped[int]
    # [[up_to_km (null: no limit), default_kmh, fitted_kmh, trips], ...], nearest band first
    bands: Mapped[list[Any]] = mapped_column(JSONB)
    fitted_at: Mapped[datetime]
