"""The ping history: weekly partitions created ahead and dropped when expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from fieldapi.db import utcnow
from fieldapi.locations.maintenance import run_periodic_maintenance
from fieldapi.locations.partitions import (
    drop_expired_partitions,
    ensure_partitions,
    list_partitions,
    partition_name,
    week_start,
)
from tests.conftest import ApiClient
from tests.locations.conftest import latest, ping, post_pings, stored_pings


def test_the_history_is_range_partitioned_by_time_with_one_key(db: Session) -> None:
    strategy, key = db.execute(
        text(
            "SELECT p.partstrat, a.attname FROM pg_partitioned_table p "
            "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
            "WHERE p.partrelid = 'location_pings'::regclass"
        )
    ).one()
    assert (strategy, key) == ("r", "recorded_at")
    indexes = db.execute(
        text("SELECT indexdef FROM pg_indexes WHERE tablename = 'location_pings'")
    ).scalars()
    # Only the primary key, leading with the organization: no second (DESC) index.
    assert [index.split(" USING ")[1] for index in indexes] == [
        "btree (organization_id, user_id, recorded_at)"
    ]
    column_type = db.execute(
        text(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'location_pings'::regclass AND attname = 'position'"
        )
    ).scalar_one()
    assert column_type == "geography(Point,4326)"


def test_partitions_cover_the_retention_window_and_weeks_ahead(db: Session) -> None:
    now = utcnow()
    starts = {partition.start for partition in list_partitions(db)}
    week = week_start(now - timedelta(days=60))
    while week <= week_start(now) + timedelta(weeks=3):
        assert week in starts
        week += timedelta(weeks=1)
    assert all(p.end - p.start == timedelta(weeks=1) for p in list_partitions(db))
    has_default = db.execute(
        text(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'location_pings'::regclass "
            "AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'"
        )
    ).scalar_one()
    assert has_default == 0


def test_weeks_start_on_monday_utc() -> None:
    assert week_start(datetime(2026, 11, 26, 23, 59, tzinfo=UTC)) == datetime(
        2026, 11, 23, tzinfo=UTC
    )
    assert partition_name(datetime(2026, 11, 23, tzinfo=UTC)) == "location_pings_p20261123"


def test_ensure_partitions_creates_what_is_missing_once(db: Session) -> None:
    later = utcnow() + timedelta(weeks=10)
    created = ensure_partitions(db, later, retention_days=60)
    assert partition_name(week_start(later) + timedelta(weeks=3)) in created
    assert ensure_partitions(db, later, retention_days=60) == []
    starts = [partition.start for partition in list_partitions(db)]
    assert len(starts) == len(set(starts))


def test_expired_partitions_are_dropped_whole_and_only_them(
    tech_client: ApiClient, tech: User, db: Session
) -> None:
    now = utcnow()
    old = now - timedelta(days=59)
    recent = now - timedelta(days=1)
    assert post_pings(tech_client, [ping(old), ping(recent, 41.9)]).json["stored"] == 2
    # Ninety days on, with 60 days of retention: the week of `old` has wholly expired.
    later = now + timedelta(days=30)
    dropped = drop_expired_partitions(db, later, retention_days=60)
    assert partition_name(week_start(old)) in dropped
    cutoff = later - timedelta(days=60)
    assert all(p.end > cutoff for p in list_partitions(db))
    assert [row["recorded_at"] for row in stored_pings(db, tech.id)] == [recent]
    # The partition holding the cutoff itself is kept: part of it is still retained.
    assert partition_name(week_start(cutoff)) not in dropped


def test_maintenance_creates_ahead_and_drops_behind(
    tech_client: ApiClient, tech: User, db: Session
) -> None:
    post_pings(tech_client, [ping(utcnow() - timedelta(minutes=1))])
    assert run_periodic_maintenance(db, utcnow(), retention_days=60)["dropped"] == []
    assert latest(db, tech.id) is not None
    later = utcnow() + timedelta(days=120)
    result = run_periodic_maintenance(db, later, retention_days=60)
    assert latest(db, tech.id) is None  # expired with its history
    assert partition_name(week_start(later) + timedelta(weeks=3)) in result["created"]
    assert partition_name(week_start(utcnow())) in result["dropped"]
    assert run_periodic_maintenance(db, later, retention_days=60) == {"created": [], "dropped": []}


def test_ingest_creates_a_missing_partition_itself(
    tech_client: ApiClient, tech: User, db: Session
) -> None:
    """When the worker has not run: the week's partition is missing, the ping still lands."""
    this_week = partition_name(week_start(utcnow()))
    db.execute(text(f"DROP TABLE {this_week}"))
    db.commit()
    response = post_pings(tech_client, [ping(utcnow() - timedelta(seconds=5))])
    assert response.json["stored"] == 1
    assert this_week in {partition.name for partition in list_partitions(db)}
    assert len(stored_pings(db, tech.id)) == 1
