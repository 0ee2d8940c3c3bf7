"""Weekly partitions of `location_pings`: created ahead, dropped when wholly expired.

There is no DEFAULT partition. Ingest accepts only `recorded_at` within
[now - LOCATION_RETENTION_DAYS, now + 5 min], and `ensure_partitions` covers exactly that
window plus a few weeks ahead, so a valid ping always has a partition while the worker
runs; if it has not run for weeks, ingest creates the missing ones and retries once. A
DEFAULT partition would instead collect rows that block creating the proper partition
later (PostgreSQL refuses to attach a range that the DEFAULT already holds rows for).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

PARENT = "location_pings"
WEEKS_AHEAD = 3
_LOCK_KEY = 727275  # serializes partition DDL between workers (migrations use 727274)
_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime
    end: datetime


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 UTC of the week holding `moment`."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def partition_name(start: datetime) -> str:
    return f"{PARENT}_p{start:%Y%m%d}"


def create_partition_sql(start: datetime) -> str:
    end = start + timedelta(weeks=1)
    return (
        f"CREATE TABLE IF NOT EXISTS {partition_name(start)} PARTITION OF {PARENT} "
        f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    )


def wanted_weeks(
    now: datetime, retention_days: int, weeks_ahead: int = WEEKS_AHEAD
) -> list[datetime]:
    """Every week from the oldest acceptable ping to `weeks_ahead` weeks after this one."""
    first = week_start(now - timedelta(days=retention_days))
    last = week_start(now) + timedelta(weeks=weeks_ahead)
    weeks = []
    while first <= last:
        weeks.append(first)
        first += timedelta(weeks=1)
    return weeks


def list_partitions(db: Session) -> list[Partition]:
    rows = db.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = CAST(:parent AS regclass) "
            "ORDER BY c.relname"
        ),
        {"parent": PARENT},
    ).all()
    found = []
    for name, bound in rows:
        match = _BOUND.search(bound or "")
        if match:  # the catalog prints the bounds in the session's TimeZone, with an offset
            start, end = (datetime.fromisoformat(value) for value in match.groups())
            found.append(Partition(name, start.astimezone(UTC), end.astimezone(UTC)))
    return found


def ensure_partitions(
    db: Session, now: datetime, *, retention_days: int = 60, weeks_ahead: int = WEEKS_AHEAD
) -> list[str]:
    """Create the missing weekly partitions around `now`; returns the names created.

    Runs in the caller's transaction (the caller commits).
    """
    db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    existing = {partition.start for partition in list_partitions(db)}
    created = []
    for start in wanted_weeks(now, retention_days, weeks_ahead):
        if start not in existing:
            db.execute(text(create_partition_sql(start)))
            created.append(partition_name(start))
    return created


def drop_expired_partitions(db: Session, now: datetime, retention_days: int) -> list[str]:
    """Drop the partitions whose every row is older than the retention window.

    Dropping a partition briefly locks the parent table; with a lock timeout, a drop
    that would queue behind a long query (and block ingest behind it) gives up instead
    and is retried on the next run.
    """
    cutoff = now - timedelta(days=retention_days)
    db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    db.execute(text("SET LOCAL lock_timeout = '5s'"))
    dropped = []
    for partition in list_partitions(db):
        if partition.end <= cutoff:
            db.execute(text(f'DROP TABLE IF EXISTS "{partition.name}"'))
            dropped.append(partition.name)
    return dropped
