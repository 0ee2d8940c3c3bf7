"""The tables that grow without bound are ready to be distributed by `organization_id`
(docs/scaling.md): each primary key and unique constraint includes it, and so does each
foreign key from one of them to another. The ones not yet ready are pinned, constraint by
constraint, so that none gets worse unnoticed and the list shrinks when one is fixed."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

READY = ("location_pings", "latest_locations")
# Grow without bound too, but keyed by their own id today (see docs/scaling.md).
NOT_YET = ("messages", "activity_events", "sms_status_callbacks")
UNBOUNDED = READY + NOT_YET

CONSTRAINTS_SQL = text(
    """
    SELECT c.conrelid::regclass::text AS table_name, c.conname, c.contype,
           c.confrelid::regclass::text AS references,
           ARRAY(SELECT a.attname FROM unnest(c.conkey) k
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k) AS columns
    FROM pg_constraint c
    WHERE c.contype IN ('p', 'u', 'f') AND c.conrelid::regclass::text = ANY(:tables)
      AND c.conparentid = 0
    """
)


def without_organization_id(db: Session, tables: tuple[str, ...]) -> set[tuple[str, str]]:
    """(table, constraint) of the keys that would stop distribution by organization_id."""
    found = set()
    for row in db.execute(CONSTRAINTS_SQL, {"tables": list(tables)}):
        if row.contype == "f" and row.references not in UNBOUNDED:
            continue  # to a small table (organizations, users): a reference table there
        if "organization_id" not in row.columns:
            found.add((row.table_name, row.conname))
    return found


def test_pings_and_latest_positions_are_keyed_by_organization(db: Session) -> None:
    rows = db.execute(CONSTRAINTS_SQL, {"tables": list(READY)}).all()
    assert {row.table_name for row in rows if row.contype == "p"} == set(READY)
    assert without_organization_id(db, READY) == set()


def test_the_tables_not_yet_ready_are_blocked_by_these_keys_only(db: Session) -> None:
    assert without_organization_id(db, NOT_YET) == {
        ("messages", "pk_messages"),
        ("messages", "uq_messages_twilio_sid"),
        ("activity_events", "pk_activity_events"),
        ("sms_status_callbacks", "pk_sms_status_callbacks"),
        ("sms_status_callbacks", "uq_sms_status_callbacks_message_sid"),
        ("sms_status_callbacks", "fk_sms_status_callbacks_message_id_messages"),
    }
