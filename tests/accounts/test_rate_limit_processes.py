"""Rate limits hold across processes by default: the counters live in the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi.rate_limit_storage import DatabaseStorage, RateLimitCounter
from tests.conftest import TEST_SECRET_KEY, unique_phone

# One API process: its own app (and limiter), three login attempts from one address once
# the test says go.
WORKER = """
import json, sys
from fieldapi.app import create_app
client = create_app().test_client()
client.environ_base["REMOTE_ADDR"] = sys.argv[2]
body = {"phone": sys.argv[1], "passcode": "123456"}
sys.stdin.readline()
print(json.dumps([client.post("/v1/auth/session", json=body).status_code for _ in range(3)]))
"""


def start_worker(
    database_url: str, phone: str, address: str = "198.51.100.77", **settings: str
) -> subprocess.Popen[str]:
    env = dict(
        os.environ,
        FIELDAPI_ENV="test",
        SECRET_KEY=TEST_SECRET_KEY,
        SMS_TRANSPORT="console",
        DATABASE_URL=database_url,
        RATELIMIT_ENABLED="true",
        LOGIN_RATE_LIMIT="4 per minute",
        **settings,
    )
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, phone, address],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def answers_of(workers: list[subprocess.Popen[str]]) -> list[int]:
    answers: list[int] = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        answers += json.loads(out.strip().splitlines()[-1])
    return answers


def test_three_processes_share_one_count_where_memory_counts_per_process(
    database_url: str, committed: Session
) -> None:
    """Three processes behind one address with the default storage, and, at the same time
    from another address, three with `memory://`: the contrast that shows the count is
    the database's, not the luck of which process answered."""
    shared = [start_worker(database_url, unique_phone()) for _ in range(3)]
    apart = [
        start_worker(
            database_url, unique_phone(), "203.0.113.77", RATELIMIT_STORAGE_URI="memory://"
        )
        for _ in range(3)
    ]
    for worker in shared + apart:  # all built: go
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()

    in_database, in_memory = answers_of(shared), answers_of(apart)

    assert in_database.count(401) == 4  # the limit, over all processes together
    assert in_database.count(429) == 5
    assert in_memory.count(401) == 9  # each process allowed the whole limit
    assert committed.scalar(select(func.count()).select_from(RateLimitCounter)) >= 1


def test_the_database_is_the_default_storage(make_app: Any) -> None:
    limited = make_app(RATELIMIT_ENABLED=True)
    assert isinstance(limited.extensions["fieldapi.limiter"].storage, DatabaseStorage)
