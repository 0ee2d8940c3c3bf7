"""fault_enumeration: does POST /v1/auth/passcode take longer for a registered number?

Starts its own throwaway PostGIS cluster, registers `--pairs` active users, then asks a
passcode for one registered and one unknown number in turn (which goes first alternates),
each number once, through the app in this process: the time measured is the server's own
work, which network noise can hide from an attacker but never remove. Prints the median
of the differences (registered minus unknown) with its 95 % distribution-free interval,
and exits 1 when the interval excludes zero, i.e. when the timing tells who is registered.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/fault_enumeration", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--pairs", type=int, default=200, help="at least 200 for the verdict")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--floor-ms",
        type=int,
        default=None,
        help="PASSCODE_ANSWER_FLOOR_MS for this run (default: the app's default); 0 shows "
        "the difference the floor hides",
    )
    return parser.parse_args(argv)


def median_interval(differences: Sequence[float]) -> tuple[float, float, float]:
    """The median and its 95 % interval from order statistics (the sign test's), which
    assumes nothing about the shape of the distribution."""
    ordered = sorted(differences)
    n = len(ordered)
    k = max(0, math.floor(n / 2 - 1.96 * math.sqrt(n) / 2))
    return statistics.median(ordered), ordered[k], ordered[n - 1 - k]


def phone_number(n: int) -> str:
    return f"+1312{2 + n // 10000 % 8}{n // 100 % 100:02d}{n % 10000:04d}"


def build_app(url: str, floor_ms: int | None) -> Any:
    from fieldapi.app import create_app

    config: dict[str, Any] = {
        "FIELDAPI_ENV": "test",
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "SMS_TRANSPORT": "console",
        "RATELIMIT_ENABLED": False,  # one address asks for every number here
        "PASSCODE_TEXTS_PER_HOUR": 100_000,
    }
    if floor_ms is not None:
        config["PASSCODE_ANSWER_FLOOR_MS"] = floor_ms
    return create_app(config)


def register(app: Any, phones: Sequence[str]) -> None:
    from fieldapi.accounts.models import User
    from fieldapi.accounts.organizations import create_organization
    from fieldapi.db import database

    with database(app).sessions() as db:
        organization, _owner = create_organization(
            db, name="Timing Test Co", owner_name="Owner", owner_phone=phone_number(0)
        )
        for n, phone in enumerate(phones):
            db.add(
                User(
                    id=uuid.uuid4(),
                    organization_id=organization.id,
                    name=f"Technician {n}",
                    phone=phone,
                    role="technician",
                    active=True,
                )
            )
        db.commit()


def timed_request(client: Any, phone: str) -> float:
    started = time.perf_counter()
    response = client.post("/v1/auth/passcode", json={"phone": phone})
    elapsed = time.perf_counter() - started
    if response.status_code != 202:
        raise SystemExit(f"{phone}: {response.status_code} {response.get_data(as_text=True)}")
    return elapsed * 1000


def measure(app: Any, pairs: int, warmup: int) -> tuple[list[float], list[float]]:
    """(registered, unknown) times in ms, pair by pair."""
    client = app.test_client()
    registered = [phone_number(1000 + n) for n in range(pairs + warmup)]
    unknown = [phone_number(50_000 + n) for n in range(pairs + warmup)]
    register(app, registered)
    for n in range(warmup):
        timed_request(client, registered[n])
        timed_request(client, unknown[n])
    known_times, unknown_times = [], []
    for n in range(warmup, warmup + pairs):
        if n % 2:
            known_ms = timed_request(client, registered[n])
            unknown_ms = timed_request(client, unknown[n])
        else:
            unknown_ms = timed_request(client, unknown[n])
            known_ms = timed_request(client, registered[n])
        known_times.append(known_ms)
        unknown_times.append(unknown_ms)
    return known_times, unknown_times


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from fieldapi.localdb import LocalCluster
    from fieldapi.migrations import upgrade

    root = Path(tempfile.mkdtemp(prefix="fieldapi-timing-"))
    root.chmod(0o755)
    cluster = LocalCluster(root=root / "pg", port=50000 + os.getpid() % 5000, fast_and_unsafe=True)
    try:
        url = cluster.ensure("fieldapi_timing")
        upgrade(url)
        app = build_app(url, args.floor_ms)
        known_times, unknown_times = measure(app, args.pairs, args.warmup)
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)

    differences = [k - u for k, u in zip(known_times, unknown_times, strict=True)]
    median, low, high = median_interval(differences)
    floor = app.config["PASSCODE_ANSWER_FLOOR_MS"]
    print(f"pairs: {len(differences)}   PASSCODE_ANSWER_FLOOR_MS: {floor}")
    print(
        f"registered minus unknown, median: {median:+.3f} ms   95 % interval: "
        f"[{low:+.3f}, {high:+.3f}] ms"
    )
    print(f"mean of the differences: {statistics.fmean(differences):+.3f} ms")
    print(
        f"median time, registered: {statistics.median(known_times):.3f} ms, "
        f"unknown: {statistics.median(unknown_times):.3f} ms"
    )
    leaks = not (low <= 0 <= high)
    print(
        "verdict: the timing tells registered numbers apart"
        if leaks
        else "verdict: no difference the interval can tell from zero"
    )
    return 1 if leaks or len(differences) < 200 else 0


if __name__ == "__main__":
    sys.exit(main())
