"""bench_ingest: ping ingest and the team map, each against a baseline measured in the same run.

Starts its own throwaway PostGIS cluster (Unix socket only) and gunicorn servers on
127.0.0.1 with production settings, loads an organization of technicians, then measures

  (a) COPY of the pings straight into location_pings (the ceiling),
  (b) the API taking the same pings in batches of 500 from several client processes,
  (c) the API taking one position per request: the apps' one ping from technicians not en
      route (c) and en route (c', where each ping also moves the visit's ETA), and the
      tracker apps' one fix, OsmAnd / Traccar Client (f) and OwnTracks (g),
  (d) a bare Flask app parsing the same positions under the same gunicorn settings, its
      rounds alternated with each row's,
  (e) GET /v1/team/locations over the stored history, against its own SQL run directly,

and prints the ratios (b)/(a) >= 0.30, each one-position row against (d) >= 0.50,
(e)/raw <= 2, and the CPU seconds per 1,000 pings of the API processes and of PostgreSQL
(from /proc: each process tree's own and reaped children's user + system time), which move
less with the machine's speed than the rates do.

Tokens are issued with accounts' `open_session` directly (as the tests' login_as does):
an SMS passcode round trip per technician would only slow the set-up down.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import statistics
import struct
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import (
    ROOT,
    CpuMeter,
    Fleet,
    api_command,
    api_env,
    free_port,
    http_request,
    issue_tokens,
    median_ms,
    run_clients,
    seed_fleet,
    send,
    server,
    settle,
    throwaway_cluster,
    walk,
)

BATCH = 500
TARGETS = {"b/a": 0.30, "c/d": 0.50, "e/raw": 2.0}
ROUNDS = 5  # of (c) and (d), alternated


@dataclass(frozen=True)
class Plan:
    technicians: int
    pings_per_technician: int
    single_requests: int
    clients: int
    map_runs: int


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench_ingest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="500 pings per technician instead of 1,000"
    )
    parser.add_argument("--technicians", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    parser.add_argument(
        "--durable",
        action="store_true",
        help="keep fsync and synchronous_commit on in the throwaway cluster (default: off, "
        "as in the tests; both COPY and the API run against the same cluster either way)",
    )
    return parser.parse_args(argv)


def make_plan(args: argparse.Namespace) -> Plan:
    technicians = max(1, min(args.technicians, 5000))
    if args.quick:
        return Plan(technicians, BATCH, 2000, max(1, args.clients), 20)
    # 1,000 technicians x 1,000 pings: the team map runs over 1 M stored pings.
    return Plan(technicians, 1000, 6000, max(1, args.clients), 50)


# ---- data ------------------------------------------------------------------------------


def seed(url: str, plan: Plan, now: datetime) -> Fleet:
    return seed_fleet(url, plan.technicians, now)


def ewkb_point(lon: float, lat: float) -> str:
    """Hex EWKB, the cheapest form of a geography for COPY to parse."""
    return struct.pack("<BIIdd", 1, 0x20000001, 4326, lon, lat).hex()


def copy_lines(organization_id: uuid.UUID, user_id: uuid.UUID, pings: list[dict]) -> str:
    return "".join(
        f"{organization_id}\t{user_id}\t{p['recorded_at']}\t{ewkb_point(p['lon'], p['lat'])}\t"
        f"{p['accuracy_m']}\t{p['speed_mps']}\t{p['heading_deg']}\t\\N\t{p['battery_pct']}\tf\n"
        for p in pings
    )


def fmt_cpu(seconds: tuple[float, float], pings: int) -> str:
    api, pg = (1000 * s / max(1, pings) for s in seconds)
    return f"    CPU s per 1,000 pings: API {api:.3f}, PostgreSQL {pg:.3f}"


def raw_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{lines}"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


# ---- one position per request -----------------------------------------------------------


class PositionStream:
    """Each technician's day going on, a fix a second: every call a newer one."""

    def __init__(self, days: dict[uuid.UUID, list[dict[str, Any]]], end: datetime) -> None:
        self.last = {user_id: pings[-1] for user_id, pings in days.items()}
        self.end = end
        self.steps = dict.fromkeys(days, 0)

    def next(self, user_id: uuid.UUID) -> dict[str, Any]:
        self.steps[user_id] += 1
        step = self.steps[user_id]
        at = self.end + timedelta(seconds=step)
        return dict(
            self.last[user_id],
            recorded_at=at.isoformat().replace("+00:00", "Z"),
            lat=round(self.last[user_id]["lat"] + step * 5e-5, 6),
        )


@dataclass
class OnePositionRow:
    key: str
    label: str
    requests: list[bytes]  # to the API, ROUNDS x plan.single_requests
    bare: list[bytes]  # the same positions to the bare app


def one_position_rows(
    url: str,
    fleet: Fleet,
    tokens: dict[uuid.UUID, str],
    stream: PositionStream,
    plan: Plan,
    secret_key: str,
) -> list[OnePositionRow]:
    count = ROUNDS * plan.single_requests
    en_route = set(fleet.technician_ids[::3][1::2])  # as `seed` put them on the way
    idle = [u for u in fleet.technician_ids if u not in en_route]
    driving = [u for u in fleet.technician_ids if u in en_route]

    def apps(users: list[uuid.UUID]) -> tuple[list[bytes], list[bytes]]:
        api, bare = [], []
        for n in range(count):
            user_id = users[n % len(users)]
            body = json.dumps({"pings": [stream.next(user_id)]}).encode()
            api.append(http_request("POST", "/v1/locations", tokens[user_id], body))
            bare.append(http_request("POST", "/v1/locations", "-", body))
        return api, bare

    rows = [
        OnePositionRow("c", "(c) apps' one ping, not en route", *apps(idle)),
        OnePositionRow("c_en_route", "(c') apps' one ping, en route", *apps(driving)),
    ]
    devices = device_tokens(url, secret_key, fleet)
    if devices is None:
        print("    (no tracker endpoints in this version: rows (f) and (g) skipped)")
        return rows
    osmand, owntracks, bare_osmand, bare_owntracks = [], [], [], []
    for n in range(count):
        user_id = idle[n % len(idle)]
        fix = stream.next(user_id)
        at = int(datetime.fromisoformat(fix["recorded_at"].replace("Z", "+00:00")).timestamp())
        query = (
            f"lat={fix['lat']}&lon={fix['lon']}&timestamp={at}&accuracy={fix['accuracy_m']}"
            f"&speed={fix['speed_mps']}&bearing={fix['heading_deg']}&batt={fix['battery_pct']}"
        )
        token = devices[user_id]
        osmand.append(raw_request("POST", f"/ingest/osmand?id={token}&{query}", {}))
        bare_osmand.append(raw_request("POST", f"/ingest/osmand?id=bare&{query}", {}))
        fix = stream.next(user_id)  # a newer fix for OwnTracks' row
        at = int(datetime.fromisoformat(fix["recorded_at"].replace("Z", "+00:00")).timestamp())
        message = json.dumps(
            {
                "_type": "location",
                "tst": at,
                "lat": fix["lat"],
                "lon": fix["lon"],
                "acc": fix["accuracy_m"],
                "batt": fix["battery_pct"],
            }
        ).encode()
        basic = base64.b64encode(f"phone:{token}".encode()).decode()
        headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/json"}
        owntracks.append(raw_request("POST", "/ingest/owntracks", headers, message))
        bare_owntracks.append(
            raw_request(
                "POST", "/ingest/owntracks", {**headers, "Authorization": "Basic -"}, message
            )
        )
    return [
        *rows,
        OnePositionRow("f", "(f) OsmAnd / Traccar Client, one fix", osmand, bare_osmand),
        OnePositionRow("g", "(g) OwnTracks, one location", owntracks, bare_owntracks),
    ]


def device_tokens(url: str, secret_key: str, fleet: Fleet) -> dict[uuid.UUID, str] | None:
    """A tracker device for every technician, as each would add one in the app."""
    try:
        from fieldapi.locations.devices import add_device
    except ImportError:
        return None
    from sqlalchemy.orm import Session

    from fieldapi.accounts.models import User
    from fieldapi.accounts.principal import Principal
    from fieldapi.db import make_engine, utcnow

    engine = make_engine(url)
    found = {}
    with Session(engine) as db:
        for user_id in fleet.technician_ids:
            user = db.get_one(User, user_id)
            principal = Principal(
                user_id=user.id,
                organization_id=user.organization_id,
                session_id=uuid.uuid4(),
                name=user.name,
                role=user.role,
            )
            _device, token = add_device(
                db, principal, "Bench phone", secret_key=secret_key, now=utcnow()
            )
            found[user_id] = token
    engine.dispose()
    return found


def stored_pings(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        return int(conn.execute("SELECT count(*) FROM location_pings").fetchone()[0])


def measure_one_position(
    row: OnePositionRow, dsn: str, api_port: int, bare_port: int, plan: Plan, cpu: CpuMeter
) -> tuple[float, float]:
    """Alternated rounds of the row against the bare app; prints the row; the medians
    (API, bare) in requests per second."""
    size = plan.single_requests
    rates, bare_rates, spent = [], [], []
    before = stored_pings(dsn)
    failed_total = 0
    for round_ in range(ROUNDS):
        cpu.start()
        seconds, _stored, failed = run_clients(
            api_port, row.requests[round_ * size : (round_ + 1) * size], plan.clients, count=False
        )
        spent.append(cpu.stop())
        rates.append(size / seconds)
        failed_total += failed
        seconds, _stored, _failed = run_clients(
            bare_port, row.bare[round_ * size : (round_ + 1) * size], plan.clients, count=False
        )
        bare_rates.append(size / seconds)
    stored = stored_pings(dsn) - before
    rate, bare_rate = statistics.median(rates), statistics.median(bare_rates)
    ratio = rate / bare_rate
    print(
        f"{row.label:<40} {fmt_rate(rate, 'req/s')}   bare {fmt_rate(bare_rate, 'req/s')}   "
        f"{verdict('c/d', ratio)}",
        flush=True,
    )
    print(fmt_cpu((sum(c[0] for c in spent), sum(c[1] for c in spent)), size * ROUNDS))
    each = ", ".join(f"{c:,.0f}/{d:,.0f}" for c, d in zip(rates, bare_rates, strict=True))
    print(f"    rounds (API/bare): {each}", flush=True)
    if stored != size * ROUNDS or failed_total:
        print(f"    !! stored {stored:,} of {size * ROUNDS:,}, {failed_total} failed requests")
    return rate, bare_rate


# ---- the run ---------------------------------------------------------------------------


def fmt_rate(value: float, unit: str) -> str:
    return f"{value:>10,.0f} {unit}"


def verdict(name: str, value: float) -> str:
    target = TARGETS[name]
    ok = value <= target if name == "e/raw" else value >= target
    sign = "<=" if name == "e/raw" else ">="
    return f"({name}) = {value:.2f}   target {sign} {target:.2f}   {'OK' if ok else 'MISSED'}"


def bench(plan: Plan, durable: bool) -> int:
    import psycopg
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.sql import text

    from fieldapi.db import utcnow
    from fieldapi.locations.service import TEAM_MAP_SQL, team_map_params

    t_start = time.monotonic()
    with throwaway_cluster("fieldapi-bench-", 50000, durable=durable) as (database,):
        url, dsn, workdir = database.url, database.dsn, database.workdir
        now = utcnow()
        fleet = seed(url, plan, now)
        workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1))
        total = plan.technicians * plan.pings_per_technician
        print(
            f"bench_ingest: {plan.technicians} technicians x {plan.pings_per_technician} pings "
            f"= {total:,} pings; {plan.clients} client processes; gunicorn: {workers} workers "
            f"(as `fieldapi serve`); {os.cpu_count()} cores; PostgreSQL "
            f"{'durable' if durable else 'fsync=off (as the tests)'}",
            flush=True,
        )

        # Pings: every technician's day, in batches of 500, round-robin over the team.
        rng = random.Random(7)
        end = now - timedelta(minutes=10)
        days = {
            user_id: walk(rng, plan.pings_per_technician, end) for user_id in fleet.technician_ids
        }
        batches = [
            (user_id, pings[start : start + BATCH])
            for start in range(0, plan.pings_per_technician, BATCH)
            for user_id, pings in days.items()
        ]
        copy_data = "".join(
            copy_lines(fleet.organization_id, user_id, chunk) for user_id, chunk in batches
        ).encode()
        bodies = [json.dumps({"pings": chunk}).encode() for _user, chunk in batches]
        print(f"  generated in {time.monotonic() - t_start:.0f} s", flush=True)

        cpu = CpuMeter(database.postmaster)
        # (a) COPY: the same pings, same order, same table, one transaction.
        with psycopg.connect(dsn) as conn:
            cpu.start()
            started = time.monotonic()
            with (
                conn.cursor() as cur,
                cur.copy(
                    "COPY location_pings (organization_id, user_id, recorded_at, position, "
                    "accuracy_m, speed_mps, heading_deg, altitude_m, battery_pct, impossible_jump) "
                    "FROM STDIN"
                ) as copy,
            ):
                for offset in range(0, len(copy_data), 1 << 20):
                    copy.write(copy_data[offset : offset + (1 << 20)])
            conn.commit()
            copy_rate = total / (time.monotonic() - started)
            copy_cpu = cpu.stop()
            conn.execute("TRUNCATE location_pings, latest_locations")
            conn.commit()
        del copy_data
        print(
            f"(a) COPY into location_pings            {fmt_rate(copy_rate, 'pings/s')}", flush=True
        )
        print(fmt_cpu(copy_cpu, total), flush=True)

        secret_key = secrets.token_urlsafe(32)
        env = api_env(url, workdir, secret_key)
        api_port, bare_port = free_port(), free_port()
        with server(api_command(api_port), api_port, env, workdir / "api.log") as api_server:
            cpu.api = api_server.pid
            tokens = issue_tokens(url, secret_key, [fleet.dispatcher_id, *fleet.technician_ids])

            # (b) the API, batches of 500 from several clients.
            requests = [
                http_request("POST", "/v1/locations", tokens[user_id], body)
                for (user_id, _chunk), body in zip(batches, bodies, strict=True)
            ]
            del bodies
            cpu.start()
            seconds, stored, failed = run_clients(api_port, requests, plan.clients)
            batch_cpu = cpu.stop()
            del requests
            batch_rate = total / seconds
            print(
                f"(b) API, batches of {BATCH}, {plan.clients} clients  "
                f"{fmt_rate(batch_rate, 'pings/s')}   {verdict('b/a', batch_rate / copy_rate)}",
                flush=True,
            )
            print(fmt_cpu(batch_cpu, total), flush=True)
            if stored != total or failed:
                print(f"    !! stored {stored:,} of {total:,}, {failed} failed requests")

            # The state autovacuum reaches after a bulk load, reached now: otherwise it
            # runs during (c), which then competes with it for the cores and (d) does not.
            settle(dsn)

            # (c) the API, one position per request, and (d) a bare Flask app parsing the
            # same bodies under the same gunicorn settings: both servers up, rounds
            # alternated so that drift on the machine hits both alike; each ratio is the
            # medians'. The apps' one ping for technicians not en route (most of a fleet,
            # most of the time), the same for those en route (each accepted ping then moves
            # the visit's ETA: the cost of that feature), and the tracker apps' one
            # position per request (Traccar Client / OsmAnd, OwnTracks).
            stream = PositionStream(days, end)
            rows = one_position_rows(url, fleet, tokens, stream, plan, secret_key)
            bare = [sys.executable, str(ROOT / "scripts" / "bench_ingest_bare.py")]
            one_position: dict[str, tuple[float, float]] = {}
            with server([*bare, "--port", str(bare_port)], bare_port, env, workdir / "bare.log"):
                for row in rows:
                    one_position[row.key] = measure_one_position(
                        row, dsn, api_port, bare_port, plan, cpu
                    )
            ratios = {key: rate / bare for key, (rate, bare) in one_position.items()}
            # For scale: the app's cheapest authenticated request, same clients.
            me_requests = [
                http_request("GET", "/v1/me", tokens[fleet.technician_ids[n % plan.technicians]])
                for n in range(plan.single_requests)
            ]
            seconds, _stored, failed = run_clients(api_port, me_requests, plan.clients, count=False)
            me_rate = len(me_requests) / seconds
            print(f"    for scale: GET /v1/me (auth only)   {fmt_rate(me_rate, 'req/s')}")

            # (e) the team map over everything stored, against its SQL run directly.
            settle(dsn)
            with psycopg.connect(dsn, autocommit=True) as conn:
                history = conn.execute("SELECT count(*) FROM location_pings").fetchone()[0]
                raw_map = http_request("GET", "/v1/team/locations", tokens[fleet.dispatcher_id])
                status, body = send(api_port, raw_map)
                features = len(json.loads(body)["features"]) if status == 200 else -1
                sql = str(text(TEAM_MAP_SQL).compile(dialect=postgresql.psycopg.dialect()))
                endpoint, raw = [], []
                for _ in range(plan.map_runs):  # alternated, so that both see the same load
                    started = time.perf_counter()
                    send(api_port, raw_map)
                    endpoint.append(time.perf_counter() - started)
                    params = team_map_params(
                        fleet.organization_id, now=utcnow(), stale_after_s=600, bbox=None
                    )
                    started = time.perf_counter()
                    conn.execute(sql, params).fetchone()
                    raw.append(time.perf_counter() - started)
                naive = []
                for _ in range(3):
                    started = time.perf_counter()
                    conn.execute(
                        "SELECT DISTINCT ON (user_id) user_id, recorded_at, position "
                        "FROM location_pings WHERE organization_id = %s "
                        "ORDER BY user_id, recorded_at DESC",
                        (fleet.organization_id,),
                    ).fetchall()
                    naive.append(time.perf_counter() - started)
            map_ms, raw_ms = median_ms(endpoint), median_ms(raw)

        print(
            f"(e) GET /v1/team/locations             {map_ms:>10.1f} ms    "
            f"({features} members, {history:,} pings stored; median of {plan.map_runs})"
        )
        print(
            f"    its SQL, run directly              {raw_ms:>10.1f} ms    "
            f"{verdict('e/raw', map_ms / raw_ms)}"
        )
        print(f"    for scale: DISTINCT ON over history {median_ms(naive):>10.1f} ms")
        print(f"  whole run {time.monotonic() - t_start:.0f} s")
        ok = (
            batch_rate / copy_rate >= TARGETS["b/a"]
            and all(ratio >= TARGETS["c/d"] for ratio in ratios.values())
            and map_ms / raw_ms <= TARGETS["e/raw"]
        )
        return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return bench(make_plan(args), args.durable)


if __name__ == "__main__":
    sys.exit(main())
