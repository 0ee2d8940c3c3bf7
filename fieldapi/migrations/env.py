import logging
import time
from typing import Any

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import Connection, pool

from fieldapi.db import make_engine
from fieldapi.migrations.env_support import include_object
from fieldapi.models import Base

config = context.config
log = logging.getLogger("fieldapi.migrations")
MIGRATION_LOCK = 727274
REPORT_WAIT_EVERY_S = 10.0


def take_turns(connection: Connection) -> None:
    """Two processes migrating at once (serve + worker) take turns, under a session-level
    lock that holds across a migration's autocommit block. It is tried, not waited for:
    a backend waiting on it would be a transaction that CREATE INDEX CONCURRENTLY in the
    other process waits for in turn (a deadlock). It needs a session of its own: behind
    PgBouncer in transaction mode, migrate over a direct connection.

    Migrations run without the role's statement and lock timeouts: a concurrent index
    build waits for older transactions, and cancelling it would only start it over."""
    driver: Any = connection.connection.driver_connection
    driver.autocommit = True
    try:
        driver.execute("SET statement_timeout = 0")
        driver.execute("SET lock_timeout = 0")
        waiting_since = reported = time.monotonic()
        while not driver.execute("SELECT pg_try_advisory_lock(%s)", (MIGRATION_LOCK,)).fetchone()[
            0
        ]:
            if time.monotonic() - reported >= REPORT_WAIT_EVERY_S:
                reported = time.monotonic()
                log.warning(
                    "waiting %.0f s for the migration lock held by another migrator",
                    reported - waiting_since,
                )
            time.sleep(0.2)
    finally:
        driver.autocommit = False


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        take_turns(connection)
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_object=include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    # The lock ends with its session: NullPool closes the connection, however we got here
    # (an explicit unlock could fail on a broken connection and hide the real error).
    engine.dispose()


run_migrations_online()
