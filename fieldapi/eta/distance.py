"""Straight-line distances from PostGIS (geography: metres on the spheroid)."""

from __future__ import annotations

import uuid

from geoalchemy2 import Geography
from sqlalchemy import cast, func, select
from sqlalchemy.orm import Session

from fieldapi.jobs.models import Customer


def point(lat: float, lon: float) -> object:
    """A geography point from WGS 84 degrees (PostGIS wants lon, lat)."""
    return cast(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326), Geography)


def distance_to_site_m(db: Session, customer_id: uuid.UUID, lat: float, lon: float) -> float | None:
    """Metres from (lat, lon) to the customer's site; None when the site is unknown."""
    metres = db.scalar(
        select(func.ST_Distance(Customer.site, point(lat, lon))).where(Customer.id == customer_id)
    )
    return None if metres is None else float(metres)
