"""fault_texts: the outbox under a flaky Twilio and a worker killed mid-send.

Starts its own throwaway PostGIS cluster (Unix socket only), the Twilio fake on 127.0.0.1
answering a share of the sends with 500 at random, and two `fieldapi worker` processes;
queues the texts, and once a third are sent makes Twilio accept the next two sends but hold
their answers: both workers are then mid-send of a text Twilio already has, and one is
SIGKILLed. Prints queued, sent, failed, lost, sent twice; exits 1 unless lost and sent
twice are 0 and every text ended within the time bound.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import fault_kit  # noqa: E402
from fault_kit import wait_for, worker  # noqa: E402

LEASE_S = 3.0
TWILIO_TIMEOUT_S = 2.5
HELD_ANSWER_S = 1.5  # < the timeout: the client gets its answer; < the lease: no take-over


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/fault_texts", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--texts", type=int, default=300, help="texts to queue (10 to 5,000)")
    parser.add_argument(
        "--failure-rate", type=float, default=0.3, help="share of sends Twilio answers 500"
    )
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds for the texts")
    args = parser.parse_args(argv)
    args.texts = max(10, min(args.texts, 5000))
    return args


def counts(dsn: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT status, count(*) FROM messages GROUP BY status").fetchall()
    return {str(status): int(count) for status, count in rows}


def run(args: argparse.Namespace) -> int:
    import psycopg
    from sqlalchemy.orm import Session

    from fieldapi.db import make_engine
    from fieldapi.messaging.outbox import queue_message
    from fieldapi.messaging.twilio_fake import FakeTwilio
    from fieldapi.onboarding import create_organization

    processes: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as cleanup:
        scratch = cleanup.enter_context(
            fault_kit.scratch_database("fieldapi-fault-texts-", port_base=45000, fast=True)
        )
        cleanup.callback(fault_kit.stop, processes)  # the workers go before the database
        url, dsn, workdir = scratch.url, scratch.dsn, scratch.workdir
        engine = make_engine(url)
        with Session(engine) as db:
            organization, _owner = create_organization(
                db,
                name="Fault Plumbing",
                owner_name="Dana Reyes",
                owner_phone="+13125550100",
                timezone="America/Chicago",
            )
            for n in range(args.texts):
                queue_message(
                    db,
                    organization_id=organization.id,
                    to=f"+1312{6000000 + n}",
                    body=f"Fault text {n}: Sam is on the way.",
                    purpose="on_my_way",
                    allowed_regions=("US",),
                )
            db.commit()
        engine.dispose()

        with FakeTwilio() as fake:
            fake.set_fail_rate(args.failure_rate, status=500, seed=16)
            env = dict(os.environ)
            env.update(fake.env())
            env.update(
                DATABASE_URL=url,
                FIELDAPI_ENV="test",
                SECRET_KEY="fault-texts-" + "x" * 40,
                FIELDAPI_VAR_DIR=str(workdir / "var"),
                PUBLIC_BASE_URL="http://127.0.0.1:9",
                WORKER_POLL_SECONDS="0.05",
                WORKER_MAINTENANCE_MINUTES="0",
                SMS_LEASE_SECONDS=str(LEASE_S),
                TWILIO_TIMEOUT_SECONDS=str(TWILIO_TIMEOUT_S),
                SMS_RETRY_BASE_SECONDS="0.2",
                SMS_RETRY_MAX_SECONDS="1",
                SMS_MAX_ATTEMPTS="25",
                PYTHONUNBUFFERED="1",
            )
            started = time.monotonic()
            # extended, not rebound: the cleanup above holds this very list
            processes.extend(worker(env, workdir / f"worker-{n}.log") for n in range(2))
            third = args.texts // 3
            if not wait_for(lambda: counts(dsn).get("sent", 0) >= third, args.timeout):
                print("fault_texts: a third of the texts were not sent in time", flush=True)
                return 1
            fake.slow_answer_next(HELD_ANSWER_S, times=2)
            killed = wait_for(lambda: fake.answers_held == 2, 30.0)
            victim = processes[0]
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            print(
                f"fault_texts: worker {victim.pid} SIGKILLed "
                f"{'holding a text Twilio had accepted' if killed else 'mid-run'}",
                flush=True,
            )

            def ended() -> bool:
                now = counts(dsn)
                return now.get("queued", 0) + now.get("sending", 0) == 0

            finished = wait_for(ended, args.timeout)
            elapsed = time.monotonic() - started
            final = counts(dsn)
            at_twilio = collections.Counter(m.body for m in fake.messages)
            sids = {m.sid for m in fake.messages}
        with psycopg.connect(dsn) as conn:
            stored_sids = {
                row[0]
                for row in conn.execute("SELECT twilio_sid FROM messages WHERE status = 'sent'")
            }
        sent, failed = final.get("sent", 0), final.get("failed", 0)
        lost = args.texts - sent - failed - final.get("blocked", 0)
        twice = sum(n - 1 for n in at_twilio.values() if n > 1)
        unknown_sids = len(stored_sids - sids)
        print(
            f"fault_texts: {args.texts} queued, 2 workers (one SIGKILLed), "
            f"{args.failure_rate:.0%} of sends answered 500, lease {LEASE_S:.0f} s\n"
            f"  queued       {args.texts:>6}\n"
            f"  sent         {sent:>6}\n"
            f"  failed       {failed:>6}\n"
            f"  lost         {lost:>6}   (target 0)\n"
            f"  sent twice   {twice:>6}   (target 0)\n"
            f"  SIDs unknown to Twilio {unknown_sids:>3}   (target 0)\n"
            f"  seconds      {elapsed:>6.1f}",
            flush=True,
        )
        ok = finished and killed and lost == 0 and twice == 0 and unknown_sids == 0
        print(f"fault_texts: {'OK' if ok else 'MISSED'}", flush=True)
        return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
