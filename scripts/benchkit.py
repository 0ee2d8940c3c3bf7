"""benchkit: what the bench scripts share: a throwaway PostGIS cluster, the API under
gunicorn with production settings, raw HTTP clients in several processes, CPU meters
from /proc, and the fixtures (a fleet with jobs, technicians with fresh positions).

Imported by scripts/bench_ingest.py, bench_nearest.py and bench_scale.py (each puts
scripts/ on sys.path first, so that it also loads when a test imports it by path).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
CHICAGO = (41.8781, -87.6298)


# ---- the database ----------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    url: str  # for SQLAlchemy and the API
    dsn: str  # for psycopg
    workdir: Path
    postmaster: int


@contextmanager
def throwaway_cluster(
    prefix: str, port_base: int, *, durable: bool = False, databases: Sequence[str] = ("bench",)
) -> Iterator[list[Database]]:
    """A PostGIS cluster in a temporary directory (Unix socket only), each of `databases`
    created and migrated; stopped and removed on exit."""
    from fieldapi.localdb import LocalCluster
    from fieldapi.migrations import upgrade

    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    workdir.chmod(0o755)  # the cluster's owner (postgres, when we are root) must enter it
    cluster = LocalCluster(
        root=workdir / "pg", port=port_base + os.getpid() % 5000, fast_and_unsafe=not durable
    )
    try:
        made = []
        for name in databases:
            url = cluster.ensure(name)
            upgrade(url)
            postmaster = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
            dsn = f"host={cluster.socket_dir} port={cluster.port} user=fieldapi dbname={name}"
            made.append(Database(url, dsn, workdir, postmaster))
        yield made
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def settle(dsn: str) -> None:
    """What autovacuum and the checkpointer do after a bulk load, done now and waited for,
    so that they do not run during one measurement and not during its baseline."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


# ---- fixtures --------------------------------------------------------------------------


@dataclass
class Fleet:
    organization_id: uuid.UUID
    dispatcher_id: uuid.UUID
    technician_ids: list[uuid.UUID]


def seed_fleet(url: str, technicians: int, now: datetime, *, name: str = "Bench HVAC") -> Fleet:
    """One organization: a dispatcher, the technicians, and a third of them on a job."""
    from geoalchemy2.shape import from_shape
    from shapely.geometry import Point
    from sqlalchemy.orm import Session

    from fieldapi.accounts.models import Organization, User
    from fieldapi.db import make_engine
    from fieldapi.jobs.models import Appointment, Customer, Job

    engine = make_engine(url)
    organization_id, dispatcher_id = uuid.uuid4(), uuid.uuid4()
    team = [uuid.uuid4() for _ in range(technicians)]
    with Session(engine) as db:
        db.add(Organization(id=organization_id, name=name, timezone="America/Chicago"))
        db.flush()
        db.add(
            User(
                id=dispatcher_id,
                organization_id=organization_id,
                name="Bench Dispatcher",
                phone="+13126999999",
                role="dispatcher",
            )
        )
        db.add_all(
            User(
                id=user_id,
                organization_id=organization_id,
                name=f"Technician {n:04d}",
                phone=f"+1312{7000000 + n}",
                role="technician",
            )
            for n, user_id in enumerate(team)
        )
        customers = [
            Customer(
                id=uuid.uuid4(),
                organization_id=organization_id,
                name=f"Customer {n}",
                site=from_shape(Point(CHICAGO[1] + n * 1e-3, CHICAGO[0]), srid=4326),
                timezone="America/Chicago",
            )
            for n in range(50)
        ]
        db.add_all(customers)
        db.flush()
        # Bench fixture rows, written directly: an appointment on the way or started for
        # a third of the team, so the map's per-member appointment lookup does real work.
        for n, technician_id in enumerate(team[::3]):
            started = n % 2 == 0
            job = Job(
                id=uuid.uuid4(),
                organization_id=organization_id,
                customer_id=customers[n % len(customers)].id,
                title=f"Job {n}",
                status="in_progress" if started else "scheduled",
            )
            db.add(job)
            db.flush()
            db.add(
                Appointment(
                    organization_id=organization_id,
                    job_id=job.id,
                    starts_at=now - timedelta(minutes=30),
                    duration_min=60,
                    technician_id=technician_id,
                    status="started" if started else "enroute",
                )
            )
        db.commit()
    engine.dispose()
    return Fleet(organization_id, dispatcher_id, team)


POSITIONED_TEAM_SQL = """
WITH people AS (
    INSERT INTO users (id, organization_id, name, phone, role, active, on_duty,
                       created_at, updated_at)
    SELECT gen_random_uuid(), :org, 'Tech ' || n, :prefix || lpad(n::text, 6, '0'),
           'technician', true, true, now(), now()
    FROM generate_series(1, :count) AS n
    RETURNING id
)
INSERT INTO latest_locations (organization_id, user_id, recorded_at, position, updated_at)
SELECT :org, id, now() - random() * interval '5 minutes',
       CAST(ST_SetSRID(ST_MakePoint(:lon + (random() - 0.5) * 0.8,
                                    :lat + (random() - 0.5) * 0.6), 4326) AS geography),
       now()
FROM people
"""


def seed_positioned_team(
    session: Any, number: int, count: int, lat: float, lon: float
) -> tuple[uuid.UUID, uuid.UUID]:
    """Organization `number` (its owner a dispatcher) with `count` on-duty technicians,
    each with a position of the last 5 minutes around (lat, lon): (organization, owner)."""
    from sqlalchemy import text

    from fieldapi.onboarding import create_organization

    organization, owner = create_organization(
        session,
        name=f"Bench {number}",
        owner_name="Dana",
        owner_phone=f"+1415201{number:04d}",
        timezone="America/Chicago",
    )
    session.execute(
        text(POSITIONED_TEAM_SQL),
        {
            "org": organization.id,
            "prefix": f"+1900{number:03d}",
            "count": count,
            "lat": lat,
            "lon": lon,
        },
    )
    session.commit()
    return organization.id, owner.id


def issue_tokens(url: str, secret_key: str, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Access tokens through accounts' `open_session` (as the tests' login_as does): an SMS
    passcode round trip per user would only slow the set-up down."""
    from sqlalchemy.orm import Session

    from fieldapi.accounts.models import User
    from fieldapi.accounts.sessions import open_session
    from fieldapi.db import make_engine, utcnow

    engine = make_engine(url)
    tokens = {}
    with Session(engine) as db:
        for user_id in user_ids:
            user = db.get_one(User, user_id)
            tokens[user_id] = open_session(
                db, user, secret_key=secret_key, now=utcnow()
            ).access_token
        db.commit()
    engine.dispose()
    return tokens


def walk(rng: random.Random, count: int, end: datetime) -> list[dict[str, Any]]:
    """A technician's day: a ping every 5 s, driving around Chicago."""
    lat = CHICAGO[0] + rng.uniform(-0.2, 0.2)
    lon = CHICAGO[1] + rng.uniform(-0.2, 0.2)
    heading = rng.uniform(0, 360)
    pings = []
    for n in range(count):
        speed = rng.uniform(0, 20)
        heading = (heading + rng.uniform(-20, 20)) % 360
        lat += speed * 5 * math.cos(math.radians(heading)) / 111_320
        lon += speed * 5 * math.sin(math.radians(heading)) / (111_320 * 0.745)
        at = end - timedelta(seconds=5 * (count - n))
        pings.append(
            {
                "recorded_at": at.isoformat().replace("+00:00", "Z"),
                "lat": round(lat, 6),
                "lon": round(lon, 6),
                "accuracy_m": rng.choice((5, 8, 12, 20, 35)),
                "speed_mps": round(speed, 1),
                "heading_deg": round(heading, 1),
                "battery_pct": rng.randint(20, 100),
            }
        )
    return pings


# ---- HTTP clients ----------------------------------------------------------------------


def http_request(method: str, path: str, token: str, body: bytes = b"") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


def send(port: int, raw: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        conn.sendall(raw)
        chunks = []
        while chunk := conn.recv(262144):
            chunks.append(chunk)
    response = b"".join(chunks)
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def timed_send(port: int, raw: bytes, expect: int = 200) -> float:
    """Seconds one request took, start to last byte; exits on an unexpected status."""
    started = time.perf_counter()
    status, body = send(port, raw)
    seconds = time.perf_counter() - started
    if status != expect:
        raise SystemExit(f"HTTP {status} (expected {expect}): {body[:300]!r}")
    return seconds


_REQUESTS: list[bytes] = []  # set before the client processes fork; shared copy-on-write


def _client(index: int, clients: int, port: int, count: bool, go: Any, results: Any) -> None:
    go.wait()
    started = time.monotonic()
    stored = failed = 0
    for raw in _REQUESTS[index::clients]:
        status, body = send(port, raw)
        if status == 200:
            stored += json.loads(body)["stored"] if count else 0
        else:
            failed += 1
            if failed <= 3:
                print(f"  client {index}: HTTP {status} {body[:200]!r}", file=sys.stderr)
    results.put((started, time.monotonic(), stored, failed))


def run_clients(
    port: int, requests: list[bytes], clients: int, *, count: bool = True
) -> tuple[float, int, int]:
    """Send every request from `clients` processes; wall seconds, pings stored, failures."""
    global _REQUESTS
    _REQUESTS = requests
    context = multiprocessing.get_context("fork")
    go, results = context.Event(), context.Queue()
    processes = [
        context.Process(target=_client, args=(n, clients, port, count, go, results))
        for n in range(clients)
    ]
    for process in processes:
        process.start()
    time.sleep(0.3)
    go.set()
    outcomes = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    _REQUESTS = []
    seconds = max(o[1] for o in outcomes) - min(o[0] for o in outcomes)
    return seconds, sum(o[2] for o in outcomes), sum(o[3] for o in outcomes)


# ---- servers ---------------------------------------------------------------------------


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of `pid`, its live children and the children it reaped."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    parents: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry)] = fields
        parents.setdefault(int(fields[1]), []).append(int(entry))
    todo = [pid]
    while todo:
        current = todo.pop()
        fields = stats.get(current)
        if fields is None:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
        todo.extend(parents.get(current, []))
    return total / tick


class CpuMeter:
    """CPU seconds the API server and PostgreSQL spent between `start` and `stop`."""

    def __init__(self, postmaster: int) -> None:
        self.postmaster = postmaster
        self.api: int | None = None
        self._before = (0.0, 0.0)

    def start(self) -> None:
        self._before = self._now()

    def stop(self) -> tuple[float, float]:
        api, pg = self._now()
        return api - self._before[0], pg - self._before[1]

    def _now(self) -> tuple[float, float]:
        api = tree_cpu_seconds(self.api) if self.api else 0.0
        return api, tree_cpu_seconds(self.postmaster)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def api_env(url: str, workdir: Path, secret_key: str | None = None) -> dict[str, str]:
    """The API's environment: production settings on `url`; no text is sent (no worker)."""
    env = dict(
        os.environ,
        FIELDAPI_ENV="production",
        SECRET_KEY=secret_key or secrets.token_urlsafe(32),
        DATABASE_URL=url,
        PUBLIC_BASE_URL="http://127.0.0.1",
        SMS_TRANSPORT="twilio",
        TWILIO_AUTH_TOKEN="bench",
        FIELDAPI_VAR_DIR=str(workdir / "var"),
    )
    env.pop("ACCESS_LOG", None)
    return env


def api_command(port: int) -> list[str]:
    """`fieldapi serve` on 127.0.0.1:`port` (gunicorn, `WEB_CONCURRENCY` workers)."""
    return [
        sys.executable,
        "-m",
        "fieldapi.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


@contextmanager
def server(
    command: list[str], port: int, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if send(port, http_request("GET", "/healthz", "-"))[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000
