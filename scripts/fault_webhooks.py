"""fault_webhooks: enterprise webhooks through a receiver that is down for a minute, then slow.

Starts its own throwaway PostGIS (Unix socket only), the Twilio fake, `fieldapi serve` and two
`fieldapi worker` processes on 127.0.0.1, and a webhook receiver that verifies every
signature. An enterprise offers jobs to a provider through the API; two of the provider's
dispatchers then add public notes and reschedule the visits, both on the same jobs at once,
without pause. Meanwhile the receiver is up, down (connections refused) for --down-seconds,
slow (each answer after a delay, alternately under and over the webhook timeout) for
--slow-seconds, then up again. Once the flow stops and the queue has drained, prints the
events queued, delivered, lost, delivered twice, delivered out of order per job, still
stuck in the queue, and the longest delay from a change to its first delivery; exits 1
unless lost, out of order, stuck and bad signatures are 0.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import fault_kit  # noqa: E402

SIGNATURE_TOLERANCE_S = 300


@dataclass(frozen=True)
class Timing:
    """The webhook settings of the run and how slow the slow receiver is."""

    timeout_s: float
    retry_base_s: float
    retry_max_s: float
    near_s: float  # a slow answer under the timeout: delivered, late
    beyond_s: float  # over it: the sender gives up, the receiver has it anyway

    def env(self) -> dict[str, str]:
        return {
            "WEBHOOK_TIMEOUT_SECONDS": str(self.timeout_s),
            "WEBHOOK_RETRY_BASE_SECONDS": str(self.retry_base_s),
            "WEBHOOK_RETRY_MAX_SECONDS": str(self.retry_max_s),
        }


# The product's defaults (10 s timeout, retries from 10 s doubling up to an hour, 8 attempts),
# and, for --quick, the same shape five to ten times faster.
FULL = Timing(timeout_s=10, retry_base_s=10, retry_max_s=3600, near_s=8, beyond_s=13)
QUICK = Timing(timeout_s=2, retry_base_s=1, retry_max_s=8, near_s=1.5, beyond_s=3)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/fault_webhooks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a short run, faster timings")
    parser.add_argument("--down-seconds", type=float, default=None, help="default 60 (quick 5)")
    parser.add_argument("--slow-seconds", type=float, default=None, help="default 30 (quick 6)")
    parser.add_argument("--jobs", type=int, default=6, help="jobs the events are about (2-50)")
    parser.add_argument(
        "--interval", type=float, default=0.1, help="each dispatcher's pause between changes"
    )
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds for the queue to drain at the end"
    )
    args = parser.parse_args(argv)
    args.timing = QUICK if args.quick else FULL
    if args.down_seconds is None:
        args.down_seconds = 5.0 if args.quick else 60.0
    if args.slow_seconds is None:
        args.slow_seconds = 6.0 if args.quick else 30.0
    if args.timeout is None:
        args.timeout = 120.0 if args.quick else 900.0
    args.down_seconds = max(1.0, min(args.down_seconds, 600.0))
    args.slow_seconds = max(1.0, min(args.slow_seconds, 600.0))
    args.jobs = max(2, min(args.jobs, 50))
    args.warm_s = 3.0 if args.quick else 10.0  # healthy before the outage and after the slow
    return args


def verify(secret: str, header: str, body: bytes, *, now: float) -> bool:
    """The receiver's side of the documented scheme: `t=<unix>,v1=<hex HMAC-SHA256 of
    "<t>.<raw body>">`, within five minutes of the receiver's clock."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        return False
    if abs(now - int(parts["t"])) > SIGNATURE_TOLERANCE_S:
        return False
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])


@dataclass(frozen=True)
class Receipt:
    event_id: str
    job_id: str
    at: float  # time.time() when it arrived


@dataclass
class Receiver:
    """An enterprise's endpoint on 127.0.0.1: verifies, keeps every event it is handed (a
    slow answer included: it did the work, it only answered late), answers 200."""

    timing: Timing
    secret: str = ""
    slow: bool = False
    port: int = 0
    receipts: list[Receipt] = field(default_factory=list)
    bad_signatures: int = 0
    slow_answers: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/fieldapi"

    def start(self) -> None:
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                now = time.time()
                signature = self.headers.get("X-Fieldapi-Signature", "")
                if not verify(state.secret, signature, body, now=now):
                    with state.lock:
                        state.bad_signatures += 1
                    self.answer(400)
                    return
                event = json.loads(body)
                with state.lock:
                    state.receipts.append(Receipt(event["id"], event["job"]["id"], now))
                    delay = 0.0
                    if state.slow:
                        state.slow_answers += 1
                        odd = state.slow_answers % 2
                        delay = state.timing.beyond_s if odd else state.timing.near_s
                time.sleep(delay)
                self.answer(200)

            def answer(self, status: int) -> None:
                with contextlib.suppress(OSError):  # the sender gave up waiting
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Down: the port refuses connections until `start` again."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class Api:
    """The API as an app calls it: one keep-alive session per caller, bearer token."""

    def __init__(self, port: int, token: str) -> None:
        import requests

        self.base = f"http://127.0.0.1:{port}/v1"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        answer = self.http.request(method, self.base + path, json=body, timeout=30)
        try:
            return answer.status_code, answer.json()
        except ValueError:
            return answer.status_code, None

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, data = self.call(method, path, body)
        if not 200 <= status < 300:
            raise SystemExit(f"fault_webhooks: {method} {path} answered {status}: {data}")
        return data


@dataclass
class Flow:
    """Two dispatchers changing the same jobs at once until stopped: one adds public notes,
    the other moves the visits. Counts the changes acknowledged and the other answers."""

    jobs: list[tuple[str, str]]  # (job id, appointment id)
    interval_s: float
    acknowledged: int = 0
    refused: collections.Counter[int] = field(default_factory=collections.Counter)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def notes(self, api: Api) -> None:
        step = 0
        while not self.stopping.is_set():
            job_id, _visit = self.jobs[step % len(self.jobs)]
            body = {"body": f"Update {step}: parts ordered.", "visibility": "public"}
            self.count(api.call("POST", f"/jobs/{job_id}/notes", body)[0])
            step += 1
            self.stopping.wait(self.interval_s)

    def moves(self, api: Api) -> None:
        step = 0
        base = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
        while not self.stopping.is_set():
            _job, visit = self.jobs[step % len(self.jobs)]
            starts = base + timedelta(minutes=5 * (step % 96 + 1))
            body = {"starts_at": starts.isoformat().replace("+00:00", "Z")}
            self.count(api.call("PATCH", f"/appointments/{visit}", body)[0])
            step += 1
            self.stopping.wait(self.interval_s)

    def count(self, status: int) -> None:
        with self.lock:
            if 200 <= status < 300:
                self.acknowledged += 1
            else:
                self.refused[status] += 1


def seed(url: str) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A provider with its dispatcher, an enterprise with its manager: (provider, its
    dispatcher, the manager)."""
    from sqlalchemy.orm import Session

    from fieldapi.db import make_engine
    from fieldapi.onboarding import create_organization

    engine = make_engine(url)
    with Session(engine) as db:
        provider, dispatcher = create_organization(
            db,
            name="Done Right Home Services",
            owner_name="Dana Reyes",
            owner_phone="+13125550100",
            timezone="America/Chicago",
        )
        _enterprise, manager = create_organization(
            db,
            name="Acme Home Warranty",
            owner_name="Morgan Hale",
            owner_phone="+13125550200",
            timezone="America/Chicago",
            kind="enterprise",
        )
        db.commit()
        ids = (provider.id, dispatcher.id, manager.id)
    engine.dispose()
    return ids


def offer_jobs(
    manager: Api, dispatcher: Api, provider_id: uuid.UUID, count: int
) -> list[tuple[str, str]]:
    """Connect, then offer `count` jobs; the provider accepts and books each."""
    code = dispatcher.ok("GET", "/settings/organization")["connection_code"]
    asked = manager.ok("POST", "/enterprise/connections", {"connection_code": code})
    dispatcher.ok("POST", f"/connections/{asked['id']}/actions/accept")
    jobs = []
    start = datetime.now(UTC) + timedelta(days=1)
    for n in range(count):
        window = {
            "start": (start + timedelta(hours=n)).isoformat(),
            "end": (start + timedelta(hours=n + 4)).isoformat(),
        }
        job = manager.ok(
            "POST",
            "/enterprise/offers",
            {
                "provider_id": str(provider_id),
                "title": f"Warranty claim {n}",
                "external_id": f"ACME-{1000 + n}",
                "customer": {
                    "name": f"Customer {n}",
                    "phone": f"+1312555{1000 + n}",
                    "address": "233 S Wacker Dr, Chicago, IL",
                    "lat": 41.8789 + n * 1e-3,
                    "lon": -87.6359,
                    "timezone": "America/Chicago",
                },
                "appointment_windows": [window],
            },
        )
        dispatcher.ok("POST", f"/jobs/{job['id']}/actions/accept")
        visit = dispatcher.ok(
            "POST",
            f"/jobs/{job['id']}/appointments",
            {"starts_at": window["start"], "duration_min": 60},
        )
        jobs.append((str(job["id"]), str(visit["id"])))
    return jobs


@dataclass(frozen=True)
class Queued:
    event_id: str
    job_id: str
    rank: int  # its place among its job's events (the order they must arrive in)
    created_at: float
    status: str


def queued_events(dsn: str) -> list[Queued]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT event_id, job_id, row_number() OVER (PARTITION BY job_id ORDER BY id), "
            "EXTRACT(EPOCH FROM created_at), status FROM webhook_deliveries ORDER BY id"
        ).fetchall()
    return [Queued(str(e), str(j), int(r), float(c), str(s)) for e, j, r, c, s in rows]


def waiting(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM webhook_deliveries WHERE status IN ('queued', 'sending')"
        ).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class Figures:
    queued: int
    delivered: int
    lost: int
    twice: int
    out_of_order: int
    stuck: int
    failed: int
    max_delay_s: float


def figures(events: list[Queued], receipts: list[Receipt]) -> Figures:
    first: dict[str, Receipt] = {}
    repeats = 0
    for receipt in sorted(receipts, key=lambda r: r.at):
        if receipt.event_id in first:
            repeats += 1
        else:
            first[receipt.event_id] = receipt
    by_id = {event.event_id: event for event in events}
    out_of_order = 0
    latest_rank: dict[str, int] = {}
    for receipt in sorted(first.values(), key=lambda r: r.at):
        event = by_id.get(receipt.event_id)
        if event is None:
            continue
        if event.rank < latest_rank.get(event.job_id, 0):
            out_of_order += 1
        latest_rank[event.job_id] = max(event.rank, latest_rank.get(event.job_id, 0))
    delays = [first[e.event_id].at - e.created_at for e in events if e.event_id in first]
    return Figures(
        queued=len(events),
        delivered=len(first.keys() & by_id.keys()),
        lost=sum(1 for e in events if e.event_id not in first),
        twice=repeats,
        out_of_order=out_of_order,
        stuck=sum(1 for e in events if e.status in ("queued", "sending")),
        failed=sum(1 for e in events if e.status == "failed"),
        max_delay_s=max(delays, default=0.0),
    )


def run(args: argparse.Namespace) -> int:
    from fieldapi.messaging.twilio_fake import FakeTwilio

    bench = fault_kit.load_bench()
    timing: Timing = args.timing
    processes = []
    receiver = Receiver(timing)
    receiver.start()
    with (
        fault_kit.scratch_database("fieldapi-fault-webhooks-", port_base=35000, fast=True) as db,
        FakeTwilio() as fake,
    ):
        try:
            provider_id, dispatcher_id, manager_id = seed(db.url)
            secret_key = secrets.token_urlsafe(32)
            env = dict(os.environ)
            env.update(fake.env())
            env.update(timing.env())
            env.update(
                FIELDAPI_ENV="production",
                SECRET_KEY=secret_key,
                DATABASE_URL=db.url,
                PUBLIC_BASE_URL="http://127.0.0.1:9",
                FIELDAPI_VAR_DIR=str(db.workdir / "var"),
                WEBHOOK_ALLOW_PRIVATE_ADDRESSES="true",  # the receiver is on loopback
                WORKER_MAINTENANCE_MINUTES="0",
                PYTHONUNBUFFERED="1",
            )
            port = bench.free_port()
            api_command = [sys.executable, "-m", "fieldapi.cli", "serve", "--host", "127.0.0.1"]
            api_log = db.workdir / "api.log"
            with bench.server([*api_command, "--port", str(port)], port, env, api_log):
                tokens = [
                    bench.issue_tokens(db.url, secret_key, [user])[user]
                    for user in (manager_id, dispatcher_id, dispatcher_id)
                ]
                manager, dispatcher, second = (Api(port, token) for token in tokens)
                saved = manager.ok("PUT", "/enterprise/webhook", {"url": receiver.url})
                receiver.secret = saved["secret"]
                jobs = offer_jobs(manager, dispatcher, provider_id, args.jobs)
                processes = [
                    fault_kit.worker(env, db.workdir / f"worker-{n}.log") for n in range(2)
                ]
                flow = Flow(jobs, args.interval)
                threads = [
                    threading.Thread(target=flow.notes, args=(dispatcher,), daemon=True),
                    threading.Thread(target=flow.moves, args=(second,), daemon=True),
                ]
                started = time.monotonic()
                for thread in threads:
                    thread.start()
                time.sleep(args.warm_s)
                receiver.stop()
                print(f"fault_webhooks: receiver down for {args.down_seconds:.0f} s", flush=True)
                time.sleep(args.down_seconds)
                receiver.slow = True
                receiver.start()
                print(
                    f"fault_webhooks: receiver slow for {args.slow_seconds:.0f} s (answers "
                    f"after {timing.near_s:g} s and {timing.beyond_s:g} s, "
                    f"timeout {timing.timeout_s:g} s)",
                    flush=True,
                )
                time.sleep(args.slow_seconds)
                receiver.slow = False
                time.sleep(args.warm_s)
                flow.stopping.set()
                for thread in threads:
                    thread.join(timeout=60)
                flowed = time.monotonic() - started
                drained = fault_kit.wait_for(
                    lambda: waiting(db.dsn) == 0, args.timeout, every_s=0.5
                )
                elapsed = time.monotonic() - started
                fault_kit.stop(processes)
                time.sleep(max(timing.beyond_s, 0.5))  # answers still being written
            events = queued_events(db.dsn)
        finally:
            fault_kit.stop(processes)
            receiver.stop()
    with receiver.lock:
        result = figures(events, list(receiver.receipts))
    # every acknowledged change and each job's offer, acceptance and booking is one event
    expected = flow.acknowledged + 3 * len(jobs)
    refused = ", ".join(f"{n} x {s}" for s, n in sorted(flow.refused.items())) or "none"
    print(
        f"fault_webhooks: {len(jobs)} jobs, 2 dispatchers changing them at once for "
        f"{flowed:.0f} s; the receiver down {args.down_seconds:.0f} s, then slow "
        f"{args.slow_seconds:.0f} s; 2 workers\n"
        f"  changes acknowledged  {expected:>7}   (API answers refused: {refused})\n"
        f"  events queued         {result.queued:>7}   (target: one per change)\n"
        f"  delivered             {result.delivered:>7}\n"
        f"  lost                  {result.lost:>7}   (target 0; {result.failed} failed)\n"
        f"  delivered twice       {result.twice:>7}   (answers the sender did not wait for)\n"
        f"  slow answers          {receiver.slow_answers:>7}\n"
        f"  out of order per job  {result.out_of_order:>7}   (target 0)\n"
        f"  stuck in the queue    {result.stuck:>7}   (target 0)\n"
        f"  bad signatures        {receiver.bad_signatures:>7}   (target 0)\n"
        f"  max delay             {result.max_delay_s:>7.1f} s (change to first delivery)\n"
        f"  seconds               {elapsed:>7.1f}",
        flush=True,
    )
    ok = (
        drained
        and result.queued == expected
        and result.lost == 0
        and result.out_of_order == 0
        and result.stuck == 0
        and receiver.bad_signatures == 0
        and result.delivered > 0
    )
    print(f"fault_webhooks: {'OK' if ok else 'MISSED'}", flush=True)
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
