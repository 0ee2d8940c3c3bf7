"""Alembic migrations, run programmatically (`fieldapi db upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Apply every migration; applying them again changes nothing."""
    command.upgrade(alembic_config(url), "heads")


def head_revisions() -> set[str]:
    """The revisions this code's migrations end at."""
    return set(ScriptDirectory.from_config(alembic_config("")).get_heads())


def current_revisions(connection: Connection) -> set[str]:
    """The revisions the database was migrated to."""
    return set(MigrationContext.configure(connection).get_current_heads())
