"""Pooled connections are pinged only after sitting idle (no round trip per busy request)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

import fieldapi.db
from fieldapi.db import make_engine


def backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(url: str, pid: int) -> None:
    """What a database restart or a proxy's idle timeout does to a pooled connection."""
    killer = make_engine(url)
    try:
        with killer.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(100):
            with killer.connect() as conn:  # pg_stat_activity is a snapshot per transaction
                gone = conn.execute(
                    text("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = :pid)"),
                    {"pid": pid},
                ).scalar_one()
            if gone:
                return
            time.sleep(0.02)
        raise AssertionError("the backend did not go away")
    finally:
        killer.dispose()


@pytest.fixture
def engine_idle_after(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    engines: list[Engine] = []

    def make(idle_seconds: float) -> tuple[Engine, list[int]]:
        monkeypatch.setattr(fieldapi.db, "IDLE_PING_AFTER", idle_seconds)
        engine = make_engine(database_url, pool_size=1, max_overflow=0)
        pings: list[int] = []
        original = engine.dialect.do_ping

        def counted(dbapi_connection: Any) -> bool:
            pings.append(1)
            return original(dbapi_connection)

        monkeypatch.setattr(engine.dialect, "do_ping", counted)
        engines.append(engine)
        return engine, pings

    yield make
    for engine in engines:
        engine.dispose()


def test_a_connection_dropped_while_idle_is_replaced_before_use(
    engine_idle_after: Any, database_url: str
) -> None:
    engine, pings = engine_idle_after(0.0)
    first = backend_pid(engine)
    terminate(database_url, first)

    second = backend_pid(engine)  # no error: the ping found it dead, the pool reconnected

    assert second != first and pings == [1]


def test_a_busy_connection_is_not_pinged(engine_idle_after: Any, database_url: str) -> None:
    engine, pings = engine_idle_after(3600.0)
    pids = {backend_pid(engine) for _ in range(5)}
    assert len(pids) == 1 and pings == []

    # The trade-off: a connection that dies while in busy use fails its one request...
    terminate(database_url, pids.pop())
    with pytest.raises(OperationalError) as failed:
        backend_pid(engine)
    assert failed.value.connection_invalidated
    # ...and the pool has already replaced it for the next one.
    assert backend_pid(engine) > 0
