"""Rate-limit counters in the app's own PostgreSQL: a `limits` storage (`database://`).

Every API process and machine already shares the database, so the configured limits hold
with any number of gunicorn workers without another server to run. Fixed windows: one row
per counter, incremented and, once its window is over, restarted in one atomic statement.
Times come from Python's clock, as in `limits`' other storages.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from limits.storage import Storage
from sqlalchemy import Double, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldapi.db import Base, Database

SCHEME = "database"

_INCREMENT = """
INSERT INTO rate_limit_counters AS c (key, hits, expires_at)
VALUES (%(key)s, %(amount)s, %(now)s + %(expiry)s)
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN c.expires_at <= %(now)s THEN EXCLUDED.hits ELSE c.hits + EXCLUDED.hits END,
    expires_at = CASE WHEN c.expires_at <= %(now)s THEN EXCLUDED.expires_at ELSE c.expires_at END
RETURNING hits
"""


class RateLimitCounter(Base):
    """One fixed-window counter: the `limits` key (limit, endpoint, client address)."""

    __tablename__ = "rate_limit_counters"
    __table_args__ = (Index("ix_rate_limit_counters_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    hits: Mapped[int]
    expires_at: Mapped[float] = mapped_column(Double)  # epoch seconds


class DatabaseStorage(Storage):
    """`database://`: counters in the `rate_limit_counters` table of the app's database."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        *,
        database: Database,
        **options: Any,
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.database = database

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return psycopg.Error

    def _one(self, sql: str, params: dict[str, Any]) -> Any:
        with self.database.autocommit() as connection:
            row = connection.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        params = {"key": key, "amount": amount, "now": time.time(), "expiry": expiry}
        return int(self._one(_INCREMENT, params))

    def get(self, key: str) -> int:
        sql = "SELECT hits FROM rate_limit_counters WHERE key = %(key)s AND expires_at > %(now)s"
        return int(self._one(sql, {"key": key, "now": time.time()}) or 0)

    def get_expiry(self, key: str) -> float:
        sql = "SELECT expires_at FROM rate_limit_counters WHERE key = %(key)s"
        expires_at = self._one(sql, {"key": key})
        return time.time() if expires_at is None else float(expires_at)

    def check(self) -> bool:
        try:
            return bool(self._one("SELECT true", {}))
        except psycopg.Error:
            return False

    def reset(self) -> int | None:
        with self.database.autocommit() as connection:
            return int(connection.execute("DELETE FROM rate_limit_counters").rowcount)

    def clear(self, key: str) -> None:
        with self.database.autocommit() as connection:
            connection.execute("DELETE FROM rate_limit_counters WHERE key = %(key)s", {"key": key})
