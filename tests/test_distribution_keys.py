"""The tables that grow without bound are ready to be distributed by `organization_id`
(docs/scaling.md): each primary key and unique constraint includes it, and so does each
foreign key from one of them to another, on both sides."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# A row for every ping, every text, every action on a job, every delivery report, every
# event sent to an enterprise, kept (pings until their partition expires): docs/scaling.md.
READY = (
    "location_pings",
    "latest_locations",
    "messages",
    "activity_events",
    "sms_status_callbacks",
    "webhook_deliveries",
)

CONSTRAINTS_SQL = text(
    """
    SELECT c.conrelid::regclass::text AS table_name, c.conname, c.contype,
           c.confrelid::regclass::text AS references,
           ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
                 ORDER BY k.n) AS columns,
           ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum
                 ORDER BY k.n) AS referenced_columns
    FROM pg_constraint c
    WHERE c.contype IN ('p', 'u', 'f') AND c.conrelid::regclass::text = ANY(:tables)
      AND c.conparentid = 0
    """
)


def without_organization_id(db: Session, tables: tuple[str, ...]) -> set[tuple[str, str]]:
    """(table, constraint) of the keys that would stop distribution by organization_id."""
    found = set()
    for row in db.execute(CONSTRAINTS_SQL, {"tables": list(tables)}):
        if row.contype == "f" and row.references not in READY:
            continue  # to a small table (organizations, users): a reference table there
        if "organization_id" not in row.columns:
            found.add((row.table_name, row.conname))
        if row.contype == "f" and "organization_id" not in row.referenced_columns:
            found.add((row.table_name, row.conname))
    return found


def test_the_tables_that_grow_without_bound_are_keyed_by_organization(db: Session) -> None:
    rows = db.execute(CONSTRAINTS_SQL, {"tables": list(READY)}).all()
    assert {row.table_name for row in rows if row.contype == "p"} == set(READY)
    assert without_organization_id(db, READY) == set()


def test_a_delivery_report_points_at_its_text_within_the_organization(db: Session) -> None:
    among_them = {
        (row.table_name, row.references, tuple(row.columns), tuple(row.referenced_columns))
        for row in db.execute(CONSTRAINTS_SQL, {"tables": list(READY)})
        if row.contype == "f" and row.references in READY
    }
    assert among_them == {
        (
            "sms_status_callbacks",
            "messages",
            ("organization_id", "message_id"),
            ("organization_id", "id"),
        )
    }
