"""Signed webhooks: queued with the change, sent by the worker's sender with retries and
backoff, in order per job, at least once with a stable event id; failed deliveries are
visible; addresses inside our network are refused at save and at send."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fieldapi.db import utcnow
from fieldapi.enterprise.delivery import WebhookSender, WebhookSettings
from fieldapi.enterprise.models import WebhookDelivery
from fieldapi.enterprise.webhooks import Resolver, UnsafeAddress, check_url, resolve
from tests.conftest import ApiClient
from tests.enterprise.receiver import Receiver, verify


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def later(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_sender(connection: Any, clock: Clock) -> Callable[..., WebhookSender]:
    """A sender on the test's transaction (its commits are savepoints)."""
    sessions = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )

    def make(resolver: Resolver = resolve, **settings: Any) -> WebhookSender:
        values = {"allow_private": True, "retry_base_s": 10, "max_attempts": 4, **settings}
        return WebhookSender(sessions, WebhookSettings(**values), clock=clock, resolver=resolver)

    return make


@pytest.fixture
def allow_loopback(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", True)
    yield


@pytest.fixture
def hooked(allow_loopback: None, manager_client: ApiClient, receiver: Receiver) -> Receiver:
    saved = manager_client.put("/v1/enterprise/webhook", json={"url": receiver.url})
    assert saved.status_code == 200, saved.json
    assert saved.json["url"] == receiver.url and saved.json["secret"].startswith("whsec_")
    receiver.secret = saved.json["secret"]
    return receiver


def drain(sender: WebhookSender, clock: Clock) -> int:
    """Send until nothing is due, an hour later each round (past every backoff)."""
    for sent in range(50):
        clock.later(hours=1)
        if not sender.process_one():
            return sent
    raise AssertionError("deliveries kept coming")


def test_every_change_arrives_signed_in_order_and_a_retry_keeps_the_event_id(
    hooked: Receiver,
    offer: Callable[..., dict[str, Any]],
    dispatcher_client: ApiClient,
    make_sender: Callable[..., WebhookSender],
    clock: Clock,
    db: Session,
) -> None:
    job = offer(external_id="ACME-9")
    dispatcher_client.post(f"/v1/jobs/{job['id']}/actions/accept")
    dispatcher_client.post(
        f"/v1/jobs/{job['id']}/appointments",
        json={"starts_at": (utcnow() + timedelta(hours=3)).isoformat(), "duration_min": 30},
    )
    dispatcher_client.post(
        f"/v1/jobs/{job['id']}/notes", json={"body": "private", "visibility": "private"}
    )
    queued = db.scalars(
        select(WebhookDelivery.event_id)
        .where(WebhookDelivery.job_id == job["id"])
        .order_by(WebhookDelivery.id)
    ).all()
    assert len(queued) == 3  # offered, accepted, booked; the private note is not an event

    sender = make_sender()
    hooked.fail_next = 1
    clock.later(seconds=1)
    assert sender.process_one()  # the first event: 500
    assert hooked.answered == [500]
    assert not sender.process_one()  # its retry is not due, and the others wait behind it
    assert drain(sender, clock) == 3
    assert hooked.rejected == []
    assert hooked.event_ids() == [str(event_id) for event_id in queued]
    types = [event["type"] for event in hooked.received]
    assert types == ["job.create", "job.accept", "job.add_appointment"]
    last = hooked.received[-1]
    assert set(last) == {"id", "type", "at", "job"}
    assert (last["job"]["id"], last["job"]["status"], last["job"]["external_id"]) == (
        job["id"],
        "scheduled",
        "ACME-9",
    )
    assert hooked.received[0]["job"]["status"] == "offered"


def test_after_the_last_attempt_the_delivery_is_failed_and_listed(
    hooked: Receiver,
    offer: Callable[..., dict[str, Any]],
    manager_client: ApiClient,
    make_sender: Callable[..., WebhookSender],
    clock: Clock,
) -> None:
    job = offer()
    hooked.fail_next = 100
    sender = make_sender(max_attempts=3)
    assert drain(sender, clock) == 3
    listed = manager_client.get("/v1/enterprise/webhook/deliveries").json["items"]
    assert [(d["job_id"], d["status"], d["attempts"]) for d in listed] == [(job["id"], "failed", 3)]
    assert [a["status_code"] for a in listed[0]["attempt_log"]] == [500, 500, 500]
    assert listed[0]["next_attempt_at"] is None


def test_a_hanging_receiver_holds_the_sender_no_longer_than_the_timeout(
    hooked: Receiver,
    offer: Callable[..., dict[str, Any]],
    manager_client: ApiClient,
    make_sender: Callable[..., WebhookSender],
    clock: Clock,
) -> None:
    offer()
    hooked.hang_s = 3.0
    sender = make_sender(timeout_s=0.5)
    started = time.monotonic()
    clock.later(seconds=1)
    assert sender.process_one()
    assert time.monotonic() - started < 2.5
    delivery = manager_client.get("/v1/enterprise/webhook/deliveries").json["items"][0]
    assert delivery["status"] == "queued"
    assert "no answer within 0.5 s" in delivery["attempt_log"][0]["error"]


def test_loopback_and_private_addresses_are_refused_at_save(
    manager_client: ApiClient, receiver: Receiver
) -> None:
    for url in (
        receiver.url,
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/",
        "http://localhost/hook",
        "ftp://example.com/hook",
        "not a url",
    ):
        answer = manager_client.put("/v1/enterprise/webhook", json={"url": url})
        assert answer.status_code == 422, url
        assert "url" in answer.json["errors"]


def test_only_http_urls_even_when_loopback_is_allowed(
    allow_loopback: None, manager_client: ApiClient
) -> None:
    answer = manager_client.put("/v1/enterprise/webhook", json={"url": "file:///etc/passwd"})
    assert answer.status_code == 422


def test_a_public_name_that_resolves_inside_is_refused() -> None:
    def inside(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "192.168.1.10"]

    with pytest.raises(UnsafeAddress, match=r"192\.168\.1\.10"):
        check_url("https://hooks.example.com/x", allow_private=False, resolver=inside)
    assert check_url(
        "https://hooks.example.com/x", allow_private=False, resolver=lambda h, p: ["93.184.216.34"]
    )


def test_an_address_allowed_at_save_is_refused_at_send_without_the_setting(
    hooked: Receiver,
    offer: Callable[..., dict[str, Any]],
    manager_client: ApiClient,
    make_sender: Callable[..., WebhookSender],
    clock: Clock,
) -> None:
    offer()
    sender = make_sender(allow_private=False, max_attempts=1)
    clock.later(seconds=1)
    assert sender.process_one()
    assert hooked.answered == []
    delivery = manager_client.get("/v1/enterprise/webhook/deliveries").json["items"][0]
    assert delivery["status"] == "failed"
    assert delivery["attempt_log"][0]["error"].startswith("refused")


def test_the_documented_scheme_rejects_a_forged_or_stale_signature() -> None:
    body = b'{"id":"x"}'
    from fieldapi.enterprise.webhooks import sign

    now = int(time.time())
    good = sign("whsec_k", now, body)
    assert verify("whsec_k", good, body, now=now)
    assert not verify("whsec_other", good, body, now=now)
    assert not verify("whsec_k", good, body + b" ", now=now)
    assert not verify("whsec_k", sign("whsec_k", now - 3600, body), body, now=now)


def test_no_webhook_no_deliveries(
    offer: Callable[..., dict[str, Any]], manager_client: ApiClient, db: Session
) -> None:
    offer()
    assert manager_client.get("/v1/enterprise/webhook/deliveries").json["items"] == []


def with_offsets(answer: Any) -> Any:
    """The API's answer with its times as events carry them: `+00:00` for `Z`."""
    if isinstance(answer, dict):
        return {key: with_offsets(value) for key, value in answer.items()}
    if isinstance(answer, list):
        return [with_offsets(value) for value in answer]
    if isinstance(answer, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", answer):
        return answer[:-1] + "+00:00"
    return answer


def test_an_event_carries_the_job_as_the_api_answers_it(
    allow_loopback: None,
    offer: Callable[..., dict[str, Any]],
    manager_client: ApiClient,
    dispatcher_client: ApiClient,
    db: Session,
) -> None:
    saved = manager_client.put("/v1/enterprise/webhook", json={"url": "http://127.0.0.1:9/h"})
    assert saved.status_code == 200, saved.json
    booked = offer(external_id="ACME-7", description="Leaks under the sink")
    declined = offer()
    dispatcher_client.post(f"/v1/jobs/{booked['id']}/actions/accept")
    starts_at = (utcnow() + timedelta(hours=3)).replace(microsecond=0)
    answer = dispatcher_client.post(
        f"/v1/jobs/{booked['id']}/appointments",
        json={"starts_at": starts_at.isoformat(), "duration_min": 45},
    )
    assert answer.status_code == 201, answer.json
    assert dispatcher_client.post(f"/v1/jobs/{declined['id']}/actions/decline").status_code == 204

    for job in (booked, declined):
        last = db.scalars(
            select(WebhookDelivery.payload)
            .where(WebhookDelivery.job_id == job["id"])
            .order_by(WebhookDelivery.id.desc())
        ).first()
        seen = manager_client.get(f"/v1/enterprise/jobs/{job['id']}").json
        assert last is not None and last["job"] == with_offsets(seen)
    assert last["job"]["status"] == "declined" and last["job"]["appointments"] == []
    booked_seen = manager_client.get(f"/v1/enterprise/jobs/{booked['id']}").json
    assert [(a["starts_at"], a["duration_min"]) for a in booked_seen["appointments"]] == [
        (starts_at.isoformat().replace("+00:00", "Z"), 45)
    ]


def rename_host(receiver: Receiver, manager_client: ApiClient, host: str) -> str:
    """The receiver's webhook saved under another host name (loopback allowed at save)."""
    url = receiver.url.replace("127.0.0.1", host)
    saved = manager_client.put("/v1/enterprise/webhook", json={"url": url})
    assert saved.status_code == 200, saved.json
    receiver.secret = saved.json["secret"]
    return url


def test_a_delivery_connects_to_the_address_the_check_resolved(
    hooked: Receiver,
    offer: Callable[..., dict[str, Any]],
    manager_client: ApiClient,
    make_sender: Callable[..., WebhookSender],
    clock: Clock,
) -> None:
    # A name no DNS here answers: the delivery can only reach the receiver by the address
    # the sender's own lookup gave, and the receiver still hears the name.
    url = rename_host(hooked, manager_client, "hooks.example.test")
    offer()
    sender = make_sender(resolver=lambda host, port: ["127.0.0.1"])
    clock.later(seconds=1)
    assert sender.process_one()
    assert hooked.answered == [200]
    assert hooked.hosts == [url.split("/")[2]]


def test_a_name_that_answers_otherwise_after_the_check_is_not_followed(
    hooked: Receiver,
    offer: Callable[..., dict[str, Any]],
    manager_client: ApiClient,
    make_sender: Callable[..., WebhookSender],
    clock: Clock,
) -> None:
    # DNS rebinding: the check is told a public address, the connection would be told
    # 127.0.0.1 (what `localhost` resolves to here). The sender keeps to the checked one.
    rename_host(hooked, manager_client, "localhost")
    offer()
    public = "93.184.216.34"
    sender = make_sender(
        allow_private=False, max_attempts=1, timeout_s=0.5, resolver=lambda host, port: [public]
    )
    clock.later(seconds=1)
    assert sender.process_one()
    assert hooked.answered == []
    delivery = manager_client.get("/v1/enterprise/webhook/deliveries").json["items"][0]
    assert delivery["status"] == "failed"
    assert not delivery["attempt_log"][0]["error"].startswith("refused")
