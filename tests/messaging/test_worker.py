"""The worker in process: claims, sends through the real Twilio client to the local fake,
retries, gives up, blocks opted-out numbers, takes over expired leases."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization
from fieldapi.db import utcnow
from fieldapi.jobs.models import Job
from fieldapi.messaging.delivery import CallbackResult, receive_status_callback
from fieldapi.messaging.models import Message, OptOut, PendingStatusCallback, StatusCallback
from fieldapi.messaging.transports import (
    ConsoleTransport,
    SendResult,
    TransientSendError,
    TwilioTransport,
)
from fieldapi.messaging.twilio_fake import TEST_ACCOUNT_SID, TEST_FROM_NUMBER, FakeTwilio
from fieldapi.messaging.worker import (
    Worker,
    WorkerSettings,
    retry_delay,
    transport_from_config,
)
from fieldapi.periodic import periodic_work
from fieldapi.settings import SettingError
from tests.messaging.conftest import STATUS_URL, Clock, activity, reload
from tests.messaging.twilio_server import twilio_transport

Queue = Callable[..., Message]
MakeWorker = Callable[..., Worker]


def test_a_queued_text_is_sent_through_twilio_and_its_sid_recorded(
    db: Session, org: Organization, queue: Queue, make_worker: MakeWorker, fake_twilio: FakeTwilio
) -> None:
    message = queue(org, to="(415) 555-2671", body="Sam is on the way.")

    assert make_worker().run(once=True) == 1

    [sent] = fake_twilio.messages
    assert sent.params == {
        "To": "+14155552671",
        "From": TEST_FROM_NUMBER,
        "Body": "Sam is on the way.",
        "StatusCallback": STATUS_URL,
    }
    stored = reload(db, message)
    assert stored.status == "sent"
    assert stored.twilio_sid == sent.sid and re.fullmatch(r"SM[0-9a-f]{32}", sent.sid)
    assert stored.attempts == 1
    assert stored.sent_at is not None and stored.lease_until is None
    assert stored.leased_by == "worker-1"


def test_texts_go_out_oldest_first_and_only_when_due(
    db: Session, org: Organization, queue: Queue, make_worker: MakeWorker, fake_twilio: FakeTwilio
) -> None:
    first = queue(org, body="first")
    second = queue(org, body="second")
    later = queue(org, body="later")
    later.next_attempt_at = utcnow() + timedelta(hours=1)
    db.commit()

    make_worker().run(once=True)

    assert [m.body for m in fake_twilio.messages] == ["first", "second"]
    assert reload(db, first).status == reload(db, second).status == "sent"
    assert reload(db, later).status == "queued"


@pytest.mark.parametrize(
    ("failure", "expected_code"),
    [({"status": 500}, 20500), ({"status": 503}, 20503), ({"status": 429}, 20429)],
)
def test_a_transient_failure_is_retried_later_with_backoff(
    db: Session,
    org: Organization,
    queue: Queue,
    make_worker: MakeWorker,
    fake_twilio: FakeTwilio,
    clock: Clock,
    failure: dict[str, Any],
    expected_code: int,
) -> None:
    message = queue(org)
    fake_twilio.fail_next(**failure)
    worker = make_worker(retry_base_s=10.0)
    before = clock()

    worker.run(once=True)

    stored = reload(db, message)
    assert stored.status == "queued" and stored.attempts == 1
    assert stored.error_code == expected_code
    assert stored.twilio_sid is None and stored.lease_until is None
    # the first retry waits between half and all of the base delay
    assert before + timedelta(seconds=5) <= stored.next_attempt_at
    assert stored.next_attempt_at <= clock() + timedelta(seconds=10)
    worker.run(once=True)  # not due yet: nothing sent
    assert fake_twilio.messages == []

    clock.advance(10)
    worker.run(once=True)

    stored = reload(db, message)
    assert stored.status == "sent" and stored.attempts == 2
    assert stored.error_code is None and stored.error_message is None
    assert [m.sid for m in fake_twilio.messages] == [stored.twilio_sid]


def test_a_429_waits_at_least_its_retry_after(
    db: Session,
    org: Organization,
    queue: Queue,
    make_worker: MakeWorker,
    fake_twilio: FakeTwilio,
    clock: Clock,
) -> None:
    message = queue(org)
    fake_twilio.fail_next(status=429, retry_after=120)
    before = clock()

    make_worker(retry_base_s=1.0).run(once=True)

    assert reload(db, message).next_attempt_at >= before + timedelta(seconds=120)


def test_timeouts_and_connection_errors_are_retried(
    db: Session,
    org: Organization,
    queue: Queue,
    make_worker: MakeWorker,
    fake_twilio: FakeTwilio,
) -> None:
    slow = queue(org, body="slow")
    fake_twilio.delay_next(3.0)
    make_worker(timeout_s=0.3).run(once=True)
    stored = reload(db, slow)
    assert stored.status == "queued" and stored.attempts == 1
    assert "timed out" in (stored.error_message or "")

    unreachable = queue(org, body="unreachable")
    nowhere = TwilioTransport(
        account_sid=TEST_ACCOUNT_SID,
        auth_token="x",
        from_number=TEST_FROM_NUMBER,
        messaging_service_sid=None,
        api_base_url="http://127.0.0.1:9",  # discard port: connection refused
        timeout_s=2.0,
    )
    with nowhere:
        make_worker(transport=nowhere).run(once=True)
    stored = reload(db, unreachable)
    assert stored.status == "queued" and stored.attempts == 1
    assert "cannot reach Twilio" in (stored.error_message or "")


def test_after_the_last_attempt_the_text_fails_and_the_job_log_says_so(
    db: Session,
    org: Organization,
    queue: Queue,
    make_job: Callable[..., Job],
    make_worker: MakeWorker,
    fake_twilio: FakeTwilio,
    clock: Clock,
) -> None:
    job = make_job(org)
    message = queue(org, job=job)
    fake_twilio.fail_next(status=500, times=3)
    worker = make_worker(max_attempts=3, retry_base_s=10.0, retry_max_s=60.0)

    for _ in range(3):
        worker.run(once=True)
        clock.advance(60)

    stored = reload(db, message)
    assert stored.status == "failed" and stored.attempts == 3
    assert stored.error_code == 20500
    assert "Gave up after 3 tries" in (stored.error_message or "")
    assert fake_twilio.messages == []
    worker.run(once=True)  # a failed text is never picked up again
    assert reload(db, message).attempts == 3
    [event] = activity(db, job)
    assert (event.actor_kind, event.action) == ("system", "text_failed")
    assert event.details["purpose"] == "on_my_way" and event.details["to"] == message.to_phone


@pytest.mark.parametrize("code", [21211, 21614, 30006])
def test_permanent_errors_are_not_retried(
    db: Session,
    org: Organization,
    queue: Queue,
    make_worker: MakeWorker,
    fake_twilio: FakeTwilio,
    clock: Clock,
    code: int,
) -> None:
    message = queue(org)
    fake_twilio.fail_for(message.to_phone, code=code)
    worker = make_worker(max_attempts=5)

    worker.run(once=True)
    clock.advance(3600)
    worker.run(once=True)

    stored = reload(db, message)
    assert stored.status == "failed" and stored.attempts == 1
    assert stored.error_code == code
    assert db.get(OptOut, message.to_phone) is None


def test_21610_records_the_opt_out_and_blocks_the_text_and_later_ones(
    db: Session,
    org: Organization,
    queue: Queue,
    make_job: Callable[..., Job],
    make_worker: MakeWorker,
    fake_twilio: FakeTwilio,
) -> None:
    job = make_job(org)
    message = queue(org, job=job)
    fake_twilio.fail_for(message.to_phone, code=21610)

    make_worker().run(once=True)

    stored = reload(db, message)
    assert stored.status == "blocked" and stored.error_code == 21610
    assert "unsubscribed" in (stored.error_message or "")
    opt_out = db.get(OptOut, message.to_phone)
    assert opt_out is not None and (opt_out.source, opt_out.keyword) == ("twilio", "21610")
    assert opt_out.organization_id == org.id
    assert [e.action for e in activity(db, job)] == ["text_blocked"]

    fake_twilio.clear_failures()
    again = queue(org, to=message.to_phone)
    assert again.status == "blocked"
    make_worker().run(once=True)
    assert reload(db, again).status == "blocked"
    assert fake_twilio.messages == []


def test_a_number_that_opted_out_after_queueing_is_never_handed_to_the_transport(
    db: Session,
    org: Organization,
    queue: Queue,
    make_worker: MakeWorker,
    fake_twilio: FakeTwilio,
) -> None:
    message = queue(org)
    kept = queue(org)
    db.add(OptOut(phone=message.to_phone, source="reply", keyword="STOP"))
    db.commit()

    assert make_worker().run(once=True) == 1  # the blocked one is not a send

    stored = reload(db, message)
    assert stored.status == "blocked" and stored.attempts == 0
    assert stored.error_message == "The recipient opted out by replying STOP."
    assert [m.to for m in fake_twilio.messages] == [kept.to_phone]


def test_a_text_held_by_a_live_worker_is_skipped_and_an_expired_lease_is_taken_over(
    db: Session,
    org: Organization,
    queue: Queue,
    make_worker: MakeWorker,
    fake_twilio: FakeTwilio,
    clock: Clock,
) -> None:
    message = queue(org)
    first = make_worker("worker-1", lease_s=30.0)
    second = make_worker("worker-2", lease_s=30.0)
    claim = first.claim()  # worker-1 "dies" holding it
    assert claim is not None
    held = reload(db, message)
    assert (held.status, held.leased_by, held.attempts) == ("sending", "worker-1", 1)

    assert second.run(once=True) == 0  # the lease is alive
    clock.advance(31)
    assert second.run(once=True) == 1

    stored = reload(db, message)
    assert (stored.status, stored.leased_by, stored.attempts) == ("sent", "worker-2", 2)
    [sent] = fake_twilio.messages
    # worker-1 coming back late cannot overwrite what worker-2 recorded
    first._record(claim, SendResult(sid="SM" + "f" * 32, status="queued"))
    assert reload(db, message).twilio_sid == sent.sid


def test_a_text_twilio_accepted_before_its_worker_died_is_adopted_not_sent_again(
    db: Session,
    org: Organization,
    queue: Queue,
    make_worker: MakeWorker,
    fake_twilio: FakeTwilio,
    clock: Clock,
) -> None:
    earlier = queue(org, body="Your code is 111111")
    make_worker("worker-0").run(once=True)  # the same number had another text today
    message = queue(org, to=earlier.to_phone, body="Sam is on the way.")
    first = make_worker("worker-1", lease_s=30.0)
    claim = first.claim()
    assert claim is not None
    with twilio_transport(fake_twilio) as transport:  # Twilio accepts it; worker-1 dies
        accepted = transport.send(to=claim.to, body=claim.body, status_callback=None)
    clock.advance(31)

    assert make_worker("worker-2", lease_s=30.0).run(once=True) == 1

    stored = reload(db, message)
    assert (stored.status, stored.twilio_sid, stored.attempts) == ("sent", accepted.sid, 2)
    assert [m.body for m in fake_twilio.messages] == ["Your code is 111111", "Sam is on the way."]


def test_a_taken_over_text_twilio_never_got_is_sent_and_a_text_of_ours_is_not_adopted(
    db: Session,
    org: Organization,
    queue: Queue,
    make_worker: MakeWorker,
    fake_twilio: FakeTwilio,
    clock: Clock,
) -> None:
    body = "Sam is on the way."
    first_text = queue(org, body=body)
    make_worker("worker-0").run(once=True)
    message = queue(org, to=first_text.to_phone, body=body)  # the same words again, later
    assert make_worker("worker-1", lease_s=30.0).claim() is not None  # dies before Twilio
    clock.advance(31)

    assert make_worker("worker-2", lease_s=30.0).run(once=True) == 1

    stored = reload(db, message)
    assert stored.status == "sent" and stored.twilio_sid != reload(db, first_text).twilio_sid
    assert [m.sid for m in fake_twilio.messages][1] == stored.twilio_sid


def test_when_twilio_cannot_say_whether_the_last_try_went_out_the_text_waits_for_the_next_lease(
    db: Session, org: Organization, queue: Queue, make_worker: MakeWorker, clock: Clock
) -> None:
    message = queue(org)
    assert make_worker("worker-1", lease_s=30.0).claim() is not None
    clock.advance(31)
    nobody = make_worker("worker-2", transport=UnreachableTwilio(), lease_s=30.0)

    assert nobody.run(once=True) == 1

    stored = reload(db, message)
    assert (stored.status, stored.leased_by, stored.attempts) == ("sending", "worker-2", 2)
    assert stored.twilio_sid is None


class UnreachableTwilio:
    """Twilio cannot be reached: neither to send nor to list."""

    def send(self, *, to: str, body: str, status_callback: str | None) -> SendResult:
        raise TransientSendError("cannot reach Twilio")

    def sent_since(self, *, to: str, body: str, since: datetime) -> list[SendResult]:
        raise TransientSendError("cannot reach Twilio")


def test_a_text_whose_workers_keep_dying_fails_after_the_last_attempt(
    db: Session, org: Organization, queue: Queue, make_worker: MakeWorker, clock: Clock
) -> None:
    message = queue(org)
    worker = make_worker(max_attempts=2, lease_s=10.0)
    assert worker.claim() is not None
    clock.advance(11)
    assert worker.claim() is not None
    clock.advance(11)

    assert worker.claim() is None

    stored = reload(db, message)
    assert (stored.status, stored.attempts) == ("failed", 2)
    assert stored.error_message == "No worker finished sending it."


class FixedSidTransport:
    """Answers like Twilio with a SID chosen by the test."""

    def __init__(self, sid: str) -> None:
        self.sid = sid

    def send(self, *, to: str, body: str, status_callback: str | None) -> SendResult:
        return SendResult(sid=self.sid, status="queued")


def test_a_callback_that_beats_the_worker_is_applied_when_the_sid_is_recorded(
    db: Session,
    org: Organization,
    queue: Queue,
    make_job: Callable[..., Job],
    make_worker: MakeWorker,
) -> None:
    job = make_job(org)
    message = queue(org, job=job)
    sid = "SM" + "ab" * 16
    for status in ("delivered", "sent"):  # out of order, before the SID is known
        result = receive_status_callback(db, sid=sid, status=status, error_code=None, now=utcnow())
        assert result is CallbackResult.PENDING

    make_worker(transport=FixedSidTransport(sid)).run(once=True)

    stored = reload(db, message)
    assert (stored.status, stored.twilio_sid) == ("delivered", sid)
    assert stored.delivered_at is not None
    callbacks = db.scalars(select(StatusCallback).where(StatusCallback.message_sid == sid)).all()
    assert sorted((c.organization_id, c.message_id, c.status) for c in callbacks) == [
        (org.id, message.id, "delivered"),
        (org.id, message.id, "sent"),
    ]
    assert db.scalars(select(PendingStatusCallback)).all() == []
    assert [e.action for e in activity(db, job)] == ["text_delivered"]
    again = receive_status_callback(db, sid=sid, status="delivered", error_code=None, now=utcnow())
    assert again is CallbackResult.DUPLICATE


def test_the_console_transport_logs_the_text_and_marks_it_sent(
    db: Session,
    org: Organization,
    queue: Queue,
    make_worker: MakeWorker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    message = queue(org, body="123456 is your code")
    with caplog.at_level(logging.INFO, logger="fieldapi.sms"):
        make_worker(transport=ConsoleTransport()).run(once=True)
    stored = reload(db, message)
    assert stored.status == "sent" and (stored.twilio_sid or "").startswith("CONSOLE")
    assert f"SMS to {message.to_phone}: 123456 is your code" in caplog.text


def test_a_stop_request_ends_the_loop_after_the_text_in_hand(
    db: Session, org: Organization, queue: Queue, make_worker: MakeWorker
) -> None:
    first, second = queue(org), queue(org)
    worker = make_worker()

    class StopAfterSend(FixedSidTransport):
        def send(self, *, to: str, body: str, status_callback: str | None) -> SendResult:
            worker.stop()  # as SIGTERM would, mid-send
            return super().send(to=to, body=body, status_callback=status_callback)

    worker.transport = StopAfterSend("SM" + "cd" * 16)
    assert worker.run() == 1  # not once: only the stop ends it
    assert reload(db, first).status == "sent"
    assert reload(db, second).status == "queued" and reload(db, second).attempts == 0


# -- backoff --------------------------------------------------------------------------


def test_retry_delays_double_are_capped_and_jittered() -> None:
    def highest(low: float, high: float) -> float:
        return high

    def lowest(low: float, high: float) -> float:
        return low

    delays = [retry_delay(n, base_s=5, max_s=60, rand=highest) for n in range(1, 7)]
    assert delays == [5, 10, 20, 40, 60, 60]
    assert retry_delay(3, base_s=5, max_s=60, rand=lowest) == 10
    assert retry_delay(1, base_s=5, max_s=60, retry_after_s=30, rand=highest) == 30
    spread = {retry_delay(4, base_s=5, max_s=600) for _ in range(50)}
    assert len(spread) > 1 and all(20 <= d <= 40 for d in spread)


# -- periodic work ------------------------------------------------------------------------


def test_the_periodic_hook_runs_at_start_and_then_every_interval(
    make_worker: MakeWorker, clock: Clock
) -> None:
    calls: list[datetime] = []
    seconds = [1000.0]
    worker = make_worker(maintenance_every_s=600.0)
    worker.maintenance = lambda _db, now: calls.append(now)
    worker.monotonic = lambda: seconds[0]

    worker.run(once=True)
    seconds[0] += 599.0
    worker.run(once=True)
    assert len(calls) == 1
    seconds[0] += 1.0  # the interval has passed
    worker.run(once=True)
    assert len(calls) == 2


def test_a_failing_periodic_job_does_not_stop_the_texts(
    db: Session,
    org: Organization,
    queue: Queue,
    make_worker: MakeWorker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    message = queue(org)
    worker = make_worker(maintenance_every_s=600.0)

    def broken(_db: Session, _now: datetime) -> None:
        raise RuntimeError("partition trouble")

    worker.maintenance = broken
    with caplog.at_level(logging.ERROR):
        worker.run(once=True)
    assert "periodic work failed" in caplog.text
    assert reload(db, message).status == "sent"


def test_periodic_work_runs_the_location_maintenance_and_forgets_stale_callbacks(
    app: Any, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fieldapi.locations.maintenance as maintenance

    seen: list[datetime] = []
    monkeypatch.setattr(maintenance, "run_periodic_maintenance", lambda _db, now: seen.append(now))
    now = utcnow()
    receive_status_callback(
        db, sid="SM" + "0" * 32, status="sent", error_code=None, now=now - timedelta(days=8)
    )
    receive_status_callback(
        db, sid="SM" + "1" * 32, status="sent", error_code=None, now=now - timedelta(days=1)
    )

    periodic_work(db, now, app.config)

    assert seen == [now]
    kept = db.scalars(
        select(PendingStatusCallback.message_sid).order_by(PendingStatusCallback.id)
    ).all()
    assert kept == ["SM" + "1" * 32]


# -- configuration ------------------------------------------------------------------------


def test_the_status_callback_url_comes_from_public_base_url(app: Any) -> None:
    config = dict(app.config, PUBLIC_BASE_URL="https://fieldapi.example.com/")
    settings = WorkerSettings.from_config(config)
    assert settings.status_callback_url == "https://fieldapi.example.com/v1/webhooks/twilio/status"


def test_twilio_without_credentials_is_a_clear_setting_error(app: Any) -> None:
    config = dict(app.config, SMS_TRANSPORT="twilio", TWILIO_ACCOUNT_SID="", TWILIO_FROM="")
    with pytest.raises(SettingError, match="TWILIO_ACCOUNT_SID"):
        transport_from_config(config)


def test_a_login_code_is_removed_from_the_outbox_once_sent(
    db: Session, org: Organization, queue: Queue, make_worker: MakeWorker, fake_twilio: FakeTwilio
) -> None:
    code_text = queue(org, body="123456 is your login code.", purpose="passcode")
    notice = queue(org, body="Sam is on the way.", purpose="on_my_way")

    make_worker().run(once=True)

    assert [m.body for m in fake_twilio.messages] == [
        "123456 is your login code.",
        "Sam is on the way.",
    ]
    assert "123456" not in reload(db, code_text).body
    assert reload(db, code_text).status == "sent"
    assert reload(db, notice).body == "Sam is on the way."
