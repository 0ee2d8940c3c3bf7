"""Helpers for the messaging tests: queued texts, jobs, in-process workers, signed webhooks."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.jobs.models import ActivityEvent, Customer, Job
from fieldapi.messaging.models import Message
from fieldapi.messaging.outbox import queue_message
from fieldapi.messaging.signing import SIGNATURE_HEADER
from fieldapi.messaging.transports import Transport
from fieldapi.messaging.twilio_fake import TEST_AUTH_TOKEN, FakeTwilio
from fieldapi.messaging.worker import STATUS_CALLBACK_PATH, Worker, WorkerSettings
from tests.conftest import TEST_CONFIG, ApiClient, unique_phone
from tests.messaging.twilio_server import twilio_transport

PUBLIC_BASE_URL = TEST_CONFIG["PUBLIC_BASE_URL"]
STATUS_URL = PUBLIC_BASE_URL + STATUS_CALLBACK_PATH
INBOUND_URL = PUBLIC_BASE_URL + "/v1/webhooks/twilio/inbound"
REGIONS = ("US", "CA")


@dataclass
class Clock:
    """The workers' clock: real time plus an offset the test moves forward."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def twilio_token(app: Flask, monkeypatch: pytest.MonkeyPatch) -> str:
    """The app checks webhook signatures with the fake Twilio's auth token."""
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", TEST_AUTH_TOKEN)
    return TEST_AUTH_TOKEN


@pytest.fixture
def org(make_org: Callable[..., Organization]) -> Organization:
    return make_org("Done Right Home Services")


@pytest.fixture
def other_org(make_org: Callable[..., Organization]) -> Organization:
    return make_org("Other Plumbing Co")


@pytest.fixture
def make_job(db: Session) -> Callable[..., Job]:
    def make(organization: Organization, customer_phone: str | None = None) -> Job:
        customer = Customer(
            id=uuid.uuid4(),
            organization_id=organization.id,
            name="Pat Customer",
            phone=customer_phone or unique_phone(),
            timezone="America/Chicago",
        )
        job = Job(
            id=uuid.uuid4(),
            organization_id=organization.id,
            customer_id=customer.id,
            title="Fix the sink",
            status="unscheduled",
        )
        db.add(customer)
        db.flush()
        db.add(job)
        db.commit()
        return job

    return make


@pytest.fixture
def queue(db: Session) -> Callable[..., Message]:
    """Queue (and commit) a text, the way services do."""

    def make(
        organization: Organization,
        to: str | None = None,
        body: str = "Sam from Done Right Home Services is on the way.",
        purpose: str = "on_my_way",
        job: Job | None = None,
    ) -> Message:
        message = queue_message(
            db,
            organization_id=organization.id,
            to=to or unique_phone(),
            body=body,
            purpose=purpose,
            allowed_regions=REGIONS,
            job_id=job.id if job else None,
        )
        db.commit()
        return message

    return make


def reload(db: Session, message: Message) -> Message:
    """The message as the database has it now."""
    return db.execute(
        select(Message).where(Message.id == message.id).execution_options(populate_existing=True)
    ).scalar_one()


def activity(db: Session, job: Job) -> list[ActivityEvent]:
    return list(
        db.scalars(
            select(ActivityEvent)
            .where(ActivityEvent.job_id == job.id)
            .order_by(ActivityEvent.id)
            .execution_options(populate_existing=True)
        )
    )


TEST_WORKER_SETTINGS = WorkerSettings(
    status_callback_url=STATUS_URL,
    max_attempts=3,
    retry_base_s=10.0,
    retry_max_s=60.0,
    lease_s=30.0,
    poll_s=0.01,
    maintenance_every_s=0,
)


@pytest.fixture
def make_worker(
    connection: Any, fake_twilio: FakeTwilio, clock: Clock
) -> Iterator[Callable[..., Worker]]:
    """An in-process worker on the test's transaction (its commits release savepoints),
    sending through the real Twilio client to the fake, on the test's clock."""
    opened: list[Any] = []

    def make(name: str = "worker-1", transport: Transport | None = None, **settings: Any) -> Worker:
        if transport is None:
            transport = twilio_transport(fake_twilio, timeout_s=settings.pop("timeout_s", 5.0))
            opened.append(transport)
        sessions = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        return Worker(
            sessions, transport, replace(TEST_WORKER_SETTINGS, **settings), name=name, clock=clock
        )

    yield make
    for transport in opened:
        transport.close()


def post_form(
    client: ApiClient,
    path: str,
    params: Mapping[str, str],
    *,
    signature: str | None = None,
    content_type: str = "application/x-www-form-urlencoded",
    sign_url: str | None = None,
    token: str = TEST_AUTH_TOKEN,
) -> TestResponse:
    """POST `params` form-encoded to `path`, signed as Twilio signs (over the public URL)
    unless `signature` is given ("" for none)."""
    fake = FakeTwilio(auth_token=token)  # only its sign(); not started
    if signature is None:
        signature = fake.sign(sign_url or PUBLIC_BASE_URL + path, params)
    headers = {SIGNATURE_HEADER: signature} if signature else {}
    return client.post(path, data=urlencode(params), headers=headers, content_type=content_type)


@pytest.fixture
def dispatcher_client(
    org: Organization,
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
) -> ApiClient:
    return login_as(make_user(org, role="dispatcher"))
