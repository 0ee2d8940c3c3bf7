"""bench_scale: how the cost of the main requests grows with the fleet and the history,
each row against its own baseline measured in the same run, in alternated rounds.

Starts its own throwaway PostGIS cluster (Unix socket only, two databases) and two API
servers (gunicorn, production settings, one per database), then measures

  team map    GET /v1/team/locations as the dispatcher of organizations of 100, 1,000 and
              10,000 on-duty members, a third of them on an appointment; baseline: GET
              /v1/me by the same dispatcher, request for request alternated;
  nearest     GET /v1/dispatch/nearest (10 nearest to a random place) in the same
              organizations; the same baseline;
  on my way   POST .../actions/on-my-way with the phone's position (lock, lifecycle, ETA,
              outbox, tracking link), each on its own scheduled appointment, in an
              organization with no history and in one with 20,000 past trips; baseline:
              GET /v1/me by the same technician, alternated; target at most 3x;
  ingest      POST /v1/locations, batches of 500 and one ping per request from several
              client processes, into a database whose location_pings holds 1 M, then
              10 M pings (filled by one INSERT ... SELECT generate_series, timed); baseline:
              the same requests into the other database, whose table starts empty, round
              for round alternated.

The cost of a row is its figure against its baseline (milliseconds over the baseline's,
or the baseline's rate over the row's); its growth is that cost over the cost of the
smallest size of its group (for ingest: against the near-empty table), so 1.00 is flat.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import shlex
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import (
    CHICAGO,
    Database,
    api_command,
    api_env,
    free_port,
    http_request,
    issue_tokens,
    run_clients,
    seed_fleet,
    seed_positioned_team,
    send,
    server,
    settle,
    throwaway_cluster,
    timed_send,
    walk,
)

BATCH = 500
ON_MY_WAY_TARGET = 3.0
MILLION = 1_000_000


@dataclass(frozen=True)
class Plan:
    team_sizes: tuple[int, ...]
    stored: tuple[int, ...]  # pings in location_pings at each ingest stage
    rounds: int  # alternated rounds per ingest stage and for on-my-way
    ingest_technicians: int
    batches_per_round: int
    singles_per_round: int
    clients: int
    map_runs: int
    nearest_runs: int
    on_my_way_per_round: int
    history_trips: int = 20_000  # past trips of the second on-my-way organization


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench_scale", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="100 k and 1 M pings stored instead of 1 M and 10 M, fewer rounds (a few minutes)",
    )
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    parser.add_argument(
        "--teams", type=sizes, help="team sizes instead of 100,1000,10000 (e.g. for a smoke run)"
    )
    parser.add_argument(
        "--stored", type=sizes, help="stored pings of the ingest stages instead of the plan's"
    )
    return parser.parse_args(argv)


def sizes(value: str) -> tuple[int, ...]:
    try:
        numbers = tuple(int(part) for part in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not comma-separated numbers: {value!r}") from None
    if not numbers or min(numbers) < 1 or list(numbers) != sorted(numbers):
        raise argparse.ArgumentTypeError(f"sizes must be ascending and positive: {value!r}")
    return numbers


def make_plan(args: argparse.Namespace) -> Plan:
    clients = max(1, min(args.clients, 16))
    if args.quick:
        plan = Plan((100, 1000, 10_000), (100_000, MILLION), 3, 200, 60, 1500, clients, 15, 40, 40)
    else:
        plan = Plan(
            (100, 1000, 10_000), (MILLION, 10 * MILLION), 5, 200, 200, 3000, clients, 40, 100, 60
        )
    if args.teams:
        plan = replace(plan, team_sizes=args.teams)
    if args.stored:
        plan = replace(plan, stored=args.stored)
    if args.teams or args.stored:  # a smoke run: few requests
        plan = replace(
            plan,
            rounds=2,
            ingest_technicians=20,
            batches_per_round=4,
            singles_per_round=40,
            map_runs=3,
            nearest_runs=5,
            on_my_way_per_round=5,
            history_trips=2_000,
        )
    return plan


# ---- the table -------------------------------------------------------------------------


@dataclass
class Row:
    group: str
    size: str
    measured: str
    baseline: str
    cost: float  # the figure against its baseline: > 1 is dearer than the baseline
    note: str = ""
    growth: float | None = None


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)

    def add_group(self, rows: list[Row], *, growth: bool = True) -> None:
        """Rows of one measure at growing sizes; growth against the first row's cost."""
        for row in rows:
            row.growth = row.cost / rows[0].cost if growth else None
        self.rows.extend(rows)

    def print(self) -> None:
        head = ("what", "at", "measured", "baseline (same run)", "cost", "growth", "")
        lines = [head] + [
            (
                r.group,
                r.size,
                r.measured,
                r.baseline,
                f"{r.cost:.2f}",
                "" if r.growth is None else f"{r.growth:.2f}",
                r.note,
            )
            for r in self.rows
        ]
        widths = [max(len(line[n]) for line in lines) for n in range(len(head))]
        for n, line in enumerate(lines):
            print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
            if n == 0:
                print("  ".join("-" * width for width in widths))


def ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def alternated(
    port: int, pairs: list[tuple[bytes, bytes]], expect: int = 200
) -> tuple[float, float]:
    """Median milliseconds of each side, one request of each in turn from one client."""
    first, second = [], []
    for measured, baseline in pairs:
        first.append(timed_send(port, measured, expect))
        second.append(timed_send(port, baseline))
    return ms(first), ms(second)


# ---- fixtures --------------------------------------------------------------------------


@dataclass(frozen=True)
class Team:
    size: int
    organization_id: uuid.UUID
    dispatcher_id: uuid.UUID


def give_a_third_appointments(session: Any, organization_id: uuid.UUID, now: datetime) -> None:
    """Every third technician started on an appointment, so that the map's per-member
    appointment lookup finds one."""
    from geoalchemy2.shape import from_shape
    from shapely.geometry import Point
    from sqlalchemy import insert, select

    from fieldapi.accounts.models import User
    from fieldapi.jobs.models import Appointment, Customer, Job

    customer_id = uuid.uuid4()
    session.execute(
        insert(Customer),
        [
            {
                "id": customer_id,
                "organization_id": organization_id,
                "name": "Map Customer",
                "phone": "+13125550100",
                "site": from_shape(Point(CHICAGO[1], CHICAGO[0]), srid=4326),
                "timezone": "America/Chicago",
            }
        ],
    )
    technicians = session.scalars(
        select(User.id).where(User.organization_id == organization_id, User.role == "technician")
    ).all()[::3]
    jobs = [uuid.uuid4() for _ in technicians]
    common = {"organization_id": organization_id}
    session.execute(
        insert(Job),
        [
            {**common, "id": job, "customer_id": customer_id, "title": "Map job"}
            | {"status": "in_progress"}
            for job in jobs
        ],
    )
    session.execute(
        insert(Appointment),
        [
            {
                **common,
                "job_id": job,
                "technician_id": technician,
                "starts_at": now - timedelta(minutes=30),
                "duration_min": 60,
                "status": "started",
            }
            for job, technician in zip(jobs, technicians, strict=True)
        ],
    )
    session.commit()


def seed_on_my_way(
    session: Any, count: int, now: datetime, *, history: int = 0, team: int = 900
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """An organization of `count` technicians, each assigned one scheduled appointment of a
    customer with a phone and a site: (technician, appointment) pairs. With `history`, the
    organization has that many past trips (an on-my-way with a known distance, then a start
    25 to 45 minutes later) in its activity log, spread over the appointments."""
    from geoalchemy2.shape import from_shape
    from shapely.geometry import Point
    from sqlalchemy import insert, select, text

    from fieldapi.accounts.models import User
    from fieldapi.jobs.models import Appointment, Customer, Job

    organization_id, _owner = seed_positioned_team(session, team, count, *CHICAGO)
    technicians = session.scalars(
        select(User.id).where(User.organization_id == organization_id, User.role == "technician")
    ).all()
    customers = [uuid.uuid4() for _ in technicians]
    common = {"organization_id": organization_id}
    session.execute(
        insert(Customer),
        [
            {
                **common,
                "id": customer,
                "name": f"Customer {n}",
                "phone": f"+1312555{n:04d}",
                "site": from_shape(
                    Point(CHICAGO[1] + (n % 40) * 2e-3, CHICAGO[0] + 0.05), srid=4326
                ),
                "timezone": "America/Chicago",
            }
            for n, customer in enumerate(customers)
        ],
    )
    jobs = [uuid.uuid4() for _ in technicians]
    session.execute(
        insert(Job),
        [
            {**common, "id": job, "customer_id": customer, "title": "Furnace"}
            | {"status": "scheduled"}
            for job, customer in zip(jobs, customers, strict=True)
        ],
    )
    appointments = [uuid.uuid4() for _ in technicians]
    session.execute(
        insert(Appointment),
        [
            {
                **common,
                "id": appointment,
                "job_id": job,
                "technician_id": technician,
                "starts_at": now + timedelta(hours=1),
                "duration_min": 90,
                "status": "scheduled",
            }
            for appointment, job, technician in zip(appointments, jobs, technicians, strict=True)
        ],
    )
    if history:
        session.execute(
            text(HISTORY_SQL),
            {"org": organization_id, "trips": history, "start": now - timedelta(days=400)},
        )
    session.commit()
    return list(zip(technicians, appointments, strict=True))


# A trip every 20 minutes of the organization's past, round the appointments in turn.
HISTORY_SQL = """
WITH numbered AS (
    SELECT a.*, row_number() OVER (ORDER BY a.id) - 1 AS k, count(*) OVER () AS total
    FROM appointments a WHERE a.organization_id = :org
), trip AS (
    SELECT n, :start + n * interval '20 minutes' AS left_at,
           interval '1 minute' * (25 + n % 21) AS took, 2000 + (n % 50) * 300 AS distance_m
    FROM generate_series(0, :trips - 1) AS n
)
INSERT INTO activity_events (organization_id, job_id, appointment_id, at, actor_id,
                             actor_name, actor_kind, action, from_status, to_status, details)
SELECT a.organization_id, a.job_id, a.id, e.at, a.technician_id, 'Technician', 'user',
       e.action, 'scheduled', e.to_status, e.details
FROM trip JOIN numbered a ON a.k = trip.n % a.total
CROSS JOIN LATERAL (VALUES
    (trip.left_at, 'on-my-way', 'en_route',
     jsonb_build_object('eta', jsonb_build_object('distance_m', trip.distance_m,
                                                  'method', 'request_position'))),
    (trip.left_at + trip.took, 'start', 'in_progress', '{}'::jsonb)
) AS e(at, action, to_status, details)
"""


FILL_SQL = """
INSERT INTO location_pings (organization_id, user_id, recorded_at, position, accuracy_m,
                            speed_mps, heading_deg, battery_pct, impossible_jump)
SELECT %(org)s, (%(users)s::uuid[])[1 + n %% %(team)s],
       %(newest)s - (n / %(team)s) * interval '20 seconds',
       CAST(ST_SetSRID(ST_MakePoint(%(lon)s + (random() - 0.5) * 0.4,
                                    %(lat)s + (random() - 0.5) * 0.3), 4326) AS geography),
       10, 8.5, 90, 80, false
FROM generate_series(CAST(%(first)s AS bigint), CAST(%(last)s AS bigint)) AS n
"""


def fill(database: Database, fleet: Any, first: int, count: int, newest: datetime) -> float:
    """Pings `first` .. `first + count - 1` of the fleet's older history (one every 20 s
    per technician, back from `newest`), in one statement; its seconds."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(database.dsn, autocommit=True) as conn:
        conn.execute(
            FILL_SQL,
            {
                "org": fleet.organization_id,
                "users": [str(u) for u in fleet.technician_ids],
                "team": len(fleet.technician_ids),
                "newest": newest,
                "lat": CHICAGO[0],
                "lon": CHICAGO[1],
                "first": first,
                "last": first + count - 1,
            },
        )
    return time.monotonic() - started


def on_my_way_writes(database: Database) -> tuple[int, int]:
    """On-my-way texts queued in the outbox, and tracking links issued."""
    import psycopg

    with psycopg.connect(database.dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM messages WHERE purpose = 'on_my_way'), "
            "(SELECT count(*) FROM visit_tracking)"
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def stored_pings(database: Database) -> int:
    import psycopg

    with psycopg.connect(database.dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM location_pings").fetchone()
    return int(row[0]) if row else 0


# ---- the run ---------------------------------------------------------------------------


def say(line: str) -> None:
    print(line, flush=True)


def thousands(n: int) -> str:
    return f"{n // MILLION} M" if n >= MILLION and n % MILLION == 0 else f"{n:,}"


def bench(plan: Plan, command_line: str) -> int:
    from sqlalchemy.orm import Session

    from fieldapi.db import make_engine, utcnow

    t_start = time.monotonic()
    say(f"$ {command_line}")
    with throwaway_cluster("fieldapi-bench-scale-", 40000, databases=("bench", "bench_empty")) as (
        main,
        empty,
    ):
        now = utcnow()
        rng = random.Random(16)
        engine = make_engine(main.url)
        with Session(engine) as session:
            teams = []
            for n, size in enumerate(plan.team_sizes, start=1):
                organization_id, dispatcher_id = seed_positioned_team(session, n, size, *CHICAGO)
                give_a_third_appointments(session, organization_id, now)
                teams.append(Team(size, organization_id, dispatcher_id))
            count = plan.rounds * plan.on_my_way_per_round
            on_my_way = {
                0: seed_on_my_way(session, count, now),
                plan.history_trips: seed_on_my_way(
                    session, count, now, history=plan.history_trips, team=901
                ),
            }
        engine.dispose()
        fleets = {db.dsn: seed_fleet(db.url, plan.ingest_technicians, now) for db in (main, empty)}
        for db in (main, empty):
            settle(db.dsn)
        say(
            f"bench_scale: teams of {', '.join(f'{s:,}' for s in plan.team_sizes)}; ingest "
            f"into {' then '.join(thousands(s) for s in plan.stored)} stored pings, "
            f"{plan.ingest_technicians} technicians, {plan.clients} client processes; "
            f"{plan.rounds} alternated rounds; seeded in {time.monotonic() - t_start:.0f} s"
        )

        secret_key = secrets.token_urlsafe(32)
        main_port, empty_port = free_port(), free_port()
        table = Table()
        failures = 0
        worst = 0.0  # the dearest on-my-way against its baseline
        with (
            server(
                api_command(main_port),
                main_port,
                api_env(main.url, main.workdir, secret_key),
                main.workdir / "api.log",
            ),
            server(
                api_command(empty_port),
                empty_port,
                api_env(empty.url, empty.workdir / "empty", secret_key),
                main.workdir / "api-empty.log",
            ),
        ):
            tokens = issue_tokens(
                main.url,
                secret_key,
                [t.dispatcher_id for t in teams]
                + [tech for pairs in on_my_way.values() for tech, _a in pairs],
            )
            me = {user: http_request("GET", "/v1/me", token) for user, token in tokens.items()}
            for raw in list(me.values())[:40]:  # every worker's first requests, not timed
                timed_send(main_port, raw)

            # Team map and nearest: positions refreshed first, so that none is stale.
            refresh_positions(main)
            map_rows, nearest_rows = [], []
            for team in teams:
                token = tokens[team.dispatcher_id]
                raw_map = http_request("GET", "/v1/team/locations", token)
                members = len(json.loads(_body(main_port, raw_map))["features"])
                map_ms, me_ms = alternated(
                    main_port, [(raw_map, me[team.dispatcher_id])] * plan.map_runs
                )
                map_rows.append(
                    Row(
                        "team map (GET /v1/team/locations)",
                        f"{team.size:,} members",
                        f"{map_ms:.1f} ms",
                        f"GET /v1/me {me_ms:.2f} ms",
                        map_ms / me_ms,
                        f"{members:,} features",
                    )
                )
                places = [
                    http_request(
                        "GET",
                        "/v1/dispatch/nearest?limit=10"
                        f"&lat={CHICAGO[0] + rng.uniform(-0.3, 0.3):.5f}"
                        f"&lon={CHICAGO[1] + rng.uniform(-0.4, 0.4):.5f}",
                        token,
                    )
                    for _ in range(plan.nearest_runs)
                ]
                near_ms, me_ms = alternated(
                    main_port, [(place, me[team.dispatcher_id]) for place in places]
                )
                nearest_rows.append(
                    Row(
                        "nearest 10 (GET /v1/dispatch/nearest)",
                        f"{team.size:,} technicians",
                        f"{near_ms:.2f} ms",
                        f"GET /v1/me {me_ms:.2f} ms",
                        near_ms / me_ms,
                    )
                )
                say(f"  {team.size:,} members: map {map_ms:.1f} ms, nearest {near_ms:.2f} ms")
            table.add_group(map_rows)
            table.add_group(nearest_rows)

            # On my way, each on its own appointment, with the phone's position, in an
            # organization with no history, then in one with many past trips.
            omw_rows = []
            for history, appointments in on_my_way.items():
                pairs = [
                    (
                        http_request(
                            "POST",
                            f"/v1/appointments/{appointment}/actions/on-my-way",
                            tokens[technician],
                            json.dumps({"lat": CHICAGO[0] - 0.02, "lon": CHICAGO[1]}).encode(),
                        ),
                        me[technician],
                    )
                    for technician, appointment in appointments
                ]
                omw_ms, me_ms = alternated(main_port, pairs)
                cost = omw_ms / me_ms
                worst = max(worst, cost)
                holds = "holds" if cost <= ON_MY_WAY_TARGET else "MISSED"
                omw_rows.append(
                    Row(
                        "on my way (POST .../on-my-way)",
                        f"{history:,} past trips",
                        f"{omw_ms:.2f} ms",
                        f"GET /v1/me {me_ms:.2f} ms",
                        cost,
                        f"{len(pairs)} appointments; target <= {ON_MY_WAY_TARGET:g}: {holds}",
                    )
                )
                say(f"  on my way, {history:,} past trips: {omw_ms:.2f} ms, /v1/me {me_ms:.2f}")
            table.add_group(omw_rows)
            expected = sum(len(appointments) for appointments in on_my_way.values())
            texts, links = on_my_way_writes(main)
            if (texts, links) != (expected, expected):
                say(f"    !! {texts} on-my-way texts and {links} tracking links for {expected}")
                failures += 1

            # Ingest: the same requests into both databases, round for round alternated.
            ingest = IngestLoad(plan, now, fleets, {main.dsn: main_port, empty.dsn: empty_port})
            ingest.prepare(main, empty, secret_key)
            filled = 0
            for stage, target in enumerate(plan.stored):
                fleet = fleets[main.dsn]
                seconds = fill(main, fleet, filled, target - filled, now - timedelta(days=1))
                say(f"  filled location_pings to {thousands(target)}: {seconds:.0f} s")
                started = time.monotonic()
                settle(main.dsn)
                say(f"    then VACUUM ANALYZE and CHECKPOINT: {time.monotonic() - started:.0f} s")
                fill_note = f"fill {seconds:.0f} s"
                filled = target
                rows = ingest.stage(stage, main, empty, fill_note)
                table.rows.extend(rows)
            failures += ingest.failures

    print()
    table.print()
    print()
    print(
        "cost: the figure against its baseline; growth: that cost over the smallest size's "
        "(ingest: over the near-empty table's, i.e. the cost itself)"
    )
    print(f"whole run {time.monotonic() - t_start:.0f} s")
    if failures:
        print(f"{failures} failed checks (lines marked !!)")
        return 2
    return 0 if worst <= ON_MY_WAY_TARGET else 1


def _body(port: int, raw: bytes) -> bytes:
    status, body = send(port, raw)
    if status != 200:
        raise SystemExit(f"HTTP {status}: {body[:300]!r}")
    return body


def truncate_history(database: Database) -> None:
    import psycopg

    with psycopg.connect(database.dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE location_pings")
    settle(database.dsn)


def refresh_positions(database: Database) -> None:
    import psycopg

    with psycopg.connect(database.dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE latest_locations SET recorded_at = now() - random() * interval '2 minutes'"
        )


class IngestLoad:
    """The ingest requests of every stage and round: the fleet's day, walked in batches of
    500 per technician, then one ping per request a second apart; the same sequence is
    sent to both databases, so each side does the same work."""

    def __init__(
        self, plan: Plan, now: datetime, fleets: dict[str, Any], ports: dict[str, int]
    ) -> None:
        self.plan = plan
        self.now = now
        self.fleets = fleets
        self.ports = ports
        self.requests: dict[str, list[tuple[list[bytes], list[bytes]]]] = {}
        self.failures = 0

    def prepare(self, main: Database, empty: Database, secret_key: str) -> None:
        plan = self.plan
        stages = len(plan.stored)
        all_batches = stages * plan.rounds * plan.batches_per_round
        per_technician = -(-all_batches // plan.ingest_technicians) * BATCH
        singles_each = -(-stages * plan.rounds * plan.singles_per_round // plan.ingest_technicians)
        end = self.now - timedelta(minutes=10) - timedelta(seconds=singles_each)
        for database in (main, empty):
            fleet = self.fleets[database.dsn]
            tokens = issue_tokens(database.url, secret_key, fleet.technician_ids)
            rng = random.Random(7)  # the same walks for both databases
            batches: list[bytes] = []
            singles: list[bytes] = []
            days = [walk(rng, per_technician, end) for _ in fleet.technician_ids]
            for start in range(0, per_technician, BATCH):
                for user, pings in zip(fleet.technician_ids, days, strict=True):
                    body = json.dumps({"pings": pings[start : start + BATCH]}).encode()
                    batches.append(http_request("POST", "/v1/locations", tokens[user], body))
            for n in range(stages * plan.rounds * plan.singles_per_round):
                index = n % len(fleet.technician_ids)
                step = 1 + n // len(fleet.technician_ids)
                last = days[index][-1]
                at = end + timedelta(seconds=step)
                ping = dict(
                    last,
                    recorded_at=at.isoformat().replace("+00:00", "Z"),
                    lat=round(last["lat"] + step * 5e-5, 6),
                )
                body = json.dumps({"pings": [ping]}).encode()
                singles.append(
                    http_request("POST", "/v1/locations", tokens[fleet.technician_ids[index]], body)
                )
            rounds = []
            for r in range(stages * plan.rounds):
                b, s = plan.batches_per_round, plan.singles_per_round
                rounds.append((batches[r * b : (r + 1) * b], singles[r * s : (r + 1) * s]))
            self.requests[database.dsn] = rounds

    def stage(self, stage: int, main: Database, empty: Database, fill_note: str) -> list[Row]:
        plan = self.plan
        measured: dict[str, dict[str, list[float]]] = {
            main.dsn: {"batch": [], "single": []},
            empty.dsn: {"batch": [], "single": []},
        }
        truncate_history(empty)  # the baseline starts each stage on an empty table
        stored_before = stored_pings(main)
        for r in range(plan.rounds):
            index = stage * plan.rounds + r
            for kind in ("batch", "single"):
                order = (empty, main) if r % 2 == 0 else (main, empty)
                for database in order:
                    batches, singles = self.requests[database.dsn][index]
                    requests = batches if kind == "batch" else singles
                    pings = len(requests) * (BATCH if kind == "batch" else 1)
                    seconds, stored, failed = run_clients(
                        self.ports[database.dsn], requests, plan.clients
                    )
                    if stored != pings or failed:
                        say(f"    !! stored {stored:,} of {pings:,}, {failed} failed requests")
                        self.failures += 1
                    rate = (pings if kind == "batch" else len(requests)) / seconds
                    measured[database.dsn][kind].append(rate)
        stored = plan.stored[stage]
        empty_after = stored_pings(empty)
        rows = []
        for kind, label, unit in (
            ("batch", f"ingest, batches of {BATCH}", "pings/s"),
            ("single", "ingest, one ping per request", "req/s"),
        ):
            full_rate = statistics.median(measured[main.dsn][kind])
            empty_rate = statistics.median(measured[empty.dsn][kind])
            rows.append(
                Row(
                    f"{label} ({plan.clients} clients)",
                    f"{thousands(stored)} stored",
                    f"{full_rate:,.0f} {unit}",
                    f"empty table {empty_rate:,.0f} {unit}",
                    empty_rate / full_rate,
                    f"{fill_note}; {stored_before:,} stored, baseline 0 to {empty_after:,}"
                    if kind == "batch"
                    else "",
                    growth=empty_rate / full_rate,
                )
            )
            each = ", ".join(
                f"{a:,.0f}/{b:,.0f}"
                for a, b in zip(measured[main.dsn][kind], measured[empty.dsn][kind], strict=True)
            )
            say(f"  {thousands(stored)} stored, {kind}: rounds (stored/empty) {each}")
        return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    command_line = " ".join(["scripts/bench_scale", *map(shlex.quote, sys.argv[1:])])
    return bench(make_plan(args), command_line)


if __name__ == "__main__":
    sys.exit(main())
