"""Removes photo files that no `job_photos` row points to.

`add_photo` saves the file before it commits the row, so a process killed in between leaves
a file nothing refers to (a failed commit deletes it itself). The worker's periodic work
sweeps those: files older than a grace period, which protects uploads still in flight, whose
key no row holds. The store is read in full each time; the database is asked once a batch.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.jobs.models import JobPhoto
from fieldapi.storage import FileStore

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(hours=1)
BATCH_SIZE = 500


def is_photo_key(key: str) -> bool:
    """`<organization id>/<photo id>` as `add_photo` writes it (canonical UUIDs)."""
    parts = key.split("/")
    if len(parts) != 2:
        return False
    try:
        return all(str(uuid.UUID(part)) == part for part in parts)
    except ValueError:
        return False


def _batches(keys: Iterable[str], size: int) -> Iterator[list[str]]:
    it = iter(keys)
    while batch := list(islice(it, size)):
        yield batch


def sweep_orphan_photos(
    db: Session,
    store: FileStore,
    *,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Delete the photo files older than `now - grace` that no row refers to; how many.

    Read-only on the database. Keys that are not photo keys are left alone."""
    if grace < timedelta(0):
        raise ValueError("the grace period cannot be negative")
    candidates = (key for key in store.keys_older_than(now - grace) if is_photo_key(key))
    deleted = 0
    for batch in _batches(candidates, batch_size):
        referenced = set(
            db.scalars(select(JobPhoto.storage_key).where(JobPhoto.storage_key.in_(batch)))
        )
        for key in batch:
            if key not in referenced:
                store.delete(key)
                deleted += 1
                log.info("deleted orphan photo file %s", key)
    if deleted:
        log.info("photo sweep: %d orphan files deleted", deleted)
    return deleted
