"""Tenancy is structural: every tenant table carries organization_id."""

from sqlalchemy import text
from sqlalchemy.orm import Session

# passcodes are asked for before anyone is known, so those tables are keyed by phone; a
# status callback for a SID no text has yet (sms_pending_callbacks) has no organization yet.
GLOBAL_TABLES = {
    "organizations",
    "alembic_version",
    "spatial_ref_sys",
    "passcodes",
    "passcode_requests",
    "passcode_sources",
    "rate_limit_counters",
    "sms_pending_callbacks",
}


def test_every_tenant_table_has_organization_id(db: Session) -> None:
    rows = db.execute(
        text(
            "SELECT c.relname, bool_or(a.attname = 'organization_id') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public' "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
            "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition GROUP BY c.relname"
        )
    ).all()
    tables = dict(rows)
    assert {"users", "customers", "jobs", "appointments", "activity_events"} <= set(tables)
    missing = sorted(t for t, has in tables.items() if not has and t not in GLOBAL_TABLES)
    assert missing == []


def test_customer_sites_are_geography_points_with_a_gist_index(db: Session) -> None:
    column_type = db.execute(
        text(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'customers'::regclass AND attname = 'site'"
        )
    ).scalar_one()
    assert column_type == "geography(Point,4326)"
    index = db.execute(
        text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'customers' AND indexdef ILIKE "
            "'%gist%'"
        )
    ).scalar_one()
    assert "site" in index


def test_migrations_have_one_head() -> None:
    from fieldapi.migrations import head_revisions

    heads = head_revisions()
    assert len(heads) == 1, heads


def test_the_models_match_the_migrations(engine: object) -> None:
    """Autogenerate finds nothing to do: the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import Engine

    from fieldapi.migrations.env_support import include_object
    from fieldapi.models import Base

    assert isinstance(engine, Engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []
