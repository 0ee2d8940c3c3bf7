"""`fieldapi status`: the checks an operator runs, each proven to fail when its part stops."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization
from fieldapi.db import utcnow
from fieldapi.locations.partitions import ensure_partitions
from fieldapi.messaging.models import Message
from fieldapi.messaging.outbox import queue_message
from fieldapi.onboarding import create_organization
from fieldapi.status import check_outbox, check_partitions, check_schema
from tests.conftest import unique_phone
from tests.test_cli import run_cli

FIVE_MINUTES = timedelta(minutes=5)


def queue_text(db: Session, organization: Organization, to: str | None = None) -> Message:
    message = queue_message(
        db,
        organization_id=organization.id,
        to=to or unique_phone(),
        body="Sam is on the way.",
        purpose="on_my_way",
        allowed_regions=("US",),
    )
    db.flush()
    return message


def test_the_schema_check_names_the_missing_migration(db: Session) -> None:
    assert check_schema(db).ok

    db.execute(text("UPDATE alembic_version SET version_num = '0006_something_older'"))

    check = check_schema(db)
    assert not check.ok
    assert "0006_something_older" in check.detail and "fieldapi db upgrade" in check.detail


def test_a_text_due_longer_than_the_limit_fails_the_outbox(
    db: Session, make_org: Callable[..., Organization]
) -> None:
    message = queue_text(db, make_org())
    due = message.next_attempt_at

    assert check_outbox(db, due + timedelta(minutes=4), overdue_after=FIVE_MINUTES).ok
    late = check_outbox(db, due + timedelta(minutes=6), overdue_after=FIVE_MINUTES)
    assert not late.ok
    assert "waited 6 min" in late.detail and "1 queued" in late.detail


def test_a_text_not_yet_due_is_not_overdue(
    db: Session, make_org: Callable[..., Organization]
) -> None:
    message = queue_text(db, make_org())
    message.next_attempt_at = utcnow() + timedelta(hours=1)  # a retry, backing off
    db.flush()

    check = check_outbox(db, utcnow() + timedelta(minutes=30), overdue_after=FIVE_MINUTES)
    assert check.ok
    assert "1 queued" in check.detail and "none overdue" in check.detail


def test_a_lapsed_send_lease_fails_the_outbox(
    db: Session, make_org: Callable[..., Organization]
) -> None:
    message = queue_text(db, make_org())
    now = utcnow()
    message.status, message.leased_by = "sending", "dead-worker"
    message.lease_until = now - timedelta(minutes=20)
    message.next_attempt_at = now  # so only the lease can make it overdue
    db.flush()

    check = check_outbox(db, now, overdue_after=FIVE_MINUTES)
    assert not check.ok
    assert "waited 20 min" in check.detail


def finished_texts(
    db: Session,
    organization: Organization,
    statuses: list[str],
    *,
    start: datetime,
    to: str | None = None,
) -> None:
    """Texts that left the outbox, queued a second apart from `start` (the last is newest)."""
    for n, status in enumerate(statuses):
        message = queue_text(db, organization, to=to)
        message.status, message.queued_at = status, start + timedelta(seconds=n)
        if status == "failed":
            message.error_code, message.error_message = 20003 + n, f"Authenticate ({n})"
    db.flush()


def test_a_few_failed_texts_are_reported_not_failed_on(
    db: Session, make_org: Callable[..., Organization]
) -> None:
    now = utcnow()
    statuses = ["delivered"] * 6 + ["failed", "undelivered", "failed", "sent"]
    finished_texts(db, make_org(), statuses, start=now - timedelta(hours=1))

    check = check_outbox(db, now, overdue_after=FIVE_MINUTES)
    assert check.ok
    assert check.detail.startswith("0 queued, 2 of the latest 10 texts failed")


def test_most_of_the_latest_texts_failing_fails_the_outbox(
    db: Session, make_org: Callable[..., Organization]
) -> None:
    now = utcnow()
    organization = make_org()
    # Yesterday's failures are past; of the latest texts, 5 of 8 failed.
    finished_texts(db, organization, ["failed"] * 20, start=now - timedelta(days=2))
    statuses = ["delivered", "failed", "delivered", "failed", "failed", "sent", "failed", "failed"]
    finished_texts(db, organization, statuses, start=now - timedelta(minutes=30))

    check = check_outbox(db, now, overdue_after=FIVE_MINUTES)
    assert not check.ok
    assert check.detail.startswith("0 queued, 5 of the latest 8 texts failed")
    assert "20010: Authenticate (7)" in check.detail  # the newest failure
    assert "TWILIO_" in check.detail


def test_partitions_ahead_pass_and_missing_ones_fail(db: Session) -> None:
    now = utcnow()
    ensure_partitions(db, now, retention_days=60)

    assert check_partitions(db, now, retention_days=60).ok
    # Three weeks on, without the worker: less than a week of partitions is left.
    later = check_partitions(db, now + timedelta(weeks=3), retention_days=60)
    assert not later.ok
    assert "covered only until" in later.detail
    # Years on: nothing holds the pings of that moment.
    far = check_partitions(db, now + timedelta(days=3000), retention_days=60)
    assert not far.ok
    assert "no partition holds pings recorded now" in far.detail


def test_partitions_past_retention_fail(db: Session) -> None:
    now = utcnow()
    ensure_partitions(db, now, retention_days=60)
    later = now + timedelta(days=200)
    ensure_partitions(db, later, retention_days=60)  # the worker created, but never dropped

    check = check_partitions(db, later, retention_days=60)
    assert not check.ok
    assert "past the retention of 60 days" in check.detail
    assert "covered only" not in check.detail


def test_the_command_exits_1_and_names_what_failed(database_url: str, committed: Session) -> None:
    ensure_partitions(committed, utcnow(), retention_days=60)
    committed.commit()

    # As a monitoring host runs it: production, with none of the service's secrets.
    healthy = run_cli(database_url, "status", FIELDAPI_ENV="production", SECRET_KEY="")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert [line.split()[:2] for line in healthy.stdout.splitlines()] == [
        ["ok", "schema"],
        ["ok", "outbox"],
        ["ok", "partitions"],
    ]

    organization, _owner = create_organization(
        committed, name="Status Co", owner_name="Ann Lee", owner_phone=unique_phone()
    )
    message = queue_text(committed, organization)
    message.next_attempt_at = utcnow() - timedelta(minutes=30)
    committed.commit()

    stalled = run_cli(database_url, "status", "--json")
    assert stalled.returncode == 1
    assert {check["name"]: check["ok"] for check in json.loads(stalled.stdout)} == {
        "schema": True,
        "outbox": False,
        "partitions": True,
    }
    assert stalled.stderr.strip() == "fieldapi status: 1 check(s) failed: outbox"


def test_one_customer_s_number_failing_again_and_again_is_not_the_deployment(
    db: Session, make_org: Callable[..., Organization]
) -> None:
    now = utcnow()
    landline = unique_phone()
    finished_texts(db, make_org(), ["failed"] * 8, start=now - timedelta(minutes=30), to=landline)

    check = check_outbox(db, now, overdue_after=FIVE_MINUTES)
    assert check.ok
    assert check.detail.startswith("0 queued, 8 of the latest 8 texts failed")


def test_a_new_team_whose_first_texts_all_fail_fails_the_outbox(
    db: Session, make_org: Callable[..., Organization]
) -> None:
    now = utcnow()
    organization = make_org()
    for n in range(4):  # the owner's passcode and three invites, to four numbers
        finished_texts(
            db, organization, ["failed"], start=now - timedelta(minutes=10 - n), to=unique_phone()
        )

    check = check_outbox(db, now, overdue_after=FIVE_MINUTES)
    assert not check.ok
    assert check.detail.startswith("0 queued, 4 of the latest 4 texts failed")
