"""`fieldapi status`: is the deployment doing its work, beyond "the database answers"?

For whoever runs the service, from a shell or a monitor. /readyz says the API can reach
the database; these checks say whether the parts nobody watches are working: the schema
is at the newest migration, a worker is sending the texts that are due and Twilio takes
them, and the worker's periodic job keeps the ping history's partitions ahead and past
ones dropped. Each reads a few rows through indexes, so a monitor may run it every minute.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.locations.partitions import Partition, list_partitions
from fieldapi.migrations import current_revisions, head_revisions

# The worker keeps three weeks of partitions ahead; under one week left, its periodic job
# has not run for two weeks.
PARTITIONS_AHEAD_AT_LEAST = timedelta(weeks=1)
# Dropping is retried every run when the table is busy; a day late means it is not running.
DROP_LATE_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name:<10}  {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_schema(db: Session) -> Check:
    current, heads = current_revisions(db.connection()), head_revisions()
    if current == heads:
        return Check("schema", True, f"at the newest migration ({', '.join(sorted(heads))})")
    return Check(
        "schema",
        False,
        f"at {', '.join(sorted(current)) or 'no migration'}, the code expects "
        f"{', '.join(sorted(heads))}: run `fieldapi db upgrade`",
    )


_OUTBOX = text(
    """
    SELECT
      (SELECT count(*) FROM messages WHERE status = 'queued') AS queued,
      (SELECT min(next_attempt_at) FROM messages
        WHERE status = 'queued' AND next_attempt_at <= :now) AS oldest_due,
      (SELECT min(lease_until) FROM messages
        WHERE status = 'sending' AND lease_until < :now) AS oldest_lapsed_lease
    """
)
# The outcomes of the latest texts that left the outbox, newest first (ix_messages_queued_at).
_LATEST_OUTCOMES = text(
    """
    SELECT status, to_phone, error_code, error_message FROM messages
    WHERE queued_at > :since AND status IN ('sent', 'delivered', 'undelivered', 'read', 'failed')
    ORDER BY queued_at DESC LIMIT :latest
    """
)
LATEST_TEXTS = 50
# Most of the latest texts failing, to several numbers, is the deployment's problem
# (credentials, account, sender), not the customers': passcodes stop reaching anyone. One
# customer's landline failing five times is not; a new team's first four texts are enough.
FAILING_SHARE = 0.5
FAILING_NUMBERS = 5
FAILING_NUMBERS_AT_LEAST = 2


def check_outbox(db: Session, now: datetime, *, overdue_after: timedelta) -> Check:
    """Fails when a text has been due (or its sender's lease lapsed) for `overdue_after`:
    no worker is sending; or when at least half of the latest texts failed, to 5 numbers (or
    every number texted, when fewer, but at least 2): Twilio refuses them."""
    row = db.execute(_OUTBOX, {"now": now}).one()
    waits = [now - moment for moment in (row.oldest_due, row.oldest_lapsed_lease) if moment]
    longest = max(waits, default=timedelta(0))
    latest = db.execute(
        _LATEST_OUTCOMES, {"since": now - timedelta(days=1), "latest": LATEST_TEXTS}
    ).all()
    failed = [outcome for outcome in latest if outcome.status == "failed"]
    summary = f"{row.queued} queued, {len(failed)} of the latest {len(latest)} texts failed"
    if longest > overdue_after:
        return Check(
            "outbox",
            False,
            f"a text has waited {_duration(longest)} past its time: is `fieldapi worker` "
            f"running? ({summary})",
        )
    failing_numbers = {outcome.to_phone for outcome in failed}
    numbers = {outcome.to_phone for outcome in latest}
    enough = max(FAILING_NUMBERS_AT_LEAST, min(FAILING_NUMBERS, len(numbers)))
    if len(failing_numbers) >= enough and len(failed) >= FAILING_SHARE * len(latest):
        newest = failed[0]
        return Check(
            "outbox",
            False,
            f"{summary}, the newest with {newest.error_code or 'no code'}: "
            f"{newest.error_message}: check the Twilio account and the TWILIO_* settings",
        )
    overdue = f"longest wait {_duration(longest)}" if waits else "none overdue"
    return Check("outbox", True, f"{summary}, {overdue}")


def check_partitions(db: Session, now: datetime, *, retention_days: int) -> Check:
    """Fails when the ping history has no partition for a week from now, or keeps one a day
    past the retention window: the worker's periodic job is not running."""
    partitions = list_partitions(db)
    covered_until = _covered_until(partitions, now)
    cutoff = now - timedelta(days=retention_days)
    expired = [p.name for p in partitions if p.end <= cutoff - DROP_LATE_AFTER]
    problems = []
    if covered_until < now + PARTITIONS_AHEAD_AT_LEAST:
        problems.append(
            f"pings are covered only until {covered_until:%Y-%m-%d %H:%M} UTC"
            if covered_until > now
            else "no partition holds pings recorded now"
        )
    if expired:
        problems.append(f"{len(expired)} past the retention of {retention_days} days")
    if problems:
        return Check(
            "partitions",
            False,
            f"{'; '.join(problems)}: is `fieldapi worker` running its periodic work?",
        )
    return Check(
        "partitions",
        True,
        f"{len(partitions)} weekly, pings covered until {covered_until:%Y-%m-%d}",
    )


def _covered_until(partitions: list[Partition], now: datetime) -> datetime:
    """The end of the unbroken run of partitions that holds `now`; `now` if none does."""
    by_start = {p.start: p.end for p in partitions}
    start = next((p.start for p in partitions if p.start <= now < p.end), None)
    if start is None:
        return now
    end = by_start[start]
    while end in by_start:
        end = by_start[end]
    return end


def deployment_status(
    db: Session, now: datetime, *, overdue_after: timedelta, retention_days: int
) -> list[Check]:
    return [
        check_schema(db),
        check_outbox(db, now, overdue_after=overdue_after),
        check_partitions(db, now, retention_days=retention_days),
    ]


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"
