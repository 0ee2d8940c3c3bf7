"""The worker's periodic work: each capability's job, registered here in the order they
run, and `fieldapi worker`, the process that runs them beside the outbox sender.

A capability offers its job as a plain function of `(db, now, config)` and adds one
`PeriodicJob` line to `JOBS`; every worker runs all of them every
WORKER_MAINTENANCE_MINUTES. Each job is safe to run from many workers at once.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fieldapi.accounts.passcodes import prune_passcode_records
from fieldapi.accounts.sessions import prune_used_refresh_tokens
from fieldapi.db import make_engine, resolve_database_url
from fieldapi.idempotency import prune_expired_keys
from fieldapi.jobs.photo_sweep import sweep_orphan_photos
from fieldapi.locations import maintenance as location_maintenance
from fieldapi.messaging.delivery import purge_unmatched_callbacks
from fieldapi.messaging.worker import Worker, WorkerSettings, transport_from_config
from fieldapi.storage import photo_store

log = logging.getLogger(__name__)

Config = Mapping[str, Any]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    run: Callable[[Session, datetime, Config], object]


def _sweep_photos(db: Session, now: datetime, config: Config) -> None:
    grace = timedelta(minutes=int(config["PHOTO_ORPHAN_GRACE_MINUTES"]))
    sweep_orphan_photos(db, photo_store(config), now=now, grace=grace)


JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob(
        "forget unmatched delivery callbacks", lambda db, now, _: purge_unmatched_callbacks(db, now)
    ),
    PeriodicJob("prune passcode records", lambda db, now, _: prune_passcode_records(db, now=now)),
    PeriodicJob(
        "prune used refresh tokens", lambda db, now, _: prune_used_refresh_tokens(db, now=now)
    ),
    PeriodicJob(
        "prune expired idempotency keys", lambda db, now, _: prune_expired_keys(db, now=now)
    ),
    PeriodicJob(
        "location partitions and stale positions",
        lambda db, now, _: location_maintenance.run_periodic_maintenance(db, now),
    ),
    PeriodicJob("sweep orphan photo files", _sweep_photos),
)


def periodic_work(db: Session, now: datetime, config: Config) -> None:
    """Run every job in `JOBS` in order, committing after each."""
    for job in JOBS:
        job.run(db, now, config)
        db.commit()


def run_worker(once: bool = False) -> None:
    """The `fieldapi worker` process: DATABASE_URL and the settings from the environment."""
    import fieldapi.models  # noqa: F401  (every mapper, for the foreign keys between them)
    from fieldapi.config import load_config

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("fieldapi").setLevel(logging.INFO)
    config = load_config()
    settings = WorkerSettings.from_config(config)
    if config["SMS_TRANSPORT"] == "twilio" and settings.lease_s <= config["TWILIO_TIMEOUT_SECONDS"]:
        log.warning("SMS_LEASE_SECONDS should be above TWILIO_TIMEOUT_SECONDS")
    transport = transport_from_config(config)
    engine: Engine = make_engine(resolve_database_url(config["DATABASE_URL"]), pool_size=2)
    worker = Worker(
        sessionmaker(bind=engine, expire_on_commit=False),
        transport,
        settings,
        maintenance=lambda db, now: periodic_work(db, now, config),
    )

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info(
            "worker %s: %s, finishing the text in hand", worker.name, signal.Signals(signum).name
        )
        worker.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        worker.run(once=once)
    finally:
        close = getattr(transport, "close", None)
        if close is not None:
            close()
        engine.dispose()
