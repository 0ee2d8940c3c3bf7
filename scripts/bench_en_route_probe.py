"""bench_en_route_probe: what "is this technician en route?" costs a ping of one who is not.

The one-ping statement (`locations/single_ping.py`) learns whether the caller has an
`enroute` appointment in the statement it runs anyway, so that the drive's follow-up (ETA,
running late, arrival) runs only for those who do. This measures that probe's price for
everyone else: the PostgreSQL backend's CPU per execution of the statement as it is,
against the same statement with the probe replaced by `false`, on one connection, rounds
alternated, for technicians of a fleet where a sixth are en route and none of the callers
is. Its own throwaway PostGIS; the ratio is of the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import issue_tokens, seed_fleet, throwaway_cluster

ROUNDS = 6


def backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fmt(samples: list[float]) -> str:
    return ", ".join(f"{ms:.3f}" for ms in samples)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench_en_route_probe", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--technicians", type=int, default=1000)
    parser.add_argument("--statements", type=int, default=3000, help="per round and side")
    args = parser.parse_args(argv)

    import psycopg

    from fieldapi.accounts.sessions import caller_params
    from fieldapi.db import utcnow
    from fieldapi.locations.service import EN_ROUTE_SQL
    from fieldapi.locations.single_ping import _APPEND_PING as WITH_PROBE

    probe = EN_ROUTE_SQL.format(user="v.user_id", org="v.organization_id")
    without_probe = WITH_PROBE.replace(probe, "false")
    if without_probe == WITH_PROBE:
        raise SystemExit("the one-ping statement no longer holds the en-route probe")
    started = time.monotonic()
    with throwaway_cluster("fieldapi-bench-probe-", 43000) as (database,):
        now = utcnow()
        fleet = seed_fleet(database.url, args.technicians, now)
        secret_key = "bench-" + "x" * 40
        tokens = issue_tokens(database.url, secret_key, fleet.technician_ids)
        en_route = set(fleet.technician_ids[::3][1::2])  # as seed_fleet puts them
        callers = [
            caller_params(tokens[u], secret_key, now)
            for u in fleet.technician_ids
            if u not in en_route
        ]
        with psycopg.connect(database.dsn, autocommit=True) as conn:
            conn.execute("ANALYZE")
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
            step = 0

            def round_of(statement: str) -> float:
                nonlocal step
                before = backend_cpu_seconds(backend)
                for n in range(args.statements):
                    step += 1
                    at = now - timedelta(hours=3) + timedelta(seconds=step)
                    params = {
                        **callers[n % len(callers)],
                        "recorded_at": at,
                        "lat": 41.88,
                        "lon": -87.63,
                        "accuracy_m": 8.0,
                        "speed_mps": None,
                        "heading_deg": None,
                        "altitude_m": None,
                        "battery_pct": None,
                        "accurate": True,
                        "now": now,
                        "max_speed": 70.0,
                    }
                    conn.execute(statement, params).fetchall()
                return (backend_cpu_seconds(backend) - before) / args.statements * 1000

            round_of(WITH_PROBE)  # warm: plans prepared, caches filled
            round_of(without_probe)
            with_ms, without_ms = [], []
            for _ in range(ROUNDS):
                with_ms.append(round_of(WITH_PROBE))
                without_ms.append(round_of(without_probe))
    a, b = statistics.median(with_ms), statistics.median(without_ms)
    if b == 0:
        raise SystemExit("too few statements to measure: the CPU clock ticks every 10 ms")
    print(
        f"bench_en_route_probe: {args.technicians} technicians (a sixth en route), "
        f"{args.statements:,} one-ping statements per round and side, {ROUNDS} rounds "
        "alternated, callers not en route"
    )
    print(f"  with the probe     {a:.3f} ms backend CPU per statement   rounds {fmt(with_ms)}")
    print(f"  without it         {b:.3f} ms                           rounds {fmt(without_ms)}")
    print(
        f"  (with/without) = {a / b:.2f}   spread of the rounds without it: "
        f"{min(without_ms):.3f} to {max(without_ms):.3f} ms   ({time.monotonic() - started:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
