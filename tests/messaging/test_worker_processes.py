"""`fieldapi worker` as real processes over real commits, against the local Twilio server:
two workers send 200 texts exactly once, a worker killed mid-send loses nothing, SIGTERM
finishes the text in hand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi.messaging.models import Message
from fieldapi.messaging.outbox import queue_message
from fieldapi.messaging.twilio_fake import FakeTwilio
from fieldapi.onboarding import create_organization
from fieldapi.paths import project_root
from tests.conftest import TEST_SECRET_KEY, unique_phone
from tests.messaging.conftest import REGIONS

DEADLINE_S = 25.0


def wait_until(condition: Callable[[], Any], what: str, timeout_s: float = DEADLINE_S) -> Any:
    """Poll `condition` until it is truthy; fail the test naming `what` after the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


class WorkerProcess:
    """One `fieldapi worker` process, its output in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._output = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fieldapi.cli", "worker"],
            env=env,
            cwd=project_root(),
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )
        self.name = f"{os.uname().nodename}:{self.process.pid}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_started(self) -> None:
        wait_until(
            lambda: "started" in self.output() or self.process.poll() is not None,
            f"worker {self.name} to start",
        )
        assert self.process.poll() is None, self.output()

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout_s: float = 15.0) -> int:
        return self.process.wait(timeout=timeout_s)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._output.close()


@pytest.fixture
def worker_env(
    database_url: str, fake_twilio: FakeTwilio, tmp_path: Path
) -> Callable[..., dict[str, str]]:
    def env(**overrides: str) -> dict[str, str]:
        values = dict(os.environ)
        values.update(fake_twilio.env())
        values.update(
            DATABASE_URL=database_url,
            FIELDAPI_ENV="test",
            SECRET_KEY=TEST_SECRET_KEY,
            FIELDAPI_VAR_DIR=str(tmp_path / "var"),
            PUBLIC_BASE_URL="http://127.0.0.1:8000",
            WORKER_POLL_SECONDS="0.05",
            WORKER_MAINTENANCE_MINUTES="0",
            PYTHONUNBUFFERED="1",
        )
        values.update(overrides)
        return values

    return env


@pytest.fixture
def start_worker(
    committed: Session, worker_env: Callable[..., dict[str, str]], tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    """Starts worker processes; any still running at the end are killed (before the
    `committed` fixture empties the tables)."""
    started: list[WorkerProcess] = []

    def start(**env: str) -> WorkerProcess:
        worker = WorkerProcess(worker_env(**env), tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.close()


@pytest.fixture
def organization_id(committed: Session) -> uuid.UUID:
    organization, _owner = create_organization(
        committed,
        name="Done Right Home Services",
        owner_name="Dana Reyes",
        owner_phone=unique_phone(),
        timezone="America/Chicago",
    )
    committed.commit()
    return organization.id


def queue_texts(db: Session, organization_id: uuid.UUID, count: int) -> dict[uuid.UUID, str]:
    """`count` texts committed together; their ids and bodies."""
    bodies = {}
    for n in range(count):
        message = queue_message(
            db,
            organization_id=organization_id,
            to=unique_phone(),
            body=f"text number {n}",
            purpose="on_my_way",
            allowed_regions=REGIONS,
        )
        bodies[message.id] = message.body
    db.commit()
    return bodies


def statuses(db: Session) -> dict[str, int]:
    db.rollback()  # a fresh snapshot
    rows = db.execute(select(Message.status, func.count()).group_by(Message.status)).all()
    return {status: count for status, count in rows}


def test_two_workers_send_200_texts_each_exactly_once(
    committed: Session,
    organization_id: uuid.UUID,
    start_worker: Callable[..., WorkerProcess],
    fake_twilio: FakeTwilio,
) -> None:
    workers = [start_worker(), start_worker()]
    for worker in workers:
        worker.wait_started()

    bodies = queue_texts(committed, organization_id, 200)
    wait_until(lambda: statuses(committed).get("sent") == 200, "200 sent texts")
    for worker in workers:
        worker.signal(signal.SIGTERM)
    assert [worker.wait() for worker in workers] == [0, 0]

    at_twilio = fake_twilio.messages
    assert len(at_twilio) == 200
    assert sorted(m.body for m in at_twilio) == sorted(bodies.values())
    rows = committed.execute(
        select(Message.id, Message.twilio_sid, Message.attempts, Message.leased_by)
    ).all()
    assert {row.twilio_sid for row in rows} == {m.sid for m in at_twilio}
    assert {row.attempts for row in rows} == {1}
    assert {row.leased_by for row in rows} == {worker.name for worker in workers}


def test_a_worker_killed_mid_send_loses_nothing(
    committed: Session,
    organization_id: uuid.UUID,
    start_worker: Callable[..., WorkerProcess],
    fake_twilio: FakeTwilio,
) -> None:
    settings = {"SMS_LEASE_SECONDS": "2", "TWILIO_TIMEOUT_SECONDS": "30"}
    fake_twilio.delay_next(60)  # Twilio hangs on the first send
    doomed = start_worker(**settings)
    [message_id] = queue_texts(committed, organization_id, 1)

    def held() -> bool:
        committed.rollback()
        message = committed.get_one(Message, (organization_id, message_id), populate_existing=True)
        return message.status == "sending" and message.leased_by == doomed.name

    wait_until(held, "the first worker to hold the text")
    doomed.signal(signal.SIGKILL)
    assert doomed.wait() == -signal.SIGKILL
    fake_twilio.clear_failures()  # in case the killed worker had not reached Twilio yet

    rescuer = start_worker(**settings)

    def sent() -> Message | None:
        committed.rollback()
        message = committed.get_one(Message, (organization_id, message_id), populate_existing=True)
        return message if message.status == "sent" else None

    message = wait_until(sent, "the second worker to send the text after the lease")
    assert message.leased_by == rescuer.name
    assert message.attempts == 2
    [at_twilio] = fake_twilio.messages  # the hung request was never answered
    assert at_twilio.sid == message.twilio_sid
    rescuer.signal(signal.SIGTERM)
    assert rescuer.wait() == 0


def test_sigterm_finishes_the_text_in_hand_then_exits(
    committed: Session,
    organization_id: uuid.UUID,
    start_worker: Callable[..., WorkerProcess],
    fake_twilio: FakeTwilio,
) -> None:
    fake_twilio.delay_next(1.5)  # the first send takes a while
    ids = list(queue_texts(committed, organization_id, 2))
    worker = start_worker()

    def in_hand() -> uuid.UUID | None:
        committed.rollback()
        return committed.scalar(select(Message.id).where(Message.status == "sending"))

    held = wait_until(in_hand, "the worker to hold a text")
    worker.signal(signal.SIGTERM)

    assert worker.wait() == 0
    committed.rollback()
    rows = {row.id: row for row in committed.execute(select(Message)).scalars()}
    assert rows[held].status == "sent" and rows[held].twilio_sid is not None
    [other] = set(ids) - {held}
    assert (rows[other].status, rows[other].attempts) == ("queued", 0)
    assert [m.sid for m in fake_twilio.messages] == [rows[held].twilio_sid]
    assert "SIGTERM" in worker.output() and "stopped after 1 texts" in worker.output()


def test_a_misconfigured_worker_says_what_is_missing(
    start_worker: Callable[..., WorkerProcess],
) -> None:
    worker = start_worker(TWILIO_ACCOUNT_SID="", TWILIO_FROM="")
    assert worker.wait() == 1
    assert "TWILIO_ACCOUNT_SID" in worker.output()
    assert "Traceback" not in worker.output()
