"""bench_nearest: the nearest-technicians statement with its GiST index against the same
statement without it, measured in the same run.

Starts its own throwaway PostGIS cluster (Unix socket only), loads an organization of
10,000 on-duty technicians spread over the Chicago area (and other organizations around
it), then times the statement of GET /v1/dispatch/nearest for random places: (a) as
migrated, a KNN walk of ix_latest_locations_organization_id_position that stops at the
shortlist, (b) the same statement after DROP INDEX inside a transaction that is rolled
back (so a scan of the organization's rows and a sort). Both must answer the same
technicians. Prints the medians and (b)/(a); exits 1 when (b)/(a) is below the target.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import seed_positioned_team

TARGET = 3.0  # (b)/(a): the index must make the statement at least this much faster
CHICAGO = (41.8781, -87.6298)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench_nearest", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--technicians", type=int, default=10_000)
    parser.add_argument("--other-organizations", type=int, default=20)
    parser.add_argument("--per-other", type=int, default=500, help="technicians each")
    parser.add_argument("--runs", type=int, default=200, help="statements per variant")
    return parser.parse_args(argv)


def timed(session: Any, statement: Any, places: list[dict[str, Any]]) -> tuple[float, list[Any]]:
    answers, seconds = [], []
    for params in places:
        start = time.perf_counter()
        rows = session.execute(statement, params).all()
        seconds.append(time.perf_counter() - start)
        answers.append([row[2] for row in rows])
    return statistics.median(seconds), answers


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from fieldapi.db import make_engine, utcnow
    from fieldapi.localdb import LocalCluster
    from fieldapi.locations.nearest import NEAREST_SQL, Place, nearest_params
    from fieldapi.migrations import upgrade

    workdir = Path(tempfile.mkdtemp(prefix="fieldapi-bench-nearest-"))
    workdir.chmod(0o755)  # the cluster's owner (postgres, when we are root) must enter it
    cluster = LocalCluster(
        root=workdir / "pg", port=45000 + os.getpid() % 5000, fast_and_unsafe=True
    )
    try:
        url = cluster.ensure("bench")
        upgrade(url)
        engine = make_engine(url)
        rng = random.Random(15)
        with Session(engine) as session:
            org, _owner = seed_positioned_team(session, 0, args.technicians, *CHICAGO)
            for n in range(1, args.other_organizations + 1):
                seed_positioned_team(session, n, args.per_other, *CHICAGO)
            session.execute(text("ANALYZE users"))
            session.execute(text("ANALYZE latest_locations"))
            session.commit()
            now = utcnow()
            places = [
                nearest_params(
                    org,
                    Place(CHICAGO[0] + rng.uniform(-0.3, 0.3), CHICAGO[1] + rng.uniform(-0.4, 0.4)),
                    now=now,
                    max_age=timedelta(minutes=15),
                    limit=10,
                )
                for _ in range(args.runs)
            ]
            statement = text(NEAREST_SQL)
            timed(session, statement, places[:10])  # warm the caches
            with_index, indexed_answers = timed(session, statement, places)
            session.commit()
            session.execute(text("DROP INDEX ix_latest_locations_organization_id_position"))
            timed(session, statement, places[:10])
            without_index, plain_answers = timed(session, statement, places)
            session.rollback()
        engine.dispose()
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    same = indexed_answers == plain_answers
    ratio = without_index / with_index
    print(
        f"bench_nearest: {args.technicians:,} technicians in the organization, "
        f"{args.other_organizations * args.per_other:,} in {args.other_organizations} others; "
        f"{args.runs} places, 10 nearest each"
    )
    print(f"  (a) KNN walk of the GiST index   median {with_index * 1000:8.2f} ms")
    print(f"  (b) same statement, no index     median {without_index * 1000:8.2f} ms")
    print(f"  (b)/(a) = {ratio:.1f} (target >= {TARGET:g}); same answers: {same}")
    return 0 if same and ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
