"""bench_on_my_way: where an on-my-way's cost goes, in-process, against GET /v1/me.

The app runs inside this process (Flask's test client: no HTTP, no gunicorn) on its own
throwaway PostGIS, production settings. Each of `--requests` technicians has a scheduled
appointment; on-my-way (with the phone's position) and `GET /v1/me` by the same technician
alternate, request for request. It prints, for each side, the median wall time, the
process's CPU time per request (Python: ours, Flask, SQLAlchemy, psycopg), the time inside
`psycopg.Cursor.execute` and the statements per request, then the ratios; the first
on-my-way apart (cold, and it fits the organization's trips: `--history` gives it many).
`--profile N` adds the function calls per on-my-way of N more under cProfile.
`scripts/bench_scale` measures the same pair through gunicorn, where the 3x target is held.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import seed_on_my_way
from benchkit import CHICAGO, issue_tokens, throwaway_cluster

WARM_UP = 20


class DriverClock:
    """Time and statements inside `psycopg.Cursor.execute` (and `executemany`)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.statements = 0

    def install(self) -> None:
        import psycopg

        for name in ("execute", "executemany"):
            original = getattr(psycopg.Cursor, name)
            setattr(psycopg.Cursor, name, self._timed(original))

    def _timed(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def timed(cursor: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return method(cursor, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.statements += 1

        return timed


class Side:
    def __init__(self, name: str) -> None:
        self.name = name
        self.wall: list[float] = []
        self.cpu = self.driver = 0.0
        self.statements = 0

    def run(self, send: Callable[[], None], clock: DriverClock) -> None:
        driver, statements = clock.seconds, clock.statements
        cpu, started = time.process_time(), time.perf_counter()
        send()
        self.wall.append(time.perf_counter() - started)
        self.cpu += time.process_time() - cpu
        self.driver += clock.seconds - driver
        self.statements += clock.statements - statements

    def line(self) -> str:
        n = len(self.wall)
        return (
            f"  {self.name:<22} wall {statistics.median(self.wall) * 1000:6.2f} ms   "
            f"CPU {self.cpu / n * 1000:6.2f} ms   in the driver {self.driver / n * 1000:5.2f} ms"
            f"   {self.statements / n:.0f} statements"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench_on_my_way", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--requests", type=int, default=300, help="pairs measured")
    parser.add_argument("--profile", type=int, default=20, help="on-my-ways under cProfile")
    parser.add_argument(
        "--history", type=int, default=0, help="past trips in the organization's activity log"
    )
    args = parser.parse_args(argv)
    count = args.requests + WARM_UP + args.profile
    with throwaway_cluster("fieldapi-bench-omw-", 44000) as (database,):
        from sqlalchemy.orm import Session

        from fieldapi.db import make_engine, utcnow

        engine = make_engine(database.url)
        with Session(engine) as session:
            pairs = seed_on_my_way(session, count, utcnow(), history=args.history)
        engine.dispose()
        secret_key = secrets.token_urlsafe(32)
        tokens = issue_tokens(database.url, secret_key, [tech for tech, _a in pairs])
        os.environ.update(
            FIELDAPI_ENV="production",
            SECRET_KEY=secret_key,
            DATABASE_URL=database.url,
            PUBLIC_BASE_URL="http://127.0.0.1",
            SMS_TRANSPORT="twilio",
            TWILIO_AUTH_TOKEN="bench",
            FIELDAPI_VAR_DIR=str(database.workdir / "var"),
        )
        from fieldapi.app import create_app

        client = create_app().test_client()
        position = {"lat": CHICAGO[0] - 0.02, "lon": CHICAGO[1]}

        def on_my_way(index: int) -> Callable[[], None]:
            technician, appointment = pairs[index]

            def send() -> None:
                answer = client.post(
                    f"/v1/appointments/{appointment}/actions/on-my-way",
                    json=position,
                    headers={"Authorization": f"Bearer {tokens[technician]}"},
                )
                if answer.status_code != 200:
                    raise SystemExit(f"on-my-way: HTTP {answer.status_code} {answer.text[:300]}")

            return send

        def me(index: int) -> Callable[[], None]:
            technician, _appointment = pairs[index]

            def send() -> None:
                answer = client.get(
                    "/v1/me", headers={"Authorization": f"Bearer {tokens[technician]}"}
                )
                if answer.status_code != 200:
                    raise SystemExit(f"GET /v1/me: HTTP {answer.status_code}")

            return send

        started = time.perf_counter()
        on_my_way(0)()  # the organization's first: it fits the trips and stores the fit
        refit_ms = (time.perf_counter() - started) * 1000
        me(0)()
        for index in range(1, WARM_UP):
            on_my_way(index)()
            me(index)()
        clock = DriverClock()
        clock.install()
        omw, baseline = Side("on-my-way"), Side("GET /v1/me")
        for index in range(WARM_UP, WARM_UP + args.requests):
            omw.run(on_my_way(index), clock)
            baseline.run(me(index), clock)
        print(
            f"bench_on_my_way: {args.requests} pairs alternated, in-process, "
            f"{args.history:,} past trips, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print(f"  the first on-my-way (cold, fitting the trips): {refit_ms:.1f} ms")
        print(omw.line())
        print(baseline.line())
        wall = statistics.median(omw.wall) / statistics.median(baseline.wall)
        print(
            f"  ratio (on-my-way / GET /v1/me): wall {wall:.2f}, CPU {omw.cpu / baseline.cpu:.2f}"
        )
        if args.profile:
            profile = cProfile.Profile()
            start = WARM_UP + args.requests
            profile.enable()
            for index in range(start, start + args.profile):
                on_my_way(index)()
            profile.disable()
            calls = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
            print(f"  function calls per on-my-way (cProfile): {calls / args.profile:,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
