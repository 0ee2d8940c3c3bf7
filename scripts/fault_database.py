"""fault_database: ping ingest through a PostgreSQL restart and a 5-second outage.

Starts its own throwaway PostGIS cluster (Unix socket only) and `fieldapi serve` (gunicorn,
production settings) on 127.0.0.1; client threads send pings without pause, one per request
and in batches, each ping once. Meanwhile PostgreSQL is restarted (`pg_ctl restart -m fast`)
and later stopped for 5 seconds. Prints the pings acknowledged (200), found in the
database afterwards, lost (acknowledged, not found), the answers while PostgreSQL was down,
the seconds from PostgreSQL being back to the next 200, and the API processes restarted;
exits 1 unless lost and restarted are 0.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import fault_kit  # noqa: E402

BATCH = 50


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/fault_database", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--clients", type=int, default=4, help="client threads (1 to 16)")
    parser.add_argument("--outage", type=float, default=5.0, help="seconds PostgreSQL is down")
    parser.add_argument("--steady", type=float, default=4.0, help="seconds of load between")
    args = parser.parse_args(argv)
    args.clients = max(1, min(args.clients, 16))
    args.outage = max(0.5, min(args.outage, 60.0))
    args.steady = max(1.0, min(args.steady, 60.0))
    return args


class Load:
    """Client threads sending pings until stopped; what was acknowledged, what answered."""

    def __init__(self, bench: object, port: int, tokens: dict[object, str], start: object) -> None:
        self.bench, self.port, self.tokens, self.start = bench, port, tokens, start
        self.acknowledged: list[tuple[object, str]] = []
        self.answers: list[tuple[float, int]] = []  # (monotonic time, status; 0: no answer)
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def client(self, index: int, users: list[object]) -> None:
        step = 0
        while not self.stopping.is_set():
            user = users[step % len(users)]
            size = 1 if step % 2 == 0 else BATCH
            pings = []
            for n in range(size):
                at = self.start + timedelta(seconds=step, milliseconds=n * 10)  # type: ignore[operator]
                pings.append(
                    {
                        "recorded_at": at.isoformat().replace("+00:00", "Z"),
                        "lat": 41.88 + index * 0.01 + n * 1e-5,
                        "lon": -87.63,
                        "accuracy_m": 8,
                    }
                )
            step += 1
            raw = self.bench.http_request(  # type: ignore[attr-defined]
                "POST", "/v1/locations", self.tokens[user], json.dumps({"pings": pings}).encode()
            )
            try:
                status, _body = self.bench.send(self.port, raw)  # type: ignore[attr-defined]
            except OSError:
                status = 0
            with self.lock:
                self.answers.append((time.monotonic(), status))
                if status == 200:
                    self.acknowledged.extend((user, p["recorded_at"]) for p in pings)
            if status != 200:
                time.sleep(0.05)  # a phone backs off a little, then sends newer pings


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def run(args: argparse.Namespace) -> int:
    import psycopg

    from fieldapi.db import utcnow

    bench = fault_kit.load_bench()
    with fault_kit.scratch_database("fieldapi-fault-db-", port_base=40000) as scratch:
        url, dsn, workdir, cluster = scratch.url, scratch.dsn, scratch.workdir, scratch.cluster
        plan = bench.Plan(args.clients * 2, 0, 0, args.clients, 0)  # type: ignore[attr-defined]
        fleet = bench.seed(url, plan, utcnow())  # type: ignore[attr-defined]
        secret_key = secrets.token_urlsafe(32)
        env = dict(
            os.environ,
            FIELDAPI_ENV="production",
            SECRET_KEY=secret_key,
            DATABASE_URL=url,
            PUBLIC_BASE_URL="http://127.0.0.1",
            SMS_TRANSPORT="twilio",
            TWILIO_AUTH_TOKEN="faults",
            FIELDAPI_VAR_DIR=str(workdir / "var"),
        )
        port = bench.free_port()  # type: ignore[attr-defined]
        api = [sys.executable, "-m", "fieldapi.cli", "serve", "--host", "127.0.0.1"]
        log = workdir / "api.log"
        with bench.server([*api, "--port", str(port)], port, env, log):  # type: ignore[attr-defined]
            master = next(
                int(p.name)
                for p in Path("/proc").iterdir()
                if p.name.isdigit() and f"--port\0{port}".encode() in (p / "cmdline").read_bytes()
            )
            workers_before = children(master)
            tokens = bench.issue_tokens(url, secret_key, fleet.technician_ids)  # type: ignore[attr-defined]
            load = Load(bench, port, tokens, utcnow() - timedelta(hours=1))
            threads = [
                threading.Thread(
                    target=load.client,
                    args=(n, fleet.technician_ids[n :: args.clients]),
                    daemon=True,
                )
                for n in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            time.sleep(args.steady)
            restart_at = time.monotonic()
            cluster.stop()  # pg_ctl stop -m fast, then start: what `pg_ctl restart` does
            cluster.start()
            back_after_restart = time.monotonic()
            time.sleep(args.steady)
            cluster.stop()
            down_at = time.monotonic()
            time.sleep(args.outage)
            cluster.start()
            up_at = time.monotonic()
            time.sleep(args.steady)
            load.stopping.set()
            for thread in threads:
                thread.join(timeout=120)
            workers_after = children(master)

        with psycopg.connect(dsn) as conn:
            conn.execute("CREATE TEMP TABLE acked (user_id uuid, recorded_at timestamptz)")
            with conn.cursor().copy("COPY acked FROM STDIN") as copy:
                for user, at in load.acknowledged:
                    copy.write_row((user, at))
            found = conn.execute(
                "SELECT count(*) FROM acked a WHERE EXISTS (SELECT 1 FROM location_pings p "
                "WHERE p.user_id = a.user_id AND p.recorded_at = a.recorded_at)"
            ).fetchone()[0]
        acknowledged = len(load.acknowledged)
        lost = acknowledged - found
        restarted = len(workers_before - workers_after)

        def during(start: float, end: float) -> collections.Counter[int]:
            return collections.Counter(s for t, s in load.answers if start <= t <= end)

        def first_ok_after(moment: float) -> float:
            return next((t - moment for t, s in load.answers if t >= moment and s == 200), -1.0)

        restart_answers = during(restart_at, back_after_restart + 0.5)
        outage_answers = during(down_at, up_at)
        recover_restart = first_ok_after(back_after_restart)
        recover_outage = first_ok_after(up_at)
        show = lambda c: ", ".join(f"{n} x {s or 'no answer'}" for s, n in sorted(c.items())) or "-"  # noqa: E731
        print(
            f"fault_database: {args.clients} clients, one ping and {BATCH}-ping batches "
            f"alternated, a fast restart then a {args.outage:.0f}-second outage\n"
            f"  acknowledged pings      {acknowledged:>9,}\n"
            f"  found in the database   {found:>9,}\n"
            f"  lost                    {lost:>9,}   (target 0)\n"
            f"  answers in the restart  {show(restart_answers)}\n"
            f"  answers in the outage   {show(outage_answers)}\n"
            f"  first 200 after restart {recover_restart:>9.2f} s\n"
            f"  first 200 after outage  {recover_outage:>9.2f} s\n"
            f"  API processes restarted {restarted:>9}   (target 0)",
            flush=True,
        )
        ok = acknowledged > 0 and lost == 0 and restarted == 0 and recover_outage >= 0
        print(f"fault_database: {'OK' if ok else 'MISSED'}", flush=True)
        return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
