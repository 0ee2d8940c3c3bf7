"""Periodic upkeep of the ping history, called by `fieldapi worker`."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import delete
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from fieldapi.locations.models import LatestLocation
from fieldapi.locations.partitions import drop_expired_partitions, ensure_partitions
from fieldapi.locations.settings import SETTINGS

log = logging.getLogger(__name__)


def setting(name: str) -> Any:
    """A locations setting from the app's config, or from the environment outside an app."""
    if has_app_context():
        return current_app.config[name]
    (found,) = (s for s in SETTINGS if s.name == name)
    return found.read(dict(os.environ))


def run_periodic_maintenance(
    db: Session, now: datetime, *, retention_days: int | None = None
) -> dict[str, list[str]]:
    """Create the partitions ahead and drop the expired ones; safe to run from many workers.

    Each step commits on its own, so a drop that times out on its lock does not undo the
    partitions just created; it is retried on the next run. A latest position older than
    the retention goes too (a user who stopped sending pings long ago).
    """
    days = retention_days or int(setting("LOCATION_RETENTION_DAYS"))
    created = ensure_partitions(db, now, retention_days=days)
    db.execute(
        delete(LatestLocation).where(LatestLocation.recorded_at < now - timedelta(days=days))
    )
    db.commit()
    try:
        dropped = drop_expired_partitions(db, now, days)
        db.commit()
    except OperationalError as error:  # lock_timeout: busy table, next run
        db.rollback()
        log.warning("location partitions not dropped this time: %s", error.orig)
        dropped = []
    if created or dropped:
        log.info("location partitions created %s, dropped %s", created, dropped)
    return {"created": created, "dropped": dropped}
